package wsa

import (
	"encoding/binary"
	"os"
	"sync/atomic"
)

// IPMreq is struct ip_mreq (IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP): the group
// and the local interface address. Its wire form is 8 bytes.
type IPMreq struct {
	Multiaddr [4]byte
	Interface [4]byte
}

// Marshal writes the 8-byte ip_mreq (WSAEFAULT if b is short).
func (m *IPMreq) Marshal(b []byte) (int32, error) {
	if len(b) < 8 {
		return 0, WSAEFAULT
	}
	copy(b[0:4], m.Multiaddr[:])
	copy(b[4:8], m.Interface[:])
	return 8, nil
}

// TransmitFileBuffers is TRANSMIT_FILE_BUFFERS: data sent before and after
// the file by TransmitFile.
type TransmitFileBuffers struct {
	Head []byte
	Tail []byte
}

// TransmitPacketsElement is TRANSMIT_PACKETS_ELEMENT. Flags is TP_ELEMENT_*:
// a memory element sends Buffer; a file element sends Length bytes of File
// from FileOffset (Length 0: to the end of the file); TP_ELEMENT_EOP ends a
// packet.
type TransmitPacketsElement struct {
	Flags      uint32
	Length     uint32
	FileOffset int64
	File       *os.File
	Buffer     []byte
}

// WSAMsg is WSAMSG for WSASendMsg and WSARecvMsg. Name is the peer address
// (in for WSASendMsg; out for WSARecvMsg). Control holds WSACMSGHDR records
// in the Windows layout (see CmsgAppend and ParseControl); on return from
// WSARecvMsg it is resliced to the bytes written. Flags is dwFlags: in
// MSG_PEEK; out MSG_TRUNC, MSG_CTRUNC, MSG_BCAST, MSG_MCAST.
type WSAMsg struct {
	Name    Sockaddr
	Buffers [][]byte
	Control []byte
	Flags   uint32
}

// InPktinfo is IN_PKTINFO (IP_PKTINFO control data): the local address a
// datagram was received on or is sent from, and the interface index.
type InPktinfo struct {
	Addr    [4]byte
	Ifindex uint32
}

// In6Pktinfo is IN6_PKTINFO (IPV6_PKTINFO control data).
type In6Pktinfo struct {
	Addr    [16]byte
	Ifindex uint32
}

// Control messages: WSACMSGHDR is {SIZE_T cmsg_len; INT cmsg_level; INT
// cmsg_type} (16 bytes on Win64), data aligned to 8 bytes
// (MAX_NATURAL_ALIGNMENT).
const (
	SizeofCmsghdr = 16
	cmsgAlign     = 8
)

func cmsgAlignUp(n int) int { return (n + cmsgAlign - 1) &^ (cmsgAlign - 1) }

// WSA_CMSG_SPACE is the bytes a control message with n data bytes takes.
func WSA_CMSG_SPACE(n int) int { return SizeofCmsghdr + cmsgAlignUp(n) }

// WSA_CMSG_LEN is cmsg_len for n data bytes.
func WSA_CMSG_LEN(n int) int { return SizeofCmsghdr + n }

// Cmsg is one decoded control message.
type Cmsg struct {
	Level int32
	Type  int32
	Data  []byte
}

// CmsgAppend appends a control message to b in the Windows layout.
func CmsgAppend(b []byte, level, typ int32, data []byte) []byte {
	var h [SizeofCmsghdr]byte
	binary.LittleEndian.PutUint64(h[0:], uint64(WSA_CMSG_LEN(len(data))))
	binary.LittleEndian.PutUint32(h[8:], uint32(level))
	binary.LittleEndian.PutUint32(h[12:], uint32(typ))
	b = append(b, h[:]...)
	b = append(b, data...)
	for i := len(data); i < cmsgAlignUp(len(data)); i++ {
		b = append(b, 0)
	}
	return b
}

// ParseControl decodes the control messages in b. A malformed record is
// WSAEINVAL.
func ParseControl(b []byte) ([]Cmsg, error) {
	var out []Cmsg
	for len(b) > 0 {
		if len(b) < SizeofCmsghdr {
			return nil, WSAEINVAL
		}
		l := binary.LittleEndian.Uint64(b[0:])
		if l < SizeofCmsghdr || l > uint64(len(b)) {
			return nil, WSAEINVAL
		}
		out = append(out, Cmsg{
			Level: int32(binary.LittleEndian.Uint32(b[8:])),
			Type:  int32(binary.LittleEndian.Uint32(b[12:])),
			Data:  b[SizeofCmsghdr:l],
		})
		next := SizeofCmsghdr + cmsgAlignUp(int(l)-SizeofCmsghdr)
		if next >= len(b) {
			break
		}
		b = b[next:]
	}
	return out, nil
}

// Marshal returns the 8-byte IN_PKTINFO.
func (p *InPktinfo) Marshal() []byte {
	b := make([]byte, 8)
	copy(b, p.Addr[:])
	binary.LittleEndian.PutUint32(b[4:], p.Ifindex)
	return b
}

// Marshal returns the 20-byte IN6_PKTINFO.
func (p *In6Pktinfo) Marshal() []byte {
	b := make([]byte, 20)
	copy(b, p.Addr[:])
	binary.LittleEndian.PutUint32(b[16:], p.Ifindex)
	return b
}

// UnmarshalInPktinfo decodes IN_PKTINFO (WSAEFAULT if short).
func UnmarshalInPktinfo(b []byte) (InPktinfo, error) {
	if len(b) < 8 {
		return InPktinfo{}, WSAEFAULT
	}
	var p InPktinfo
	copy(p.Addr[:], b)
	p.Ifindex = binary.LittleEndian.Uint32(b[4:])
	return p, nil
}

// UnmarshalIn6Pktinfo decodes IN6_PKTINFO (WSAEFAULT if short).
func UnmarshalIn6Pktinfo(b []byte) (In6Pktinfo, error) {
	if len(b) < 20 {
		return In6Pktinfo{}, WSAEFAULT
	}
	var p In6Pktinfo
	copy(p.Addr[:], b)
	p.Ifindex = binary.LittleEndian.Uint32(b[16:])
	return p, nil
}

// HasOverlappedIoCompleted is the HasOverlappedIoCompleted macro: Internal is
// no longer WSS_OPERATION_IN_PROGRESS. It reads Internal atomically, so it is
// safe while the operation completes in another goroutine.
func HasOverlappedIoCompleted(o *Overlapped) bool {
	return atomic.LoadUintptr(&o.Internal) != WSS_OPERATION_IN_PROGRESS
}

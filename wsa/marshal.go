package wsa

import (
	"encoding/binary"
	"unicode/utf16"
)

// This file holds the Windows binary forms of the fixed-layout structures
// (little-endian, natural alignment, Win64 sizes) and the option-buffer
// helpers that getsockopt/setsockopt/WSAIoctl implementations share. Every
// Marshal reports WSAEFAULT when the buffer is shorter than the structure,
// as Windows does for a short optlen or cbOutBuffer; extra bytes are left
// untouched. Every Unmarshal reads only the structure's size and reports
// WSAEFAULT for a short buffer.

// Sizes of the binary forms.
const (
	SizeofLinger        = 4  // struct linger: two u_short
	SizeofTCPKeepalive  = 12 // struct tcp_keepalive: three u_long
	SizeofPollFd        = 16 // WSAPOLLFD on Win64: SOCKET (8), SHORT, SHORT, 4 bytes padding
	SizeofNetworkEvents = 44 // WSANETWORKEVENTS: LONG + int[FD_MAX_EVENTS]
	SizeofTimeval       = 8  // struct timeval: two LONG
	SizeofInt32         = 4  // int, DWORD, u_long, BOOL
)

// Offsets of the WSAPROTOCOL_INFOW fields (spec §4.1).
const (
	offServiceFlags1     = 0
	offServiceFlags2     = 4
	offServiceFlags3     = 8
	offServiceFlags4     = 12
	offProviderFlags     = 16
	offProviderID        = 20
	offCatalogEntryID    = 36
	offChainLen          = 40
	offChainEntries      = 44
	offVersion           = 72
	offAddressFamily     = 76
	offMaxSockAddr       = 80
	offMinSockAddr       = 84
	offSocketType        = 88
	offProtocol          = 92
	offProtocolMaxOffset = 96
	offNetworkByteOrder  = 100
	offSecurityScheme    = 104
	offMessageSize       = 108
	offProviderReserved  = 112
	offProtocolName      = 116
)

// Marshal writes the 628-byte WSAPROTOCOL_INFOW form of p into b. The name is
// written as UTF-16LE, NUL-terminated, with the rest of szProtocol zeroed. A
// buffer shorter than SizeofProtocolInfo is WSAEFAULT; a name longer than
// WSAPROTOCOL_LEN UTF-16 units, or containing a NUL, is WSAEINVAL (nothing is
// written then).
func (p *ProtocolInfo) Marshal(b []byte) error {
	if len(b) < SizeofProtocolInfo {
		return WSAEFAULT
	}
	name := utf16.Encode([]rune(p.ProtocolName))
	if len(name) > WSAPROTOCOL_LEN {
		return WSAEINVAL
	}
	for _, u := range name {
		if u == 0 {
			return WSAEINVAL
		}
	}
	le := binary.LittleEndian
	le.PutUint32(b[offServiceFlags1:], p.ServiceFlags1)
	le.PutUint32(b[offServiceFlags2:], p.ServiceFlags2)
	le.PutUint32(b[offServiceFlags3:], p.ServiceFlags3)
	le.PutUint32(b[offServiceFlags4:], p.ServiceFlags4)
	le.PutUint32(b[offProviderFlags:], p.ProviderFlags)
	_ = p.ProviderId.Marshal(b[offProviderID:])
	le.PutUint32(b[offCatalogEntryID:], p.CatalogEntryId)
	le.PutUint32(b[offChainLen:], uint32(p.ProtocolChain.ChainLen))
	for i, e := range p.ProtocolChain.ChainEntries {
		le.PutUint32(b[offChainEntries+4*i:], e)
	}
	le.PutUint32(b[offVersion:], uint32(p.Version))
	le.PutUint32(b[offAddressFamily:], uint32(p.AddressFamily))
	le.PutUint32(b[offMaxSockAddr:], uint32(p.MaxSockAddr))
	le.PutUint32(b[offMinSockAddr:], uint32(p.MinSockAddr))
	le.PutUint32(b[offSocketType:], uint32(p.SocketType))
	le.PutUint32(b[offProtocol:], uint32(p.Protocol))
	le.PutUint32(b[offProtocolMaxOffset:], uint32(p.ProtocolMaxOffset))
	le.PutUint32(b[offNetworkByteOrder:], uint32(p.NetworkByteOrder))
	le.PutUint32(b[offSecurityScheme:], uint32(p.SecurityScheme))
	le.PutUint32(b[offMessageSize:], p.MessageSize)
	le.PutUint32(b[offProviderReserved:], p.ProviderReserved)
	nb := b[offProtocolName:SizeofProtocolInfo]
	clear(nb)
	for i, u := range name {
		le.PutUint16(nb[2*i:], u)
	}
	return nil
}

// UnmarshalProtocolInfo reads a 628-byte WSAPROTOCOL_INFOW. A buffer shorter
// than SizeofProtocolInfo is WSAEFAULT; a szProtocol with no NUL in its 256
// units is WSAEINVAL. The name ends at the first NUL; unpaired surrogates
// become U+FFFD.
func UnmarshalProtocolInfo(b []byte) (ProtocolInfo, error) {
	if len(b) < SizeofProtocolInfo {
		return ProtocolInfo{}, WSAEFAULT
	}
	le := binary.LittleEndian
	nb := b[offProtocolName:SizeofProtocolInfo]
	n := -1
	for i := 0; i <= WSAPROTOCOL_LEN; i++ {
		if le.Uint16(nb[2*i:]) == 0 {
			n = i
			break
		}
	}
	if n < 0 {
		return ProtocolInfo{}, WSAEINVAL
	}
	name := make([]uint16, n)
	for i := range name {
		name[i] = le.Uint16(nb[2*i:])
	}
	var p ProtocolInfo
	p.ServiceFlags1 = le.Uint32(b[offServiceFlags1:])
	p.ServiceFlags2 = le.Uint32(b[offServiceFlags2:])
	p.ServiceFlags3 = le.Uint32(b[offServiceFlags3:])
	p.ServiceFlags4 = le.Uint32(b[offServiceFlags4:])
	p.ProviderFlags = le.Uint32(b[offProviderFlags:])
	p.ProviderId, _ = UnmarshalGUID(b[offProviderID:])
	p.CatalogEntryId = le.Uint32(b[offCatalogEntryID:])
	p.ProtocolChain.ChainLen = int32(le.Uint32(b[offChainLen:]))
	for i := range p.ProtocolChain.ChainEntries {
		p.ProtocolChain.ChainEntries[i] = le.Uint32(b[offChainEntries+4*i:])
	}
	p.Version = int32(le.Uint32(b[offVersion:]))
	p.AddressFamily = int32(le.Uint32(b[offAddressFamily:]))
	p.MaxSockAddr = int32(le.Uint32(b[offMaxSockAddr:]))
	p.MinSockAddr = int32(le.Uint32(b[offMinSockAddr:]))
	p.SocketType = int32(le.Uint32(b[offSocketType:]))
	p.Protocol = int32(le.Uint32(b[offProtocol:]))
	p.ProtocolMaxOffset = int32(le.Uint32(b[offProtocolMaxOffset:]))
	p.NetworkByteOrder = int32(le.Uint32(b[offNetworkByteOrder:]))
	p.SecurityScheme = int32(le.Uint32(b[offSecurityScheme:]))
	p.MessageSize = le.Uint32(b[offMessageSize:])
	p.ProviderReserved = le.Uint32(b[offProviderReserved:])
	p.ProtocolName = string(utf16.Decode(name))
	return p, nil
}

// Marshal writes struct linger (l_onoff, l_linger as little-endian u_short).
func (l Linger) Marshal(b []byte) error {
	if len(b) < SizeofLinger {
		return WSAEFAULT
	}
	binary.LittleEndian.PutUint16(b[0:], l.Onoff)
	binary.LittleEndian.PutUint16(b[2:], l.Linger)
	return nil
}

// UnmarshalLinger reads struct linger.
func UnmarshalLinger(b []byte) (Linger, error) {
	if len(b) < SizeofLinger {
		return Linger{}, WSAEFAULT
	}
	return Linger{
		Onoff:  binary.LittleEndian.Uint16(b[0:]),
		Linger: binary.LittleEndian.Uint16(b[2:]),
	}, nil
}

// Marshal writes struct tcp_keepalive (onoff, keepalivetime,
// keepaliveinterval as little-endian u_long).
func (k TCPKeepalive) Marshal(b []byte) error {
	if len(b) < SizeofTCPKeepalive {
		return WSAEFAULT
	}
	binary.LittleEndian.PutUint32(b[0:], k.Onoff)
	binary.LittleEndian.PutUint32(b[4:], k.Time)
	binary.LittleEndian.PutUint32(b[8:], k.Interval)
	return nil
}

// UnmarshalTCPKeepalive reads struct tcp_keepalive.
func UnmarshalTCPKeepalive(b []byte) (TCPKeepalive, error) {
	if len(b) < SizeofTCPKeepalive {
		return TCPKeepalive{}, WSAEFAULT
	}
	return TCPKeepalive{
		Onoff:    binary.LittleEndian.Uint32(b[0:]),
		Time:     binary.LittleEndian.Uint32(b[4:]),
		Interval: binary.LittleEndian.Uint32(b[8:]),
	}, nil
}

// Marshal writes WSAPOLLFD in its Win64 layout: fd (8 bytes), events,
// revents, then 4 zero padding bytes.
func (p PollFd) Marshal(b []byte) error {
	if len(b) < SizeofPollFd {
		return WSAEFAULT
	}
	binary.LittleEndian.PutUint64(b[0:], uint64(p.Fd))
	binary.LittleEndian.PutUint16(b[8:], uint16(p.Events))
	binary.LittleEndian.PutUint16(b[10:], uint16(p.REvents))
	clear(b[12:16])
	return nil
}

// UnmarshalPollFd reads WSAPOLLFD in its Win64 layout.
func UnmarshalPollFd(b []byte) (PollFd, error) {
	if len(b) < SizeofPollFd {
		return PollFd{}, WSAEFAULT
	}
	return PollFd{
		Fd:      Socket(binary.LittleEndian.Uint64(b[0:])),
		Events:  int16(binary.LittleEndian.Uint16(b[8:])),
		REvents: int16(binary.LittleEndian.Uint16(b[10:])),
	}, nil
}

// Marshal writes WSANETWORKEVENTS: lNetworkEvents then iErrorCode[10].
func (n *NetworkEvents) Marshal(b []byte) error {
	if len(b) < SizeofNetworkEvents {
		return WSAEFAULT
	}
	binary.LittleEndian.PutUint32(b[0:], uint32(n.NetworkEvents))
	for i, e := range n.ErrorCode {
		binary.LittleEndian.PutUint32(b[4+4*i:], uint32(e))
	}
	return nil
}

// UnmarshalNetworkEvents reads WSANETWORKEVENTS.
func UnmarshalNetworkEvents(b []byte) (NetworkEvents, error) {
	if len(b) < SizeofNetworkEvents {
		return NetworkEvents{}, WSAEFAULT
	}
	var n NetworkEvents
	n.NetworkEvents = int32(binary.LittleEndian.Uint32(b[0:]))
	for i := range n.ErrorCode {
		n.ErrorCode[i] = int32(binary.LittleEndian.Uint32(b[4+4*i:]))
	}
	return n, nil
}

// Marshal writes struct timeval (tv_sec, tv_usec as little-endian LONG).
func (t Timeval) Marshal(b []byte) error {
	if len(b) < SizeofTimeval {
		return WSAEFAULT
	}
	binary.LittleEndian.PutUint32(b[0:], uint32(t.Sec))
	binary.LittleEndian.PutUint32(b[4:], uint32(t.Usec))
	return nil
}

// UnmarshalTimeval reads struct timeval.
func UnmarshalTimeval(b []byte) (Timeval, error) {
	if len(b) < SizeofTimeval {
		return Timeval{}, WSAEFAULT
	}
	return Timeval{
		Sec:  int32(binary.LittleEndian.Uint32(b[0:])),
		Usec: int32(binary.LittleEndian.Uint32(b[4:])),
	}, nil
}

// Option-buffer helpers. getsockopt/setsockopt/ioctl implementations use
// them for the int, DWORD and BOOL options: Put* writes the 4-byte
// little-endian value and returns the length written (the new *optlen),
// Get* reads it. A buffer shorter than 4 bytes is WSAEFAULT in both
// directions; longer buffers are accepted and only the first 4 bytes are
// used.
//
// BOOL is the Win32 4-byte int. Windows' TCP/IP provider reads *(BOOL*)optval
// only when optlen >= sizeof(BOOL) and fails WSAEFAULT otherwise; the 1-byte
// BOOL that some BSD-ported code passes is therefore refused here too
// (WSAEFAULT), never read as a char.

// PutInt32 writes v as a 4-byte little-endian int and returns 4.
func PutInt32(b []byte, v int32) (int32, error) {
	return PutUint32(b, uint32(v))
}

// GetInt32 reads a 4-byte little-endian int.
func GetInt32(b []byte) (int32, error) {
	v, err := GetUint32(b)
	return int32(v), err
}

// PutUint32 writes v as a 4-byte little-endian DWORD and returns 4.
func PutUint32(b []byte, v uint32) (int32, error) {
	if len(b) < SizeofInt32 {
		return 0, WSAEFAULT
	}
	binary.LittleEndian.PutUint32(b, v)
	return SizeofInt32, nil
}

// GetUint32 reads a 4-byte little-endian DWORD.
func GetUint32(b []byte) (uint32, error) {
	if len(b) < SizeofInt32 {
		return 0, WSAEFAULT
	}
	return binary.LittleEndian.Uint32(b), nil
}

// PutBool writes v as a 4-byte BOOL (TRUE = 1, FALSE = 0) and returns 4.
func PutBool(b []byte, v bool) (int32, error) {
	var x uint32
	if v {
		x = 1
	}
	return PutUint32(b, x)
}

// GetBool reads a 4-byte BOOL: any non-zero value is TRUE.
func GetBool(b []byte) (bool, error) {
	v, err := GetUint32(b)
	return v != 0, err
}

package wsp

import (
	"encoding/binary"

	"github.com/ws2go/ws2/wsa"
)

// The AcceptEx output buffer (spec §5.10): the first data
// (receiveDataLength bytes), then the local and the remote address blocks,
// each an int32 length followed by the sockaddr (Wine's layout), which
// GetAcceptExSockaddrs parses.

// PutAddrBlock writes an AcceptEx address block: an int32 length, then the
// sockaddr. b is at least the sockaddr size + 16.
func PutAddrBlock(b []byte, sa wsa.Sockaddr) {
	binary.LittleEndian.PutUint32(b, uint32(sa.Len()))
	_, _ = sa.Marshal(b[4:])
}

// PutAcceptExAddrs writes the local and remote address blocks after the
// first data.
func PutAcceptExAddrs(buf []byte, rxLen, localLen, remoteLen uint32, local, remote wsa.Sockaddr) {
	b := buf[rxLen:]
	PutAddrBlock(b[:localLen], local)
	PutAddrBlock(b[localLen:localLen+remoteLen], remote)
}

// GetAcceptExSockaddrs is GetAcceptExSockaddrs: it parses the address
// blocks AcceptEx wrote after the first data. A buffer shorter than the
// three lengths is WSAEFAULT; a block that holds no sockaddr WSAEINVAL.
func GetAcceptExSockaddrs(buf []byte, rxLen, localLen, remoteLen uint32) (wsa.Sockaddr, wsa.Sockaddr, error) {
	if uint64(len(buf)) < uint64(rxLen)+uint64(localLen)+uint64(remoteLen) {
		return nil, nil, wsa.WSAEFAULT
	}
	b := buf[rxLen:]
	local, err := parseAddrBlock(b[:localLen])
	if err != nil {
		return nil, nil, err
	}
	remote, err := parseAddrBlock(b[localLen : localLen+remoteLen])
	if err != nil {
		return nil, nil, err
	}
	return local, remote, nil
}

func parseAddrBlock(b []byte) (wsa.Sockaddr, error) {
	if len(b) < 4 {
		return nil, wsa.WSAEFAULT
	}
	n := binary.LittleEndian.Uint32(b)
	if n < 2 || uint64(n) > uint64(len(b)-4) {
		return nil, wsa.WSAEINVAL
	}
	sa, err := wsa.ParseSockaddr(b[4 : 4+n])
	if err != nil {
		return nil, wsa.WSAEINVAL
	}
	return sa, nil
}

// CheckAcceptExLengths checks AcceptEx's lengths for sockaddrs of up to
// maxSockAddr bytes: each address length at least maxSockAddr + 16 and buf
// large enough for the three (else WSAEFAULT).
func CheckAcceptExLengths(buf []byte, rxLen, localLen, remoteLen uint32, maxSockAddr int32) error {
	least := uint32(maxSockAddr) + 16
	if localLen < least || remoteLen < least ||
		uint64(len(buf)) < uint64(rxLen)+uint64(localLen)+uint64(remoteLen) {
		return wsa.WSAEFAULT
	}
	return nil
}

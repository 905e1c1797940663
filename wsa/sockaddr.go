package wsa

import (
	"encoding/binary"
	"net/netip"
)

// Sockaddr is a socket address with its family: the Go form of a sockaddr
// pointer and its length, as in golang.org/x/sys/windows. The concrete types
// are *SockaddrInet4 and *SockaddrInet6. A Sockaddr is a value the caller owns;
// ws2 never keeps or changes one it is given.
type Sockaddr interface {
	// Family is the address family (AF_INET, AF_INET6).
	Family() int32
	// Len is the size of the C structure (16 for sockaddr_in, 28 for
	// sockaddr_in6).
	Len() int32
	// Marshal writes the Windows binary form into b, which must hold Len
	// bytes, and returns the number written or WSAEFAULT.
	Marshal(b []byte) (int32, error)
	// AddrPort returns the address and port as a netip.AddrPort (with zone
	// for a scoped IPv6 address).
	AddrPort() netip.AddrPort
	sockaddr()
}

// Sizes of the C structures.
const (
	SizeofSockaddr        = 16
	SizeofSockaddrInet4   = 16
	SizeofSockaddrInet6   = 28
	SizeofSockaddrStorage = 128
)

// SockaddrInet4 is sockaddr_in. Port is in host byte order.
type SockaddrInet4 struct {
	Port int
	Addr [4]byte
}

// SockaddrInet6 is sockaddr_in6. Port is in host byte order; ZoneId is the
// scope id.
type SockaddrInet6 struct {
	Port     int
	FlowInfo uint32
	Addr     [16]byte
	ZoneId   uint32
}

func (*SockaddrInet4) sockaddr() {}
func (*SockaddrInet6) sockaddr() {}

// Family returns AF_INET.
func (*SockaddrInet4) Family() int32 { return AF_INET }

// Family returns AF_INET6.
func (*SockaddrInet6) Family() int32 { return AF_INET6 }

// Len returns 16.
func (*SockaddrInet4) Len() int32 { return SizeofSockaddrInet4 }

// Len returns 28.
func (*SockaddrInet6) Len() int32 { return SizeofSockaddrInet6 }

// Marshal writes sockaddr_in: family (LE u16), port (BE u16), address, 8 zero bytes.
func (sa *SockaddrInet4) Marshal(b []byte) (int32, error) {
	if len(b) < SizeofSockaddrInet4 {
		return 0, WSAEFAULT
	}
	if sa.Port < 0 || sa.Port > 0xffff {
		return 0, WSAEINVAL
	}
	binary.LittleEndian.PutUint16(b[0:], AF_INET)
	binary.BigEndian.PutUint16(b[2:], uint16(sa.Port))
	copy(b[4:8], sa.Addr[:])
	clear(b[8:16])
	return SizeofSockaddrInet4, nil
}

// Marshal writes sockaddr_in6: family (LE u16), port (BE u16), flow info (BE),
// address, scope id (LE).
func (sa *SockaddrInet6) Marshal(b []byte) (int32, error) {
	if len(b) < SizeofSockaddrInet6 {
		return 0, WSAEFAULT
	}
	if sa.Port < 0 || sa.Port > 0xffff {
		return 0, WSAEINVAL
	}
	binary.LittleEndian.PutUint16(b[0:], AF_INET6)
	binary.BigEndian.PutUint16(b[2:], uint16(sa.Port))
	binary.BigEndian.PutUint32(b[4:], sa.FlowInfo)
	copy(b[8:24], sa.Addr[:])
	binary.LittleEndian.PutUint32(b[24:], sa.ZoneId)
	return SizeofSockaddrInet6, nil
}

// AddrPort returns the address and port.
func (sa *SockaddrInet4) AddrPort() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
}

// AddrPort returns the address and port; a non-zero ZoneId becomes the
// numeric zone.
func (sa *SockaddrInet6) AddrPort() netip.AddrPort {
	a := netip.AddrFrom16(sa.Addr)
	if sa.ZoneId != 0 {
		a = a.WithZone(uitoa(sa.ZoneId))
	}
	return netip.AddrPortFrom(a, uint16(sa.Port))
}

// ParseSockaddr decodes a Windows sockaddr (sockaddr_in or sockaddr_in6) from
// b, as bind and connect receive it with its length. A buffer shorter than
// the family's structure is WSAEFAULT; an unknown family WSAEAFNOSUPPORT.
func ParseSockaddr(b []byte) (Sockaddr, error) {
	if len(b) < 2 {
		return nil, WSAEFAULT
	}
	switch fam := binary.LittleEndian.Uint16(b); fam {
	case AF_INET:
		if len(b) < SizeofSockaddrInet4 {
			return nil, WSAEFAULT
		}
		sa := &SockaddrInet4{Port: int(binary.BigEndian.Uint16(b[2:]))}
		copy(sa.Addr[:], b[4:8])
		return sa, nil
	case AF_INET6:
		if len(b) < SizeofSockaddrInet6 {
			return nil, WSAEFAULT
		}
		sa := &SockaddrInet6{
			Port:     int(binary.BigEndian.Uint16(b[2:])),
			FlowInfo: binary.BigEndian.Uint32(b[4:]),
			ZoneId:   binary.LittleEndian.Uint32(b[24:]),
		}
		copy(sa.Addr[:], b[8:24])
		return sa, nil
	default:
		return nil, WSAEAFNOSUPPORT
	}
}

// SockaddrFromAddrPort converts a netip.AddrPort: an IPv4 address gives a
// *SockaddrInet4, an IPv6 one (including v4-mapped) a *SockaddrInet6. A
// numeric zone becomes ZoneId. It returns nil for an invalid address.
func SockaddrFromAddrPort(ap netip.AddrPort) Sockaddr {
	a := ap.Addr()
	switch {
	case !a.IsValid():
		return nil
	case a.Is4():
		return &SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	default:
		sa := &SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
		if z := a.Zone(); z != "" {
			var n uint32
			for _, c := range z {
				if c < '0' || c > '9' || n > 0x19999999 {
					n = 0
					break
				}
				n = n*10 + uint32(c-'0')
			}
			sa.ZoneId = n
		}
		return sa
	}
}

func uitoa(v uint32) string {
	var buf [10]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(buf[i:])
		}
	}
}

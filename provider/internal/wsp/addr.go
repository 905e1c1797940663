package wsp

import (
	"net/netip"
	"strconv"

	"github.com/ws2go/ws2/wsa"
)

// Addr is a socket address as providers check it: the address as given (a
// v4-mapped IPv6 address stays mapped) and the IPv6 scope id.
type Addr struct {
	AP   netip.AddrPort
	Zone uint32
}

// Unmapped returns the address with a v4-mapped IPv6 address turned into
// IPv4.
func (a Addr) Unmapped() netip.Addr { return a.AP.Addr().Unmap() }

// IsUnspecified reports INADDR_ANY, in6addr_any or ::ffff:0.0.0.0.
func (a Addr) IsUnspecified() bool { return a.Unmapped().IsUnspecified() }

// Port returns the port.
func (a Addr) Port() uint16 { return a.AP.Port() }

// ParseAddr checks a sockaddr given to a socket of family af, as bind,
// connect and sendto receive it. A nil address, or one whose C structure is
// shorter than the family's (a sockaddr_in given to an AF_INET6 socket), is
// WSAEFAULT: the namelen is too small. A longer structure of the wrong family
// (a sockaddr_in6 given to an AF_INET socket) is WSAEAFNOSUPPORT. A port out
// of range is WSAEINVAL.
func ParseAddr(af int32, sa wsa.Sockaddr) (Addr, error) {
	switch v := sa.(type) {
	case *wsa.SockaddrInet4:
		if v == nil {
			return Addr{}, wsa.WSAEFAULT
		}
		if af != wsa.AF_INET {
			return Addr{}, wsa.WSAEFAULT
		}
		if v.Port < 0 || v.Port > 0xffff {
			return Addr{}, wsa.WSAEINVAL
		}
		return Addr{AP: netip.AddrPortFrom(netip.AddrFrom4(v.Addr), uint16(v.Port))}, nil
	case *wsa.SockaddrInet6:
		if v == nil {
			return Addr{}, wsa.WSAEFAULT
		}
		if af != wsa.AF_INET6 {
			return Addr{}, wsa.WSAEAFNOSUPPORT
		}
		if v.Port < 0 || v.Port > 0xffff {
			return Addr{}, wsa.WSAEINVAL
		}
		return Addr{AP: netip.AddrPortFrom(netip.AddrFrom16(v.Addr), uint16(v.Port)), Zone: v.ZoneId}, nil
	case nil:
		return Addr{}, wsa.WSAEFAULT
	default:
		return Addr{}, wsa.WSAEAFNOSUPPORT
	}
}

// AnyAddr returns the unspecified address and port 0 of family af: the
// implicit bind of connect and sendto.
func AnyAddr(af int32) Addr {
	if af == wsa.AF_INET {
		return Addr{AP: netip.AddrPortFrom(netip.IPv4Unspecified(), 0)}
	}
	return Addr{AP: netip.AddrPortFrom(netip.IPv6Unspecified(), 0)}
}

// Sockaddr returns the sockaddr of a socket of family af for address a
// (any form; an invalid one is the unspecified address) and port: IPv4
// traffic on an AF_INET6 (dual-stack) socket shows as v4-mapped; a
// link-local IPv6 address carries zone as its scope id.
func Sockaddr(af int32, a netip.Addr, port uint16, zone uint32) wsa.Sockaddr {
	if af == wsa.AF_INET {
		sa := &wsa.SockaddrInet4{Port: int(port)}
		if a.Is4() || a.Is4In6() {
			sa.Addr = a.Unmap().As4()
		}
		return sa
	}
	sa := &wsa.SockaddrInet6{Port: int(port)}
	switch {
	case a.Is4():
		sa.Addr = netip.AddrFrom4(a.As4()).As16()
		sa.Addr[10], sa.Addr[11] = 0xff, 0xff
	case a.Is6():
		sa.Addr = a.As16()
		if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
			sa.ZoneId = zone
			if zone == 0 && a.Zone() != "" {
				if z, err := strconv.ParseUint(a.Zone(), 10, 32); err == nil {
					sa.ZoneId = uint32(z)
				}
			}
		}
	}
	return sa
}

// IsLimitedBroadcast reports 255.255.255.255.
func IsLimitedBroadcast(a netip.Addr) bool {
	return a.Is4() && a.As4() == [4]byte{255, 255, 255, 255}
}

// AddressToString is WSPAddressToString for TCP/IP providers: a nil
// address is WSAEFAULT; one of a family they do not serve, WSAEINVAL.
func AddressToString(addr wsa.Sockaddr) (string, error) {
	switch a := addr.(type) {
	case *wsa.SockaddrInet4:
		if a == nil {
			return "", wsa.WSAEFAULT
		}
	case *wsa.SockaddrInet6:
		if a == nil {
			return "", wsa.WSAEFAULT
		}
	case nil:
		return "", wsa.WSAEFAULT
	default:
		return "", wsa.WSAEINVAL
	}
	return wsa.FormatSockaddr(addr), nil
}

// StringToAddress is WSPStringToAddress for TCP/IP providers; af
// FROM_PROTOCOL_INFO (or AF_UNSPEC) takes the family of info.
func StringToAddress(addr string, af int32, info *wsa.ProtocolInfo) (wsa.Sockaddr, error) {
	if (af == wsa.FROM_PROTOCOL_INFO || af == wsa.AF_UNSPEC) && info != nil {
		af = info.AddressFamily
	}
	return wsa.ParseSockaddrString(addr, af)
}

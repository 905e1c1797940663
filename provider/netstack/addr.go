package netstack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"

	"github.com/ws2go/ws2/wsa"
)

// sockAddr is a socket address as the provider works with it: a netip form
// for the checks Winsock makes (unspecified, broadcast, v4-mapped), and the
// gVisor form.
type sockAddr struct {
	ap   netip.AddrPort // as given (a v4-mapped IPv6 address stays mapped)
	zone uint32         // IPv6 scope id (a NIC id for gVisor)
}

// unmapped returns the address with a v4-mapped IPv6 address turned into
// IPv4.
func (a sockAddr) unmapped() netip.Addr { return a.ap.Addr().Unmap() }

// isUnspecified reports INADDR_ANY, in6addr_any or ::ffff:0.0.0.0.
func (a sockAddr) isUnspecified() bool { return a.unmapped().IsUnspecified() }

// full returns the gVisor form. The unspecified address becomes the empty
// tcpip.Address, which gVisor reads as "any"; a v4-mapped address stays a
// 16-byte address, which gVisor unwraps for dual-stack endpoints.
func (a sockAddr) full() tcpip.FullAddress {
	fa := tcpip.FullAddress{Port: a.ap.Port(), NIC: tcpip.NICID(a.zone)}
	addr := a.ap.Addr()
	if !a.isUnspecified() {
		if addr.Is4() {
			fa.Addr = tcpip.AddrFrom4(addr.As4())
		} else {
			fa.Addr = tcpip.AddrFrom16(addr.As16())
		}
	}
	return fa
}

// parseAddr checks a sockaddr given to a socket of family af, as bind,
// connect and sendto receive it. A nil address, or one whose C structure is
// shorter than the family's (a sockaddr_in given to an AF_INET6 socket), is
// WSAEFAULT: the namelen is too small. A longer structure of the wrong family
// (a sockaddr_in6 given to an AF_INET socket) is WSAEAFNOSUPPORT. A port out
// of range is WSAEINVAL.
func parseAddr(af int32, sa wsa.Sockaddr) (sockAddr, error) {
	switch v := sa.(type) {
	case *wsa.SockaddrInet4:
		if v == nil {
			return sockAddr{}, wsa.WSAEFAULT
		}
		if af != wsa.AF_INET {
			return sockAddr{}, wsa.WSAEFAULT
		}
		if v.Port < 0 || v.Port > 0xffff {
			return sockAddr{}, wsa.WSAEINVAL
		}
		return sockAddr{ap: netip.AddrPortFrom(netip.AddrFrom4(v.Addr), uint16(v.Port))}, nil
	case *wsa.SockaddrInet6:
		if v == nil {
			return sockAddr{}, wsa.WSAEFAULT
		}
		if af != wsa.AF_INET6 {
			return sockAddr{}, wsa.WSAEAFNOSUPPORT
		}
		if v.Port < 0 || v.Port > 0xffff {
			return sockAddr{}, wsa.WSAEINVAL
		}
		return sockAddr{ap: netip.AddrPortFrom(netip.AddrFrom16(v.Addr), uint16(v.Port)), zone: v.ZoneId}, nil
	case nil:
		return sockAddr{}, wsa.WSAEFAULT
	default:
		return sockAddr{}, wsa.WSAEAFNOSUPPORT
	}
}

// fromFull converts a gVisor address into the sockaddr of a socket of family
// af: IPv4 traffic on an AF_INET6 (dual-stack) socket shows as v4-mapped, the
// empty address as the unspecified one. A link-local IPv6 address carries
// its NIC as scope id.
func fromFull(af int32, fa tcpip.FullAddress) wsa.Sockaddr {
	if af == wsa.AF_INET {
		sa := &wsa.SockaddrInet4{Port: int(fa.Port)}
		if fa.Addr.BitLen() == header.IPv4AddressSizeBits {
			sa.Addr = fa.Addr.As4()
		}
		return sa
	}
	sa := &wsa.SockaddrInet6{Port: int(fa.Port)}
	switch fa.Addr.BitLen() {
	case header.IPv4AddressSizeBits:
		sa.Addr = netip.AddrFrom4(fa.Addr.As4()).As16()
		sa.Addr[10], sa.Addr[11] = 0xff, 0xff
	case header.IPv6AddressSizeBits:
		sa.Addr = fa.Addr.As16()
		if a := netip.AddrFrom16(sa.Addr); a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
			sa.ZoneId = uint32(fa.NIC)
		}
	}
	return sa
}

// tcpipAddr returns a netip address in gVisor form (empty for an invalid
// or unspecified one).
func tcpipAddr(a netip.Addr) tcpip.Address {
	switch {
	case !a.IsValid() || a.IsUnspecified():
		return tcpip.Address{}
	case a.Is4():
		return tcpip.AddrFrom4(a.As4())
	default:
		return tcpip.AddrFrom16(a.As16())
	}
}

var (
	netipAddrPortAny4 = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	netipAddrPortAny6 = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
)

// gVisor's network protocol numbers.
const (
	ipv4Proto = ipv4.ProtocolNumber
	ipv6Proto = ipv6.ProtocolNumber
)

package netstack

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// sockAddr is a socket address as the provider works with it: wsp's form
// for the checks Winsock makes (unspecified, broadcast, v4-mapped), and the
// gVisor form.
type sockAddr struct{ wsp.Addr }

// unmapped returns the address with a v4-mapped IPv6 address turned into
// IPv4.
func (a sockAddr) unmapped() netip.Addr { return a.Unmapped() }

// isUnspecified reports INADDR_ANY, in6addr_any or ::ffff:0.0.0.0.
func (a sockAddr) isUnspecified() bool { return a.IsUnspecified() }

// full returns the gVisor form. The unspecified address becomes the empty
// tcpip.Address, which gVisor reads as "any"; a v4-mapped address stays a
// 16-byte address, which gVisor unwraps for dual-stack endpoints.
func (a sockAddr) full() tcpip.FullAddress {
	fa := tcpip.FullAddress{Port: a.AP.Port(), NIC: tcpip.NICID(a.Zone)}
	addr := a.AP.Addr()
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
// connect and sendto receive it (see wsp.ParseAddr).
func parseAddr(af int32, sa wsa.Sockaddr) (sockAddr, error) {
	a, err := wsp.ParseAddr(af, sa)
	return sockAddr{a}, err
}

// fromFull converts a gVisor address into the sockaddr of a socket of
// family af (see wsp.Sockaddr): IPv4 traffic on an AF_INET6 (dual-stack)
// socket shows as v4-mapped, the empty address as the unspecified one; a
// link-local IPv6 address carries its NIC as scope id.
func fromFull(af int32, fa tcpip.FullAddress) wsa.Sockaddr {
	var a netip.Addr
	switch fa.Addr.BitLen() {
	case header.IPv4AddressSizeBits:
		a = netip.AddrFrom4(fa.Addr.As4())
	case header.IPv6AddressSizeBits:
		a = netip.AddrFrom16(fa.Addr.As16())
	}
	return wsp.Sockaddr(af, a, fa.Port, uint32(fa.NIC))
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

// gVisor's network protocol numbers.
const (
	ipv4Proto = ipv4.ProtocolNumber
	ipv6Proto = ipv6.ProtocolNumber
)

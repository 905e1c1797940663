package wsnet

import (
	"errors"
	"net"
	"net/netip"
	"strconv"

	"github.com/ws2go/ws2/wsa"
)

// network is a parsed network name.
type network struct {
	name   string // as given: "tcp", "udp4", ...
	sotype int32  // SOCK_STREAM or SOCK_DGRAM
	proto  int32  // IPPROTO_TCP or IPPROTO_UDP
	only   int    // 4 or 6 for the "tcp4"/"tcp6" forms, 0 for either
}

func parseNetwork(name string) (network, error) {
	n := network{name: name}
	switch name {
	case "tcp", "tcp4", "tcp6":
		n.sotype, n.proto = wsa.SOCK_STREAM, wsa.IPPROTO_TCP
	case "udp", "udp4", "udp6":
		n.sotype, n.proto = wsa.SOCK_DGRAM, wsa.IPPROTO_UDP
	default:
		return n, net.UnknownNetworkError(name)
	}
	switch name[len(name)-1] {
	case '4':
		n.only = 4
	case '6':
		n.only = 6
	}
	return n, nil
}

// errNoSuitableAddress is Go's error for an address of the wrong family
// ("tcp4" with an IPv6 literal).
var errNoSuitableAddress = errors.New("no suitable address found")

// errHostname is the error for a host name that is not an IP literal.
const errHostname = "host name resolution is not supported by wsnet (use an IP literal or localhost)"

// resolve parses address ("host:port", "[v6%zone]:port", ":port") for
// network n. Host names are not resolved: only IP literals, "" and
// "localhost" (127.0.0.1 or ::1) are accepted; another name fails with a
// *net.DNSError. For listen, "" is the unspecified address; for dial, ""
// and the unspecified addresses are the loopback address, as Go dials the
// local system. Ports are numbers.
// The result keeps an IPv4 address in its 4-byte form.
func resolve(n network, address string, listen bool) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		if port == "" {
			p = 0
		} else {
			return netip.AddrPort{}, &net.AddrError{Err: "invalid port (a number from 0 to 65535; service names are not resolved)", Addr: address}
		}
	}
	var ip netip.Addr
	switch host {
	case "":
		switch {
		case listen && n.only == 4:
			ip = netip.IPv4Unspecified()
		case listen:
			ip = netip.IPv6Unspecified()
		case n.only == 6:
			ip = netip.IPv6Loopback()
		default:
			ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
	case "localhost":
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		if n.only == 6 {
			ip = netip.IPv6Loopback()
		}
	default:
		ip, err = netip.ParseAddr(host)
		if err != nil {
			return netip.AddrPort{}, &net.DNSError{Err: errHostname, Name: host, IsNotFound: true}
		}
		if z := ip.Zone(); z != "" {
			if _, err := strconv.ParseUint(z, 10, 32); err != nil {
				return netip.AddrPort{}, &net.AddrError{Err: "only numeric IPv6 zones are supported", Addr: address}
			}
		}
		ip = ip.Unmap()
		if !listen && ip.IsUnspecified() {
			// Dialing "0.0.0.0" or "::" reaches the local system, as in Go.
			if ip.Is4() {
				ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
			} else {
				ip = netip.IPv6Loopback()
			}
		}
	}
	switch {
	case n.only == 4 && !ip.Is4():
		return netip.AddrPort{}, &net.AddrError{Err: errNoSuitableAddress.Error(), Addr: address}
	case n.only == 6 && ip.Is4():
		return netip.AddrPort{}, &net.AddrError{Err: errNoSuitableAddress.Error(), Addr: address}
	}
	return netip.AddrPortFrom(ip, uint16(p)), nil
}

// family returns the address family of a socket for ap on network n:
// AF_INET for an IPv4 address, AF_INET6 otherwise. dualStack is true for
// the wildcard listen address of "tcp" or "udp", which Go (and so wsnet)
// serves with one IPv6 socket with IPV6_V6ONLY off.
func family(n network, ap netip.AddrPort, listen bool) (af int32, dualStack bool) {
	ip := ap.Addr()
	if listen && n.only == 0 && ip.IsUnspecified() {
		return wsa.AF_INET6, true
	}
	if ip.Is4() {
		return wsa.AF_INET, false
	}
	return wsa.AF_INET6, false
}

// sockaddr converts ap for a socket of family af: an IPv4 address on an
// AF_INET6 socket becomes its v4-mapped form (the socket must be dual-stack).
func sockaddr(af int32, ap netip.AddrPort) wsa.Sockaddr {
	ip := ap.Addr()
	if af == wsa.AF_INET {
		return &wsa.SockaddrInet4{Port: int(ap.Port()), Addr: ip.Unmap().As4()}
	}
	sa := &wsa.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		id, _ := strconv.ParseUint(z, 10, 32)
		sa.ZoneId = uint32(id)
	}
	return sa
}

// ipOf returns the net.IP and zone of a Winsock address, as Go's
// sockaddrToTCP does: 4 bytes for AF_INET, 16 for AF_INET6 (a v4-mapped
// address prints as IPv4).
func ipOf(sa wsa.Sockaddr) (net.IP, string, int) {
	switch a := sa.(type) {
	case *wsa.SockaddrInet4:
		return net.IP(a.Addr[:]).To4(), "", a.Port
	case *wsa.SockaddrInet6:
		ip := make(net.IP, net.IPv6len)
		copy(ip, a.Addr[:])
		zone := ""
		if a.ZoneId != 0 {
			zone = strconv.FormatUint(uint64(a.ZoneId), 10)
		}
		return ip, zone, a.Port
	}
	return nil, "", 0
}

func tcpAddr(sa wsa.Sockaddr) net.Addr {
	if sa == nil {
		return nil
	}
	ip, zone, port := ipOf(sa)
	return &net.TCPAddr{IP: ip, Port: port, Zone: zone}
}

func udpAddr(sa wsa.Sockaddr) *net.UDPAddr {
	if sa == nil {
		return nil
	}
	ip, zone, port := ipOf(sa)
	return &net.UDPAddr{IP: ip, Port: port, Zone: zone}
}

// netAddr converts sa for a socket of type sotype.
func netAddr(sotype int32, sa wsa.Sockaddr) net.Addr {
	if sa == nil {
		return nil
	}
	if sotype == wsa.SOCK_STREAM {
		return tcpAddr(sa)
	}
	return udpAddr(sa)
}

// addrPortOf converts a net.Addr given to WriteTo or Dialer.LocalAddr.
func addrPortOf(a net.Addr) (netip.AddrPort, error) {
	var ip net.IP
	var port int
	var zone string
	switch a := a.(type) {
	case *net.UDPAddr:
		if a == nil {
			return netip.AddrPort{}, errMissingAddress
		}
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.TCPAddr:
		if a == nil {
			return netip.AddrPort{}, errMissingAddress
		}
		ip, port, zone = a.IP, a.Port, a.Zone
	case nil:
		return netip.AddrPort{}, errMissingAddress
	default:
		return netip.AddrPort{}, &net.AddrError{Err: "unexpected address type", Addr: a.String()}
	}
	var addr netip.Addr
	if len(ip) == 0 {
		addr = netip.IPv6Unspecified()
	} else {
		var ok bool
		if addr, ok = netip.AddrFromSlice(ip); !ok {
			return netip.AddrPort{}, &net.AddrError{Err: "invalid IP address", Addr: ip.String()}
		}
		addr = addr.Unmap()
	}
	if zone != "" && addr.Is6() {
		if _, err := strconv.ParseUint(zone, 10, 32); err != nil {
			return netip.AddrPort{}, &net.AddrError{Err: "only numeric IPv6 zones are supported", Addr: a.String()}
		}
		addr = addr.WithZone(zone)
	}
	if port < 0 || port > 0xffff {
		return netip.AddrPort{}, &net.AddrError{Err: "invalid port", Addr: a.String()}
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

var errMissingAddress = errors.New("missing address")

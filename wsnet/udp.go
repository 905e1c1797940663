package wsnet

import (
	"net"
	"net/netip"
	"time"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// PacketConn is a UDP socket over a Winsock Session: a net.PacketConn, and
// for a socket made by Dialer.Dial (connected) also a net.Conn.
//
// Truncation follows Windows, not Unix: a datagram larger than the buffer of
// ReadFrom or Read fills the buffer, the rest is discarded, and the call
// returns n == len(b), the source address, and an error matching
// wsa.WSAEMSGSIZE (as Go's net does on Windows; on Unix Go truncates
// silently). ICMP port-unreachable reports are ignored (SIO_UDP_CONNRESET
// off), as Go does on Windows.
type PacketConn struct {
	fd *netFD
}

var (
	_ net.PacketConn = (*PacketConn)(nil)
	_ net.Conn       = (*PacketConn)(nil)
)

// ListenPacket opens a UDP socket bound to address on network "udp",
// "udp4" or "udp6" of Session s, with the address rules of Listen (the
// wildcard address of "udp" is a dual-stack IPv6 socket).
func ListenPacket(s *api.Session, network, address string) (net.PacketConn, error) {
	c, err := ListenUDP(s, network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListenUDP is ListenPacket returning the *PacketConn.
func ListenUDP(s *api.Session, network, address string) (*PacketConn, error) {
	n, err := parseNetwork(network)
	if err == nil && n.sotype != wsa.SOCK_DGRAM {
		err = net.UnknownNetworkError(network)
	}
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	ap, err := resolve(n, address, true)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	af, dual := family(n, ap, true)
	laddr := &net.UDPAddr{IP: ap.Addr().AsSlice(), Port: int(ap.Port()), Zone: ap.Addr().Zone()}
	fd, err := socket(s, n, af, dual)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: laddr, Err: err}
	}
	if err := fd.bind(sockaddr(af, ap)); err != nil {
		_ = fd.Close()
		return nil, &net.OpError{Op: "listen", Net: network, Addr: laddr, Err: err}
	}
	fd.names()
	return &PacketConn{fd: fd}, nil
}

// ReadFrom reads one datagram with an overlapped WSARecvFrom and returns
// its size and source (a *net.UDPAddr). See the type's doc for truncation,
// and Conn.SetReadDeadline for deadlines.
func (c *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, sa, err := c.fd.read(b, true)
	err = c.fd.opErr("read", err)
	if a := udpAddr(sa); a != nil {
		return n, a, err
	}
	return n, nil, err
}

// ReadFromUDPAddrPort is ReadFrom returning a netip.AddrPort (an IPv4
// source on a dual-stack socket comes back v4-mapped, as in Go).
func (c *PacketConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	n, sa, err := c.fd.read(b, true)
	var ap netip.AddrPort
	if sa != nil {
		ap = sa.AddrPort()
	}
	return n, ap, c.fd.opErr("read", err)
}

// WriteTo sends b as one datagram to addr (a *net.UDPAddr) with an
// overlapped WSASendTo.
func (c *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ap, err := addrPortOf(addr)
	if err != nil {
		return 0, &net.OpError{Op: "write", Net: c.fd.net, Source: c.fd.laddr, Addr: addr, Err: err}
	}
	return c.WriteToUDPAddrPort(b, ap)
}

// WriteToUDPAddrPort is WriteTo with a netip.AddrPort.
func (c *PacketConn) WriteToUDPAddrPort(b []byte, ap netip.AddrPort) (int, error) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if c.fd.family == wsa.AF_INET && !ap.Addr().Is4() {
		return 0, &net.OpError{Op: "write", Net: c.fd.net, Source: c.fd.laddr, Addr: net.UDPAddrFromAddrPort(ap),
			Err: &net.AddrError{Err: errNoSuitableAddress.Error(), Addr: ap.String()}}
	}
	n, err := c.fd.write(b, sockaddr(c.fd.family, ap))
	if err != nil {
		return n, &net.OpError{Op: "write", Net: c.fd.net, Source: c.fd.laddr, Addr: net.UDPAddrFromAddrPort(ap), Err: err}
	}
	return n, nil
}

// Read reads one datagram from the connected peer (WSARecv); truncation as
// for ReadFrom.
func (c *PacketConn) Read(b []byte) (int, error) {
	n, _, err := c.fd.read(b, false)
	return n, c.fd.opErr("read", err)
}

// Write sends b as one datagram to the connected peer (WSASend).
func (c *PacketConn) Write(b []byte) (int, error) {
	n, err := c.fd.write(b, nil)
	return n, c.fd.opErr("write", err)
}

// Close closes the socket; blocked calls return net.ErrClosed.
func (c *PacketConn) Close() error { return c.fd.opErr("close", c.fd.Close()) }

// LocalAddr returns the local address, a *net.UDPAddr.
func (c *PacketConn) LocalAddr() net.Addr { return c.fd.laddr }

// RemoteAddr returns the connected peer's address (a *net.UDPAddr), or nil.
func (c *PacketConn) RemoteAddr() net.Addr { return c.fd.raddr }

// SetDeadline sets both deadlines; see Conn.SetReadDeadline.
func (c *PacketConn) SetDeadline(t time.Time) error {
	return c.fd.opErr("set", c.fd.setDeadline(t, true, true))
}

// SetReadDeadline sets the deadline of ReadFrom and Read.
func (c *PacketConn) SetReadDeadline(t time.Time) error {
	return c.fd.opErr("set", c.fd.setDeadline(t, true, false))
}

// SetWriteDeadline sets the deadline of WriteTo and Write.
func (c *PacketConn) SetWriteDeadline(t time.Time) error {
	return c.fd.opErr("set", c.fd.setDeadline(t, false, true))
}

// SetReadBuffer sets SO_RCVBUF.
func (c *PacketConn) SetReadBuffer(bytes int) error {
	return c.fd.opErr("set", c.fd.setsockoptInt(wsa.SOL_SOCKET, wsa.SO_RCVBUF, int32(bytes)))
}

// SetWriteBuffer sets SO_SNDBUF.
func (c *PacketConn) SetWriteBuffer(bytes int) error {
	return c.fd.opErr("set", c.fd.setsockoptInt(wsa.SOL_SOCKET, wsa.SO_SNDBUF, int32(bytes)))
}

// Handle returns the socket; see Conn.Handle.
func (c *PacketConn) Handle() wsa.Socket { return c.fd.h }

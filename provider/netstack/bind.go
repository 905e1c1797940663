package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/ws2go/ws2/wsa"
)

// WSPBind is bind. A socket that already has a local address fails
// WSAEINVAL; an address that is not one of the stack's, WSAEADDRNOTAVAIL; a
// sockaddr of the wrong family, WSAEFAULT or WSAEAFNOSUPPORT (see
// parseAddr). Conflicts with other sockets follow the Windows
// SO_REUSEADDR/SO_EXCLUSIVEADDRUSE table (WSAEADDRINUSE, WSAEACCES); port 0
// picks an ephemeral port no other socket of the protocol holds.
func (ss *session) WSPBind(h wsa.Socket, name wsa.Sockaddr) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	a, err := parseAddr(s.af, name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bindLocked(a)
}

// bindLocked binds the endpoint to a through the bind table. It is also the
// implicit bind of connect and sendto (with the unspecified address).
func (s *socket) bindLocked(a sockAddr) error {
	if s.bound || s.listening || s.conn != connNone {
		return wsa.WSAEINVAL
	}
	e := &bindEntry{opt: optDefault}
	switch {
	case s.opts.reuseAddr:
		e.opt = optReuse
	case s.opts.exclusive:
		e.opt = optExclusive
	}
	addr := a.ap.Addr()
	netProto := s.netProto
	switch {
	case s.af == wsa.AF_INET:
		e.v4 = true
		if !a.isUnspecified() {
			e.a4 = addr
		}
	case addr.Is4In6():
		if s.opts.v6only {
			return wsa.WSAEADDRNOTAVAIL
		}
		e.v4 = true
		netProto = ipv4.ProtocolNumber
		if !a.isUnspecified() {
			e.a4 = addr.Unmap()
		}
	default:
		e.v6 = true
		if addr.IsUnspecified() {
			e.v4 = !s.opts.v6only
		} else {
			e.a6 = addr
		}
	}
	fa := a.full()
	if !a.isUnspecified() {
		local := fa
		if netProto == ipv4.ProtocolNumber {
			local.Addr = tcpip.AddrFrom4(addr.Unmap().As4())
		}
		if s.ss.p.gs.CheckLocalAddress(local.NIC, netProto, local.Addr) == 0 {
			return wsa.WSAEADDRNOTAVAIL
		}
	}
	ep := s.ep
	commit := func(port uint16) error {
		fa.Port = port
		ep.SocketOptions().SetReusePort(s.opts.reuseAddr)
		if terr := ep.Bind(fa); terr != nil {
			if _, ok := terr.(*tcpip.ErrPortInUse); ok {
				return wsa.WSAEADDRINUSE
			}
			return translate(terr)
		}
		return nil
	}
	k := bindKey{proto: s.transProto, port: a.ap.Port()}
	if k.port == 0 {
		port, err := s.ss.p.binds.reserveEphemeral(s.transProto, ephemeralFirst, ephemeralLast, e, commit)
		if err != nil {
			return err
		}
		k.port = port
	} else if err := s.ss.p.binds.reserve(k, e, func() error { return commit(k.port) }); err != nil {
		return err
	}
	fa.Port = k.port
	s.bound, s.bindK, s.bindE, s.bindAddr = true, k, e, fa
	return nil
}

// The dynamic port range of Windows Vista and later, from which ephemeral
// ports are handed out.
const (
	ephemeralFirst = 49152
	ephemeralLast  = 65535
)

// implicitBindLocked binds an unbound socket to the unspecified address and
// an ephemeral port, as connect and sendto do.
func (s *socket) implicitBindLocked() error {
	if s.bound {
		return nil
	}
	var a sockAddr
	if s.af == wsa.AF_INET {
		a.ap = netipAddrPortAny4
	} else {
		a.ap = netipAddrPortAny6
	}
	return s.bindLocked(a)
}

// WSPGetSockName is getsockname: WSAEINVAL before the socket has a local
// address.
func (ss *session) WSPGetSockName(h wsa.Socket) (wsa.Sockaddr, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.bound || s.namesHidden() { // hidden: AcceptEx, ext_accept.go
		return nil, wsa.WSAEINVAL
	}
	fa, terr := s.ep.GetLocalAddress()
	if terr != nil {
		fa = s.bindAddr
	}
	if fa.Port == 0 {
		fa.Port = s.bindAddr.Port
	}
	return fromFull(s.af, fa), nil
}

// WSPGetPeerName is getpeername: WSAENOTCONN unless connected.
func (ss *session) WSPGetPeerName(h wsa.Socket) (wsa.Sockaddr, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stream {
		if s.listening || s.pollConnectLocked() != connDone || s.namesHidden() {
			return nil, wsa.WSAENOTCONN
		}
	} else if !s.udpPeer {
		return nil, wsa.WSAENOTCONN
	}
	fa, terr := s.ep.GetRemoteAddress()
	if terr != nil {
		return nil, wsa.WSAENOTCONN
	}
	return fromFull(s.af, fa), nil
}

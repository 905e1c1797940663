package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSPBind is bind. A socket that already has a local address fails
// WSAEINVAL; an address that is not one of the stack's, WSAEADDRNOTAVAIL; a
// sockaddr of the wrong family, WSAEFAULT or WSAEAFNOSUPPORT (see
// parseAddr). Conflicts with other sockets follow the Windows
// SO_REUSEADDR/SO_EXCLUSIVEADDRUSE table (WSAEADDRINUSE, WSAEACCES); port 0
// picks an ephemeral port that no other socket of the protocol holds, nor
// the connection of a closed one in a family the binding covers (see
// bindTable).
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
	if s.raw != nil {
		return s.bindRawLocked(a) // raw.go
	}
	if s.bound || s.listening || s.conn != connNone {
		return wsa.WSAEINVAL
	}
	e := &bindEntry{Opt: wsp.BindDefault}
	switch {
	case s.opts.ReuseAddr:
		e.Opt = wsp.BindReuse
	case s.opts.Exclusive:
		e.Opt = wsp.BindExclusive
	}
	addr := a.AP.Addr()
	netProto := s.netProto
	switch {
	case s.af == wsa.AF_INET:
		e.V4 = true
		if !a.isUnspecified() {
			e.A4 = addr
		}
	case addr.Is4In6():
		if s.opts.V6Only {
			return wsa.WSAEADDRNOTAVAIL
		}
		e.V4 = true
		netProto = ipv4.ProtocolNumber
		if !a.isUnspecified() {
			e.A4 = addr.Unmap()
		}
	default:
		e.V6 = true
		if addr.IsUnspecified() {
			e.V4 = !s.opts.V6Only
		} else {
			e.A6 = addr
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
		ep.SocketOptions().SetReusePort(s.opts.ReuseAddr)
		if terr := ep.Bind(fa); terr != nil {
			if _, ok := terr.(*tcpip.ErrPortInUse); ok {
				return wsa.WSAEADDRINUSE
			}
			return translate(terr)
		}
		return nil
	}
	k := bindKey{Proto: uint32(s.transProto), Port: a.AP.Port()}
	if k.Port == 0 {
		gs, proto := s.ss.p.gs, s.transProto
		port, err := s.ss.p.binds.ReserveEphemeral(k.Proto, wsp.EphemeralFirst, wsp.EphemeralLast, e, func(port uint16) error {
			if portHeld(gs, proto, port, e.V4, e.V6) { // by a closed socket's connection (bindtable.go)
				return wsa.WSAEADDRINUSE
			}
			return commit(port)
		})
		if err != nil {
			return err
		}
		k.Port = port
	} else if err := s.ss.p.binds.Reserve(k, e, func([]*bindEntry) error { return commit(k.Port) }); err != nil {
		return err
	}
	fa.Port = k.Port
	s.bound, s.bindK, s.bindE, s.bindAddr = true, k, e, fa
	return nil
}

// implicitBindLocked binds an unbound socket to the unspecified address and
// an ephemeral port, as connect and sendto do.
func (s *socket) implicitBindLocked() error {
	if s.bound {
		return nil
	}
	return s.bindLocked(sockAddr{wsp.AnyAddr(s.af)})
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
	if fa.Port == 0 || s.raw != nil { // gVisor gives a raw socket's protocol as its port
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
	if s.raw != nil {
		return s.rawPeerNameLocked() // raw.go
	}
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

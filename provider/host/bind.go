package host

import (
	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSPBind is bind. A socket that already has a local address fails
// WSAEINVAL; an address that is not one of the host's, WSAEADDRNOTAVAIL; a
// sockaddr of the wrong family, WSAEFAULT or WSAEAFNOSUPPORT (see
// wsp.ParseAddr). Conflicts with other sockets of the provider follow the
// Windows SO_REUSEADDR/SO_EXCLUSIVEADDRUSE table (WSAEADDRINUSE,
// WSAEACCES); port 0 picks an ephemeral port (49152-65535) no other socket
// of the protocol holds. A port the kernel refuses (held by another
// process, or a connection of ours in TIME_WAIT) is WSAEADDRINUSE.
func (ss *session) WSPBind(h wsa.Socket, name wsa.Sockaddr) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	a, err := wsp.ParseAddr(s.af, name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bindLocked(a)
}

// bindLocked binds the descriptor to a through the bind table. It is also
// the implicit bind of connect and sendto (with the unspecified address).
//
// The table decides; the kernel must then accept what it allowed. Linux
// refuses overlapping binds (a wildcard and a specific address, or the same
// address twice) unless both sockets have SO_REUSEADDR and neither listens,
// or both have SO_REUSEPORT. So the kernel's SO_REUSEADDR and SO_REUSEPORT
// are set exactly where the table lets two of our sockets share a port: on
// the new socket and on the holders it overlaps, just before its bind. No
// other socket gets them, so another process (or another provider
// instance) cannot share a port of ours, and ours never share one by
// accident.
func (s *socket) bindLocked(a wsp.Addr) error {
	if s.bound || s.listening || s.conn != connNone {
		return wsa.WSAEINVAL
	}
	e := &wsp.BindEntry{Opt: wsp.BindDefault, Owner: s}
	switch {
	case s.opts.ReuseAddr:
		e.Opt = wsp.BindReuse
	case s.opts.Exclusive:
		e.Opt = wsp.BindExclusive
	}
	addr := a.AP.Addr()
	switch {
	case s.af == wsa.AF_INET:
		e.V4 = true
		if !a.IsUnspecified() {
			e.A4 = addr
		}
	case addr.Is4In6():
		if s.opts.V6Only {
			return wsa.WSAEADDRNOTAVAIL
		}
		e.V4 = true
		if !a.IsUnspecified() {
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
	fd := s.fd
	commit := func(port uint16, shared []*wsp.BindEntry) error {
		if len(shared) > 0 {
			for _, old := range shared {
				old.Owner.(*socket).share()
			}
			shareFD(fd)
		}
		ka := kernelSockaddr(s.af, addr, port, a.Zone)
		if err := unix.Bind(fd, ka); err != nil {
			return translate(err)
		}
		return nil
	}
	k := wsp.BindKey{Proto: uint32(s.proto), Port: a.Port()}
	if k.Port == 0 {
		port, err := s.ss.p.binds.ReserveEphemeral(uint32(s.proto), wsp.EphemeralFirst, wsp.EphemeralLast, e,
			func(port uint16) error { return commit(port, nil) })
		if err != nil {
			return err
		}
		k.Port = port
	} else if err := s.ss.p.binds.Reserve(k, e, func(shared []*wsp.BindEntry) error { return commit(k.Port, shared) }); err != nil {
		return err
	}
	s.bound, s.bindK, s.bindE = true, k, e
	return nil
}

// share lets the kernel share the socket's port with another socket of
// ours (see bindLocked). It runs with the bind table locked and may not
// take s.mu.
func (s *socket) share() {
	_ = s.sysFD(func(fd int) error {
		shareFD(fd)
		return nil
	})
}

func shareFD(fd int) {
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}

// implicitBindLocked binds an unbound socket to the unspecified address
// and an ephemeral port, as connect and sendto do.
func (s *socket) implicitBindLocked() error {
	if s.bound {
		return nil
	}
	return s.bindLocked(wsp.AnyAddr(s.af))
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
	if !s.bound || s.hideNames.Load() { // hidden: AcceptEx, ext_accept.go
		return nil, wsa.WSAEINVAL
	}
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return nil, translate(err)
	}
	return fromKernel(s.af, sa), nil
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
		if s.listening || s.pollConnectLocked() != connDone || s.hideNames.Load() {
			return nil, wsa.WSAENOTCONN
		}
	} else if !s.udpPeer {
		return nil, wsa.WSAENOTCONN
	}
	sa, err := unix.Getpeername(s.fd)
	if err != nil {
		return nil, wsa.WSAENOTCONN
	}
	return fromKernel(s.af, sa), nil
}

package netstack

import (
	"time"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSPListen is listen. Datagram sockets fail WSAEOPNOTSUPP, an unbound
// socket WSAEINVAL, a connected one WSAEISCONN. Calling it again on a
// listening socket changes the backlog.
func (ss *session) WSPListen(h wsa.Socket, backlog int32) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	if !s.stream {
		return wsa.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.pollConnectLocked() {
	case connDone, connPending:
		return wsa.WSAEISCONN
	}
	if !s.bound || s.conn == connFailed {
		return wsa.WSAEINVAL
	}
	if terr := s.ep.Listen(wsp.Backlog(backlog)); terr != nil {
		return translate(terr)
	}
	s.listening = true
	return nil
}

// WSPAccept is accept/WSAAccept. The socket must be listening (else
// WSAEINVAL). A non-blocking socket with nothing queued fails
// WSAEWOULDBLOCK; a blocking one waits (closesocket from another goroutine
// ends the wait with WSAEINTR).
//
// cond, if not nil, is called with the caller's (peer's) and callee's
// (local) addresses before the connection is given a socket: CF_ACCEPT
// accepts it; CF_REJECT resets it and the call fails WSAECONNREFUSED;
// CF_DEFER leaves it queued, the call fails WSATRY_AGAIN and the next
// accept is offered the same connection. Any other value fails WSAEINVAL
// and leaves the connection queued.
//
// The new socket inherits the listener's options: non-blocking mode,
// linger, buffer sizes, keep-alive and its times, TCP_NODELAY, time-outs,
// SO_OOBINLINE, TTL and TOS.
func (ss *session) WSPAccept(h wsa.Socket, cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return wsa.INVALID_SOCKET, nil, err
	}
	if !s.stream {
		return wsa.INVALID_SOCKET, nil, wsa.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	listening, nonblocking := s.listening, s.opts.Nonblocking
	s.mu.Unlock()
	return wsp.Accept(&s.rd.Readiness, listening, nonblocking, func() (wsa.Socket, wsa.Sockaddr, error) {
		return s.tryAccept(cond, callbackData)
	})
}

// tryAccept is the non-blocking step of accept: WSAEWOULDBLOCK when no
// connection is queued.
func (s *socket) tryAccept(cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	c, err := s.takeConn() // ext_accept.go
	if err != nil {
		return 0, nil, err
	}
	af := s.af
	peer := fromFull(af, c.peer)
	err = wsp.AcceptCondition(cond, callbackData, peer, func() wsa.Sockaddr {
		local, _ := c.ep.GetLocalAddress()
		return fromFull(af, local)
	}, func() { abortEndpoint(c.ep) }, func() { s.requeue(c) })
	if err != nil {
		return 0, nil, err
	}
	ns, err := s.newAccepted(c)
	if err != nil {
		return 0, nil, err
	}
	return ns, peer, nil
}

// requeue puts a deferred connection back at the head of the queue (or
// resets it if the listener closed meanwhile).
func (s *socket) requeue(c accepted) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rd.IsClosed() {
		abortEndpoint(c.ep)
		return
	}
	s.deferred = append([]accepted{c}, s.deferred...)
}

// newAccepted makes the socket and handle of an accepted connection, with
// the listener's options.
func (s *socket) newAccepted(c accepted) (wsa.Socket, error) {
	up, err := s.ss.upcalls()
	if err != nil {
		abortEndpoint(c.ep)
		return 0, err
	}
	s.mu.Lock()
	opts := s.opts
	s.mu.Unlock()
	n := &socket{
		ss:         s.ss,
		info:       s.info,
		af:         s.af,
		typ:        s.typ,
		proto:      s.proto,
		netProto:   s.netProto,
		transProto: s.transProto,
		stream:     true,
		overlapped: s.overlapped,
		opts:       opts,
		bound:      true,
		conn:       connDone,
	}
	n.opts.ReuseAddr, n.opts.Exclusive = false, false
	n.bindAddr, _ = c.ep.GetLocalAddress()
	n.connectedAt = time.Now()
	n.applyOpts(c.ep, &n.opts)
	h, err := s.ss.register(up, n, c.ep, c.wq)
	if err != nil {
		return 0, err
	}
	n.inheritEvents(s) // the listener's WSAEventSelect/WSAAsyncSelect
	return h, nil
}

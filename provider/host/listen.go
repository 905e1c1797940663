package host

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSPListen is listen. Datagram sockets fail WSAEOPNOTSUPP, an unbound
// socket WSAEINVAL, a connected one WSAEISCONN. Calling it again on a
// listening socket changes the backlog (SOMAXCONN and SOMAXCONN_HINT as on
// Windows; the kernel caps it at net.core.somaxconn).
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
	if err := unix.Listen(s.fd, wsp.Backlog(backlog)); err != nil {
		return translate(err)
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
// and leaves the connection queued. (The kernel completed the handshake
// already; a rejected connection is reset.)
//
// The new socket inherits the listener's options and its WSAEventSelect or
// WSAAsyncSelect registration.
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
	return wsp.Accept(&s.rd, listening, nonblocking, func() (wsa.Socket, wsa.Sockaddr, error) {
		return s.tryAccept(cond, callbackData)
	})
}

// takeConn takes the next connection of a listener: a deferred one first,
// then the kernel's queue. WSAEWOULDBLOCK when there is none.
func (l *socket) takeConn() (accepted, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.listening {
		return accepted{}, wsa.WSAEINVAL
	}
	if len(l.deferred) > 0 {
		c := l.deferred[0]
		l.deferred = l.deferred[1:]
		return c, nil
	}
	for {
		fd, sa, err := unix.Accept4(l.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch err {
		case nil:
			return accepted{fd: fd, peer: fromKernel(l.af, sa)}, nil
		case unix.EINTR, unix.ECONNABORTED:
			continue // a connection reset while queued: try the next
		case unix.EAGAIN:
			return accepted{}, wsa.WSAEWOULDBLOCK
		}
		return accepted{}, translate(err)
	}
}

// tryAccept is the non-blocking step of accept: WSAEWOULDBLOCK when no
// connection is queued.
func (s *socket) tryAccept(cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	c, err := s.takeConn()
	if err != nil {
		return 0, nil, err
	}
	err = wsp.AcceptCondition(cond, callbackData, c.peer, func() wsa.Sockaddr {
		if sa, err := unix.Getsockname(c.fd); err == nil {
			return fromKernel(s.af, sa)
		}
		return nil
	}, func() { abortFD(c.fd) }, func() { s.requeue(c) })
	if err != nil {
		return 0, nil, err
	}
	ns, err := s.newAccepted(c)
	if err != nil {
		return 0, nil, err
	}
	return ns, c.peer, nil
}

// requeue puts a deferred connection back at the head of the queue (or
// resets it if the listener closed meanwhile).
func (s *socket) requeue(c accepted) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rd.IsClosed() {
		abortFD(c.fd)
		return
	}
	s.deferred = append([]accepted{c}, s.deferred...)
}

// newAccepted makes the socket and handle of an accepted connection, with
// the listener's options and registration.
func (s *socket) newAccepted(c accepted) (wsa.Socket, error) {
	up, err := s.ss.upcalls()
	if err != nil {
		abortFD(c.fd)
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
		stream:     true,
		overlapped: s.overlapped,
		opts:       opts,
		bound:      true,
		conn:       connDone,
	}
	n.opts.ReuseAddr, n.opts.Exclusive = false, false
	n.connectedAt = time.Now()
	n.applyOpts(c.fd, &n.opts)
	h, err := s.ss.register(up, n, c.fd)
	if err != nil {
		return 0, err
	}
	n.inheritEvents(s) // the listener's WSAEventSelect/WSAAsyncSelect
	return h, nil
}

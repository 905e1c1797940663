package host

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// connState is where a stream socket is in connecting.
type connState uint8

const (
	connNone    connState = iota // never connected, or a failed attempt was cleared
	connPending                  // handshake under way
	connDone                     // connected (it may have been closed or reset since)
	connFailed                   // the attempt failed; connect may be called again
)

// socket is the provider's state for one socket handle: the context given
// to WPUCreateSocketHandle. Its kernel descriptor may be replaced (AcceptEx
// attaches the accepted connection; TF_REUSE_SOCKET makes a fresh one).
//
// Locks: mu (the socket's state), then the bind table's, then any
// socket's fdmu (read). fd is written with both mu and fdmu held; a holder
// of mu reads it freely, anyone else holds fdmu for reading around its
// system call (so that a concurrent closesocket cannot close, and the
// kernel reuse, the descriptor under it). System calls are non-blocking, so
// fdmu is never held long; a holder of fdmu never takes mu.
type socket struct {
	ss         *session
	info       wsa.ProtocolInfo // the catalog entry (SO_PROTOCOL_INFOW)
	af, typ    int32
	proto      int32
	stream     bool
	overlapped bool // WSA_FLAG_OVERLAPPED: SO_RCVTIMEO/SO_SNDTIMEO apply
	handle     wsa.Socket

	rd  wsp.Readiness
	ovq wsp.Queues

	// rstOnData is set by shutdown(SD_RECEIVE) on a stream socket: data
	// queued or arriving later resets the connection. rstBusy guards the
	// goroutine that does it.
	rstOnData atomic.Bool
	rstBusy   atomic.Bool

	// Extension functions' state.
	hideNames atomic.Bool // AcceptEx'd, before SO_UPDATE_ACCEPT_CONTEXT
	pktinfo4  atomic.Bool // IP_PKTINFO (Windows' option: control data wanted)
	pktinfo6  atomic.Bool // IPV6_PKTINFO

	fdmu sync.RWMutex
	fd   int // -1 once closed

	mu          sync.Mutex
	pollID      uint64 // fd's registration with the poller
	opts        wsp.SockOpts
	bound       bool           // has a local address (bind, implicit bind, accept)
	bindK       wsp.BindKey    // its reservation in the bind table (bindE != nil)
	bindE       *wsp.BindEntry // nil for accepted sockets
	listening   bool
	conn        connState
	connTimer   *time.Timer
	connGen     uint64    // counts connect timers; a stale one does nothing
	connTimeout bool      // the connect timer fired
	connectedAt time.Time // for SO_CONNECT_TIME
	connErr     error     // sticky terminal error of the connection (reset, abort)
	soError     wsa.Errno // SO_ERROR, cleared when read
	shutRecv    bool
	shutSend    bool
	udpPeer     bool // UDP: connected to a default peer
	udpPeer4    bool // UDP: that peer is IPv4 (or IPv4-mapped): the size limit of a send
	icmpErr     bool // UDP: an ICMP port unreachable not yet reported
	deferred    []accepted
	closing     bool      // closesocket is waiting (linger) with mu released
	lingering   bool      // a non-blocking lingering close is under way
	lingerEnd   time.Time // its deadline
}

// accepted is a connection taken from the kernel's accept queue that the
// condition function deferred.
type accepted struct {
	fd   int
	peer wsa.Sockaddr
}

// sysFD runs fn with the current descriptor, held against closesocket;
// WSAEINTR if the socket is closed.
func (s *socket) sysFD(fn func(fd int) error) error {
	s.fdmu.RLock()
	defer s.fdmu.RUnlock()
	if s.fd < 0 {
		return wsa.WSAEINTR
	}
	return fn(s.fd)
}

// setupFD applies the provider's fixed settings and the remembered options
// to a new descriptor of this socket. Errors are ignored: the values were
// accepted when set.
func (s *socket) setupFD(fd int, o *wsp.SockOpts) {
	if s.af == wsa.AF_INET6 {
		_ = setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolInt(o.V6Only))
	}
	if !s.stream {
		// ICMP errors for unconnected sockets too (Windows reports a
		// port unreachable on any UDP socket).
		_ = setInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		if s.af == wsa.AF_INET6 {
			_ = setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
		}
	}
	s.applyOpts(fd, o)
}

// applyOpts writes the remembered options to fd.
func (s *socket) applyOpts(fd int, o *wsp.SockOpts) {
	_ = setInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, boolInt(o.Broadcast))
	if o.TTL >= 0 {
		_ = setInt(fd, unix.IPPROTO_IP, unix.IP_TTL, o.TTL)
	}
	if o.Hops >= 0 && s.af == wsa.AF_INET6 {
		_ = setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, o.Hops)
	}
	if o.TOS >= 0 {
		if s.af == wsa.AF_INET {
			_ = setInt(fd, unix.IPPROTO_IP, unix.IP_TOS, o.TOS)
		} else {
			_ = setInt(fd, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, o.TOS)
		}
	}
	if o.RcvBuf >= 0 {
		_ = setInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, int(o.RcvBuf))
	}
	if o.SndBuf >= 0 {
		_ = setInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, int(o.SndBuf))
	}
	if !s.stream {
		return
	}
	_ = setInt(fd, unix.SOL_SOCKET, unix.SO_OOBINLINE, boolInt(o.OOBInline))
	_ = setInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolInt(o.Keepalive))
	_ = setInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(o.KeepIdle/time.Second))
	_ = setInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, max(int(o.KeepIntvl/time.Second), 1))
	if o.KeepCnt > 0 {
		_ = setInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, min(o.KeepCnt, 127))
	}
	_ = setInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(o.NoDelay))
}

// WSPSocket is WSPSocket for one of the provider's catalog entries (see
// wsp.CheckSocketArgs for the argument rules). WSA_FLAG_OVERLAPPED is
// recorded: only overlapped sockets (those of socket(), which passes it)
// honour SO_RCVTIMEO and SO_SNDTIMEO.
func (ss *session) WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	up, err := ss.upcalls()
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	af, typ, protocol, err = wsp.CheckSocketArgs(af, typ, protocol, info, g)
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	s := &socket{
		ss:         ss,
		info:       *info,
		af:         af,
		typ:        typ,
		proto:      protocol,
		stream:     typ == wsa.SOCK_STREAM,
		overlapped: flags&wsa.WSA_FLAG_OVERLAPPED != 0,
		opts:       wsp.DefaultOpts(af),
	}
	fd, err := newSocketFD(af, typ)
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	s.setupFD(fd, &s.opts)
	return ss.register(up, s, fd)
}

// register attaches fd to s, makes the handle and records the socket.
func (ss *session) register(up provider.UpcallTable, s *socket, fd int) (wsa.Socket, error) {
	s.fd = fd
	s.rd.Observe(s.observe) // for the socket's life: never removed
	id, err := ss.poll.add(fd, &s.rd)
	if err != nil {
		s.rd.Close()
		abortFD(fd)
		return wsa.INVALID_SOCKET, wsa.WSAENETDOWN
	}
	s.pollID = id
	h, err := up.WPUCreateSocketHandle(s.info.CatalogEntryId, s)
	if err != nil {
		s.rd.Close()
		ss.poll.del(id, fd)
		abortFD(fd)
		return wsa.INVALID_SOCKET, err
	}
	s.handle = h
	s.ovq.Init(&s.rd, h)
	ss.sockets.Add(s)
	return h, nil
}

// replaceFDLocked puts fd in place of the socket's descriptor (AcceptEx's
// connection, TF_REUSE_SOCKET's fresh socket) and closes the old one. The
// caller holds s.mu and has released any bind table entry.
func (s *socket) replaceFDLocked(fd int) error {
	id, err := s.ss.poll.add(fd, &s.rd)
	if err != nil {
		return wsa.WSAENETDOWN
	}
	s.fdmu.Lock()
	old, oldID := s.fd, s.pollID
	s.fd, s.pollID = fd, id
	s.fdmu.Unlock()
	s.ss.poll.del(oldID, old)
	unix.Close(old)
	return nil
}

// observe is the socket's readiness observer: it carries out the
// shutdown(SD_RECEIVE) rule that data arriving afterwards resets the
// connection. It runs in the poller's goroutine, so the reset is done by a
// short-lived goroutine.
func (s *socket) observe(m wsp.Event) {
	if m&(wsp.EventIn|wsp.EventPri) == 0 || !s.rstOnData.Load() {
		return
	}
	if s.rstBusy.CompareAndSwap(false, true) {
		go func() {
			defer s.rstBusy.Store(false)
			s.resetIfQueued()
		}()
	}
}

// resetIfQueued resets the connection if received data is queued (after
// shutdown(SD_RECEIVE)).
func (s *socket) resetIfQueued() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rd.IsClosed() || s.connErr != nil {
		return
	}
	if inq(s.fd) > 0 || revents(s.fd)&unix.POLLPRI != 0 {
		s.resetLocked(wsa.WSAECONNABORTED)
	}
}

// resetLocked resets the connection (RST) without closing the socket, and
// makes err its sticky error.
func (s *socket) resetLocked(err error) {
	_ = disconnect(s.fd)
	if s.connErr == nil {
		s.connErr = err
	}
	s.rd.Notify(wsp.EventAll) // wake blocked calls
}

// rcvTimeout and sndTimeout return SO_RCVTIMEO and SO_SNDTIMEO, which only
// overlapped sockets honour.
func (s *socket) rcvTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.overlapped {
		return 0
	}
	return time.Duration(s.opts.RcvTimeo) * time.Millisecond
}

func (s *socket) sndTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.overlapped {
		return 0
	}
	return time.Duration(s.opts.SndTimeo) * time.Millisecond
}

// Watch, Closed, Conditions and Stream make the socket a wsp.Waitable
// (select, WSAPoll).
func (s *socket) Watch(fn func()) (remove func()) {
	return s.rd.AddObserver(func(wsp.Event) { fn() })
}

// Closed reports whether the socket was closed.
func (s *socket) Closed() bool { return s.rd.IsClosed() }

// Stream reports a stream socket.
func (s *socket) Stream() bool { return s.stream }

// Conditions computes the socket's conditions now from the kernel's
// readiness (poll(2) with no wait) and the socket's state: the view that
// select, WSAPoll and the FD_* events build on.
func (s *socket) Conditions() wsp.Conditions {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c wsp.Conditions
	if s.rd.IsClosed() {
		return c
	}
	if s.stream {
		if s.listening {
			c.Accept = revents(s.fd)&unix.POLLIN != 0 || len(s.deferred) > 0
			c.Readable = c.Accept
			return c
		}
		switch s.pollConnectLocked() {
		case connDone:
			rev := revents(s.fd)
			c.Connected = true
			c.Data = s.dataQueuedLocked(rev)
			c.Readable = rev&(unix.POLLIN|unix.POLLHUP|unix.POLLERR|unix.POLLRDHUP) != 0 || s.shutRecv || s.connErr != nil
			c.Writable = rev&unix.POLLOUT != 0
			c.Closed = rev&(unix.POLLHUP|unix.POLLRDHUP|unix.POLLERR) != 0 || s.connErr != nil
			c.OOB = rev&unix.POLLPRI != 0 && !s.opts.OOBInline && !s.shutRecv && s.connErr == nil
			if c.Closed {
				c.CloseErr = s.closeErrLocked(c.Data, rev)
			}
		case connFailed:
			if s.soError != 0 {
				c.Failed = s.soError
			} else {
				c.Failed = wsa.WSAECONNREFUSED
			}
		}
		return c
	}
	rev := revents(s.fd)
	c.Readable = rev&(unix.POLLIN|unix.POLLERR) != 0 || s.shutRecv
	c.Data = c.Readable
	c.Writable = rev&unix.POLLOUT != 0
	return c
}

// dataQueuedLocked reports whether a stream socket has received data that
// a receive would return: not the peer's FIN, nor data that
// shutdown(SD_RECEIVE) or a connection error made unreadable.
func (s *socket) dataQueuedLocked(rev int16) bool {
	if s.shutRecv || s.connErr != nil || rev&unix.POLLIN == 0 {
		return false
	}
	return inq(s.fd) > 0
}

// closeErrLocked tells why a closed stream connection closed: nil for the
// peer's FIN, else the sticky connection error (WSAECONNRESET for a reset,
// WSAECONNABORTED or WSAETIMEDOUT for a local abort or a time-out). The
// kernel reports a reset once (SO_ERROR, or the next receive); when no data
// is left to read it is taken here and made sticky, so receives see the
// same error. While data remains it is left to the receive, and the answer
// is provisional.
func (s *socket) closeErrLocked(data bool, rev int16) error {
	if s.connErr != nil {
		return s.connErr
	}
	if rev&unix.POLLERR == 0 {
		return nil
	}
	if data {
		return wsa.WSAECONNRESET
	}
	if e := soError(s.fd); e != 0 {
		s.connErr = streamErrno(e)
	} else {
		// A receive took it and is about to make it sticky; a reset is
		// the one way here it may have seen.
		s.connErr = wsa.WSAECONNRESET
	}
	return s.connErr
}

// pollConnectLocked advances a pending connect from the kernel's state and
// returns the connection state. A failure is recorded in SO_ERROR.
func (s *socket) pollConnectLocked() connState {
	if s.conn != connPending {
		return s.conn
	}
	switch st := tcpState(s.fd); st {
	case tcpSynSent, tcpSynRecv:
	case tcpClose:
		code := wsa.WSAECONNREFUSED
		switch e := soError(s.fd); {
		case s.connTimeout:
			code = wsa.WSAETIMEDOUT
		case e != 0:
			code = errnoOf(e)
			if code == wsa.WSAECONNRESET {
				code = wsa.WSAECONNREFUSED // a RST answering our SYN
			}
		}
		s.soError = code
		s.conn = connFailed
		s.stopConnTimerLocked()
	default:
		s.conn = connDone
		s.connectedAt = time.Now()
		s.stopConnTimerLocked()
	}
	return s.conn
}

func (s *socket) stopConnTimerLocked() {
	if s.connTimer != nil {
		s.connTimer.Stop()
		s.connTimer = nil
	}
}

// streamErr turns the errno of a receive or send on a stream into the
// Winsock error, keeping a terminal error (reset, abort, time-out) sticky:
// the kernel reports it once, Winsock on every later call.
func (s *socket) streamErr(e error, sending bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connErr != nil {
		return s.connErr
	}
	en, _ := e.(unix.Errno)
	switch en {
	case unix.ECONNRESET, unix.ECONNABORTED, unix.ETIMEDOUT:
		s.connErr = streamErrno(en)
		return s.connErr
	case unix.EPIPE:
		if s.shutSend {
			return wsa.WSAESHUTDOWN
		}
		s.connErr = wsa.WSAECONNABORTED
		return s.connErr
	case unix.ENOTCONN:
		return wsa.WSAENOTCONN
	}
	return translate(e)
}

// abortClose closes the socket abortively (WSACleanup's rule for sockets
// still open): no linger, a RST for a connection.
func (s *socket) abortClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rd.IsClosed() {
		return
	}
	setLingerAbort(s.fd)
	s.finishCloseLocked()
}

// finishCloseLocked releases everything: wakes blocked calls (WSAEINTR),
// frees the port, closes the descriptor and deferred connections.
func (s *socket) finishCloseLocked() {
	s.rd.Close()
	s.stopConnTimerLocked()
	if s.bindE != nil {
		s.ss.p.binds.Release(s.bindK, s.bindE)
		s.bindE = nil
	}
	for _, a := range s.deferred {
		abortFD(a.fd)
	}
	s.deferred = nil
	s.fdmu.Lock()
	fd := s.fd
	s.fd = -1
	s.fdmu.Unlock()
	s.ss.poll.del(s.pollID, fd)
	unix.Close(fd)
	s.ss.sockets.Remove(s)
}

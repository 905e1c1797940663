package netstack

import (
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// Largest datagram payloads (wsp.MaxUDP4, wsp.MaxUDP6).
const (
	maxUDP4 = wsp.MaxUDP4
	maxUDP6 = wsp.MaxUDP6
)

// connState is where a stream socket is in connecting.
type connState uint8

const (
	connNone    connState = iota // never connected, or a failed attempt was replaced
	connPending                  // handshake under way
	connDone                     // connected (it may have been closed or reset since)
	connFailed                   // the attempt failed; the endpoint must be replaced
)

// socket is the provider's state for one socket handle: the context given
// to WPUCreateSocketHandle. Its gVisor endpoint may be replaced (a connect
// after a failed one), so it is read through endpoint() or under mu; a
// stream socket has none until its first use (noEP).
type socket struct {
	ss         *session
	info       wsa.ProtocolInfo // the catalog entry (SO_PROTOCOL_INFOW)
	af, typ    int32
	proto      int32
	netProto   tcpip.NetworkProtocolNumber
	transProto tcpip.TransportProtocolNumber
	stream     bool
	overlapped bool // WSA_FLAG_OVERLAPPED: SO_RCVTIMEO/SO_SNDTIMEO apply
	handle     wsa.Socket
	raw        *rawState // SOCK_RAW sockets only (raw.go)

	rd readiness

	// ovq holds the pending overlapped operations (overlapped.go).
	ovq wsp.Queues

	// The extension functions' state (ext_*.go).
	hideNames atomic.Bool // AcceptEx'd, before SO_UPDATE_ACCEPT_CONTEXT
	pktinfo4  atomic.Bool // IP_PKTINFO
	pktinfo6  atomic.Bool // IPV6_PKTINFO

	// rstOnData is set by shutdown(SD_RECEIVE) on a stream socket: data
	// queued or arriving later resets the connection. rstBusy guards the
	// goroutine that does it.
	rstOnData atomic.Bool
	rstBusy   atomic.Bool

	// noEP is set while a stream socket has no gVisor endpoint (ep is
	// nil): WSPSocket leaves creating it to the socket's first use, so
	// that an AcceptEx accept socket, which takes the accepted
	// connection's endpoint, never has one of its own. lookup creates it
	// (ensureEndpoint); the few procedures that need none find the socket
	// with lookupLazy.
	noEP atomic.Bool

	mu          sync.Mutex
	ep          tcpip.Endpoint // nil while noEP
	opts        wsp.SockOpts
	bound       bool              // has a local address (bind, implicit bind, accept)
	bindK       bindKey           // its reservation in the bind table (bindE != nil)
	bindE       *bindEntry        // nil for accepted sockets
	bindAddr    tcpip.FullAddress // what the endpoint was bound to
	listening   bool
	conn        connState
	connTimer   *time.Timer
	connTimeout bool      // the connect timer fired
	connectedAt time.Time // for SO_CONNECT_TIME
	connErr     error     // sticky terminal error of the connection (reset, abort)
	soError     wsa.Errno // SO_ERROR, cleared when read
	shutRecv    bool
	shutSend    bool
	rstWatched  bool // observe is installed (watchResetLocked)
	udpPeer     bool // UDP: connected to a default peer
	udpPeer4    bool // UDP: that peer is IPv4 (or v4-mapped), set with udpPeer
	icmpErr     bool // UDP: an ICMP port unreachable not yet reported
	deferred    []accepted
	acceptPeer  tcpip.FullAddress // takeConn's out-parameter of gVisor's Accept, kept here so it is not allocated per accept
	closing     bool              // closesocket is waiting (linger) with s.mu released
	lingering   bool              // a non-blocking lingering close is under way
	lingerEnd   time.Time         // its deadline
}

// accepted is a connection taken from gVisor's accept queue that the
// condition function deferred.
type accepted struct {
	ep   tcpip.Endpoint
	wq   *waiter.Queue
	peer tcpip.FullAddress
}

// endpoint returns the current gVisor endpoint.
func (s *socket) endpoint() tcpip.Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ep
}

// newEndpoint creates a gVisor endpoint for the socket's protocol and
// family, with the provider's fixed settings: gVisor's address-reuse flag
// on (the bind table decides every bind first; see bindTable), IPV6_V6ONLY
// and Windows' keep-alive defaults.
func (s *socket) newEndpoint() (tcpip.Endpoint, *waiter.Queue, error) {
	wq := new(waiter.Queue)
	ep, err := s.ss.p.gs.NewEndpoint(s.transProto, s.netProto, wq)
	if err != nil {
		return nil, nil, translate(err)
	}
	ep.SocketOptions().SetReuseAddress(true)
	return ep, wq, nil
}

// applyOpts writes the remembered options to ep (a new endpoint of this
// socket). Errors are ignored: the values were accepted when set.
func (s *socket) applyOpts(ep tcpip.Endpoint, o *wsp.SockOpts) {
	ops := ep.SocketOptions()
	if s.af == wsa.AF_INET6 {
		ops.SetV6Only(o.V6Only)
	}
	ops.SetBroadcast(o.Broadcast)
	if o.TTL >= 0 {
		_ = ep.SetSockOptInt(tcpip.IPv4TTLOption, o.TTL)
	}
	if o.Hops >= 0 {
		_ = ep.SetSockOptInt(tcpip.IPv6HopLimitOption, o.Hops)
	}
	if o.TOS >= 0 {
		if s.af == wsa.AF_INET {
			_ = ep.SetSockOptInt(tcpip.IPv4TOSOption, o.TOS)
		} else {
			_ = ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, o.TOS)
		}
	}
	if o.RcvBuf >= 0 {
		ops.SetReceiveBufferSize(int64(o.RcvBuf), true)
	}
	if o.SndBuf >= 0 {
		ops.SetSendBufferSize(int64(o.SndBuf), true)
	}
	if !s.stream {
		return
	}
	ops.SetKeepAlive(o.Keepalive)
	idle, intvl := &defaultKeepIdle, &defaultKeepIntvl
	if o.KeepIdle != wsp.DefaultKeepIdle {
		v := tcpip.KeepaliveIdleOption(o.KeepIdle)
		idle = &v
	}
	if o.KeepIntvl != wsp.DefaultKeepIntvl {
		v := tcpip.KeepaliveIntervalOption(o.KeepIntvl)
		intvl = &v
	}
	_ = ep.SetSockOpt(idle)
	_ = ep.SetSockOpt(intvl)
	_ = ep.SetSockOptInt(tcpip.KeepaliveCountOption, o.KeepCnt)
	ops.SetDelayOption(!o.NoDelay)
	ops.SetLinger(tcpip.LingerOption{})
}

// Windows' keep-alive defaults as gVisor options: applyOpts passes them
// by pointer (gVisor only reads them), so the usual case allocates
// nothing. Read only.
var (
	defaultKeepIdle  = tcpip.KeepaliveIdleOption(wsp.DefaultKeepIdle)
	defaultKeepIntvl = tcpip.KeepaliveIntervalOption(wsp.DefaultKeepIntvl)
)

// protoNumbers returns gVisor's numbers for a socket of family af and type
// typ.
func protoNumbers(af, typ int32) (tcpip.NetworkProtocolNumber, tcpip.TransportProtocolNumber) {
	n := ipv4.ProtocolNumber
	if af == wsa.AF_INET6 {
		n = ipv6.ProtocolNumber
	}
	t := tcp.ProtocolNumber
	if typ == wsa.SOCK_DGRAM {
		t = udp.ProtocolNumber
	}
	return n, t
}

// WSPSocket is WSPSocket for one of the provider's catalog entries. af, typ
// and protocol FROM_PROTOCOL_INFO take info's values; protocol 0 selects
// info's protocol. A family, type or protocol that is not info's fails
// WSAEAFNOSUPPORT, WSAESOCKTNOSUPPORT or WSAEPROTONOSUPPORT; a group
// WSAEINVAL. WSA_FLAG_OVERLAPPED is recorded: only overlapped sockets (those
// of socket(), which passes it) honour SO_RCVTIMEO and SO_SNDTIMEO.
func (ss *session) WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	up, err := ss.upcalls()
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	if info != nil && info.SocketType == wsa.SOCK_RAW {
		return ss.rawSocket(up, af, typ, protocol, info, g, flags) // raw.go
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
	s.netProto, s.transProto = protoNumbers(af, typ)
	if s.stream && ss.p.gs.TransportProtocolInstance(s.transProto) != nil && ss.p.gs.NetworkProtocolInstance(s.netProto) != nil {
		// The endpoint comes at the first use (ensureEndpoint); creating
		// it cannot fail for want of the protocols.
		s.noEP.Store(true)
		return ss.register(up, s, nil, nil)
	}
	ep, wq, err := s.newEndpoint()
	if err != nil {
		return wsa.INVALID_SOCKET, err
	}
	s.applyOpts(ep, &s.opts)
	return ss.register(up, s, ep, wq)
}

// register attaches ep (nil for a socket whose endpoint comes later, see
// noEP) to s, makes the handle and records the socket.
func (ss *session) register(up provider.UpcallTable, s *socket, ep tcpip.Endpoint, wq *waiter.Queue) (wsa.Socket, error) {
	s.ep = ep
	s.rd.init()
	if wq != nil {
		s.rd.attach(wq)
	}
	h, err := up.WPUCreateSocketHandle(s.info.CatalogEntryId, s)
	if err != nil {
		s.rd.Close()
		s.rd.detach()
		if ep != nil {
			ep.Abort()
			ep.Close()
		}
		return wsa.INVALID_SOCKET, err
	}
	s.handle = h
	s.ovq.Init(&s.rd.Readiness, h)
	ss.sockets.Add(s)
	return h, nil
}

// ensureEndpoint gives a socket without its gVisor endpoint (noEP) one,
// with the socket's options. lookup calls it, so every procedure but those
// of lookupLazy finds the socket with its endpoint; after that the
// endpoint is only ever replaced, never removed.
func (s *socket) ensureEndpoint() error {
	if !s.noEP.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ep != nil || s.rd.IsClosed() {
		return nil // created meanwhile, or AcceptEx gave it a connection
	}
	ep, wq, err := s.newEndpoint()
	if err != nil {
		return err
	}
	s.applyOpts(ep, &s.opts)
	s.ep = ep
	s.noEP.Store(false)
	s.rd.attach(wq)
	return nil
}

// observe is the socket's readiness observer, installed by the first
// shutdown(SD_RECEIVE) of a stream socket (watchResetLocked): it carries
// out the rule that data arriving afterwards resets the connection. It
// runs in gVisor's notification context, so the reset is done by a
// short-lived goroutine.
func (s *socket) observe(m wsp.Event) {
	if m&wsp.EventIn == 0 || !s.rstOnData.Load() {
		return
	}
	if s.rstBusy.CompareAndSwap(false, true) {
		go func() {
			defer s.rstBusy.Store(false)
			s.resetIfQueued()
		}()
	}
}

// watchResetLocked installs observe, once: shutdown(SD_RECEIVE) calls it
// when it sets rstOnData, so that sockets never shut down that way carry
// no observer of their own.
func (s *socket) watchResetLocked() {
	if !s.rstWatched {
		s.rstWatched = true
		s.rd.Observe(s.observe)
	}
}

// resetIfQueued resets the connection if received data is queued (after
// shutdown(SD_RECEIVE)).
func (s *socket) resetIfQueued() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rd.IsClosed() {
		return
	}
	if n, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); err == nil && n > 0 {
		s.ep.Abort()
		if s.connErr == nil {
			s.connErr = wsa.WSAECONNABORTED
		}
	}
}

// renewLocked replaces a failed endpoint with a fresh one carrying the
// socket's options and local binding, so that connect may be called again
// after a failed attempt (as Winsock allows and gVisor does not).
func (s *socket) renewLocked() error {
	ep, wq, err := s.newEndpoint()
	if err != nil {
		return err
	}
	s.applyOpts(ep, &s.opts)
	old := s.ep
	old.Close()
	if s.bound {
		if s.opts.ReuseAddr {
			ep.SocketOptions().SetReusePort(true)
		}
		if terr := ep.Bind(s.bindAddr); terr != nil {
			ep.Close()
			return translate(terr)
		}
	}
	s.ep = ep
	s.rd.attach(wq)
	s.conn = connNone
	s.connTimeout = false
	s.connErr = nil
	return nil
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

// conditions computes the socket's conditions now. It is the readiness
// core's view that the I/O models (select, WSAPoll, WSAEventSelect) build
// on, re-evaluated whenever the readiness observer fires.
func (s *socket) conditions() wsp.Conditions {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c wsp.Conditions
	if s.rd.IsClosed() || s.ep == nil {
		return c // an endpoint-less socket is fresh: no condition holds
	}
	ev := s.ep.Readiness(watchedEvents)
	if s.stream {
		if s.listening {
			c.Accept = ev&waiter.ReadableEvents != 0 || len(s.deferred) > 0
			c.Readable = c.Accept
			return c
		}
		st := s.pollConnectLocked()
		switch st {
		case connDone:
			c.Connected = true
			c.Data = s.dataQueuedLocked()
			c.Readable = ev&(waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr) != 0 || s.shutRecv || s.connErr != nil
			c.Writable = ev&waiter.WritableEvents != 0
			c.Closed = ev&(waiter.EventHUp|waiter.EventRdHUp) != 0 || s.connErr != nil
			if c.Closed {
				c.CloseErr = s.closeErrLocked(c.Data)
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
	c.Readable = ev&(waiter.ReadableEvents|waiter.EventErr) != 0 || s.shutRecv
	c.Data = c.Readable
	c.Writable = ev&waiter.WritableEvents != 0
	return c
}

// connected stream states of gVisor's TCP endpoint.
func tcpConnected(st tcp.EndpointState) bool {
	switch st {
	case tcp.StateEstablished, tcp.StateFinWait1, tcp.StateFinWait2, tcp.StateTimeWait,
		tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing:
		return true
	}
	return false
}

func tcpConnecting(st tcp.EndpointState) bool {
	switch st {
	case tcp.StateConnecting, tcp.StateSynSent, tcp.StateSynRecv:
		return true
	}
	return false
}

// pollConnectLocked advances a pending connect from the endpoint's state and
// returns the connection state. A failure is recorded in SO_ERROR.
func (s *socket) pollConnectLocked() connState {
	if s.conn != connPending {
		return s.conn
	}
	st := tcp.EndpointState(s.ep.State())
	switch {
	case tcpConnected(st):
		s.conn = connDone
		s.connectedAt = time.Now()
		s.stopConnTimerLocked()
	case tcpConnecting(st):
	default:
		var code wsa.Errno
		terr := s.ep.LastError()
		switch {
		case s.connTimeout:
			code = wsa.WSAETIMEDOUT
		case terr != nil:
			code = errno(terr)
			if code == wsa.WSAECONNRESET {
				code = wsa.WSAECONNREFUSED // a RST answering our SYN
			}
		default:
			code = wsa.WSAECONNREFUSED
		}
		s.soError = code
		s.conn = connFailed
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

// streamErr turns the error of a read or write on a stream endpoint into
// the Winsock error, keeping a terminal error (reset, abort, time-out)
// sticky: gVisor reports it once, Winsock on every later call.
func (s *socket) streamErr(terr tcpip.Error, sending bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rd.IsClosed() || s.closing {
		// closesocket in another goroutine closed or is shutting down the
		// endpoint under this call: that ends blocked calls with WSAEINTR,
		// not with what the endpoint now says.
		return wsa.WSAEINTR
	}
	if s.connErr != nil {
		return s.connErr
	}
	switch terr.(type) {
	case *tcpip.ErrConnectionReset, *tcpip.ErrConnectionAborted, *tcpip.ErrAborted, *tcpip.ErrTimeout:
		s.connErr = errno(terr)
		return s.connErr
	case *tcpip.ErrClosedForSend:
		if s.shutSend || !sending {
			return wsa.WSAESHUTDOWN
		}
		if st := tcp.EndpointState(s.ep.State()); st == tcp.StateError || st == tcp.StateClose {
			s.connErr = wsa.WSAECONNABORTED
			return s.connErr
		}
		return wsa.WSAESHUTDOWN
	case *tcpip.ErrNotConnected:
		return wsa.WSAENOTCONN
	}
	return translate(terr)
}

// abortClose closes the socket abortively (WSACleanup's rule for sockets
// still open): no linger, a RST for a connection.
func (s *socket) abortClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rd.IsClosed() {
		return
	}
	if s.ep != nil {
		s.ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true})
	}
	s.finishCloseLocked()
}

// finishCloseLocked releases everything: wakes blocked calls (WSAEINTR),
// frees the port, closes the endpoint and deferred connections.
func (s *socket) finishCloseLocked() {
	s.rd.Close()
	s.stopConnTimerLocked()
	if s.bindE != nil {
		s.ss.p.binds.release(s.bindK, s.bindE)
		s.bindE = nil
	}
	for _, a := range s.deferred {
		abortEndpoint(a.ep)
	}
	s.deferred = nil
	if s.ep != nil {
		s.ep.Close()
	}
	s.rd.detach()
	s.ss.sockets.Remove(s)
}

// abortEndpoint resets and closes a connection the application never got.
func abortEndpoint(ep tcpip.Endpoint) {
	ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true})
	ep.Close()
}

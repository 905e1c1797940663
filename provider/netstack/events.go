package netstack

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/wsa"
)

// The FD_* network events of WSAEventSelect and WSAAsyncSelect (spec §5.1,
// §5.2), derived from the readiness core.
//
// A socket has at most one registration (fdReg), held in its readiness
// core (eventState). The registration keeps, per FD_* event, whether it is
// armed: an armed event is recorded as soon as its condition holds; once
// recorded it is disarmed until its re-enabling call (reenableEvents):
//
//	FD_READ, FD_OOB  recv family (any call, even a failing one)
//	FD_ACCEPT        accept family (not a CF_DEFER → WSATRY_AGAIN)
//	FD_WRITE         a send failing WSAEWOULDBLOCK; the start of a connect
//	FD_CONNECT       the start of a connect (one-shot per attempt)
//	FD_CLOSE         never (one-shot)
//
// Re-enabling re-evaluates the conditions at once, so FD_READ, FD_OOB and
// FD_ACCEPT are level-triggered at re-enable time.
//
// Conditions are evaluated with socket.conditions, never in gVisor's
// notification context: the registration's readiness observer only kicks a
// short-lived worker goroutine (one at a time per socket, events coalesced),
// which evaluates and records. An idle registered socket runs nothing.
//
// Locks: socket.mu, then eventState.mu, then readiness.mu. Recording,
// signalling (WPUSetEvent, WPUPostMessage) and WSPEnumNetworkEvents's
// copy-clear-reset all happen under eventState.mu, the socket's event lock.

// eventState is a socket's WSAEventSelect/WSAAsyncSelect state, kept in its
// readiness core: 16 bytes while unregistered.
type eventState struct {
	mu  sync.Mutex            // the socket's event lock
	reg atomic.Pointer[fdReg] // the registration, or nil; stored under mu
}

// fdReg is one WSAEventSelect or WSAAsyncSelect registration.
type fdReg struct {
	s     *socket
	mask  int32      // lNetworkEvents
	async bool       // WSAAsyncSelect: post messages; else signal event
	event wsa.Handle // WSAEventSelect's event
	hwnd  wsa.Handle // WSAAsyncSelect's window and message
	msg   uint32

	remove func() // removes the readiness observer

	armed int32             // events that may be recorded; under eventState.mu
	rec   wsa.NetworkEvents // WSAEventSelect's record; under eventState.mu
	// seq counts arming changes: an evaluation that raced with one is
	// dropped (the arming caller evaluates again after it).
	seq  atomic.Uint32
	work atomic.Int32 // kicks not yet handled by the worker
}

// fdOrder is the order in which events recorded together are posted.
var fdOrder = [...]int32{wsa.FD_CONNECT_BIT, wsa.FD_ACCEPT_BIT, wsa.FD_READ_BIT, wsa.FD_OOB_BIT, wsa.FD_WRITE_BIT, wsa.FD_CLOSE_BIT}

// WSPEventSelect is WSAEventSelect: it associates event with the FD_*
// events of lNetworkEvents (bits outside FD_ALL_EVENTS are ignored),
// replacing any earlier WSAEventSelect or WSAAsyncSelect on the socket and
// clearing the record. Conditions already true are recorded and event
// signalled at once. lNetworkEvents 0 cancels (event is ignored); a
// non-zero mask with no event (WSA_INVALID_EVENT) is WSAEINVAL. Either way
// the socket becomes non-blocking, and FIONBIO cannot make it blocking
// again (WSAEINVAL) until the registration is cancelled.
func (ss *session) WSPEventSelect(h wsa.Socket, event wsa.Handle, events int32) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	events &= wsa.FD_ALL_EVENTS
	if events == 0 {
		return s.selectEvents(nil)
	}
	if event == 0 {
		return wsa.WSAEINVAL
	}
	return s.selectEvents(&fdReg{mask: events, event: event})
}

// WSPAsyncSelect is WSAAsyncSelect: as WSPEventSelect, but each recorded
// event is posted as a message to hwnd with WPUPostMessage (wParam the
// socket, lParam WSAMAKESELECTREPLY(event, error)). events 0 cancels; a
// non-zero mask with no window is WSAEINVAL.
func (ss *session) WSPAsyncSelect(h wsa.Socket, hwnd wsa.Handle, msg uint32, events int32) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	events &= wsa.FD_ALL_EVENTS
	if events == 0 {
		return s.selectEvents(nil)
	}
	if hwnd == 0 {
		return wsa.WSAEINVAL
	}
	return s.selectEvents(&fdReg{mask: events, async: true, hwnd: hwnd, msg: msg})
}

// WSPEnumNetworkEvents is WSAEnumNetworkEvents: it returns and clears the
// socket's record of network events and, if event is not 0, resets event,
// atomically with respect to recording. A socket without a WSAEventSelect
// registration has an empty record. An event that cannot be reset is
// WSAEINVAL (nothing is cleared then).
func (ss *session) WSPEnumNetworkEvents(h wsa.Socket, event wsa.Handle) (wsa.NetworkEvents, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return wsa.NetworkEvents{}, err
	}
	up, err := ss.upcalls()
	if err != nil {
		return wsa.NetworkEvents{}, err
	}
	ev := &s.rd.ev
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if event != 0 {
		if err := up.WPUResetEvent(event); err != nil {
			return wsa.NetworkEvents{}, wsa.WSAEINVAL
		}
	}
	var out wsa.NetworkEvents
	if r := ev.reg.Load(); r != nil {
		out = r.rec
		r.rec = wsa.NetworkEvents{}
	}
	return out, nil
}

// selectEvents installs r (nil cancels) in place of the socket's
// registration, forcing non-blocking mode, and records what is already
// true.
func (s *socket) selectEvents(r *fdReg) error {
	s.mu.Lock()
	ev := &s.rd.ev
	ev.mu.Lock()
	if s.rd.isClosed() {
		ev.mu.Unlock()
		s.mu.Unlock()
		return wsa.WSAENOTSOCK
	}
	s.opts.nonblocking = true
	if r != nil {
		r.s = s
		r.armed = r.mask
		r.seq.Store(1)
		r.remove = s.rd.addObserver(func(waiter.EventMask) { r.kick() })
	}
	if old := ev.reg.Swap(r); old != nil {
		old.remove()
	}
	ev.mu.Unlock()
	s.mu.Unlock()
	if r != nil {
		s.updateEvents(r, true)
	}
	return nil
}

// inheritEvents gives an accepted socket n the registration of its
// listener s (same event or window and message, same mask), as accept
// does on Windows (and SO_UPDATE_ACCEPT_CONTEXT for an AcceptEx socket),
// and records what is already true (FD_WRITE: a send is possible; FD_READ
// if data came already). FD_CONNECT is not recorded for an accepted
// connection. A registration n had is replaced and its record cleared, as
// by WSPEventSelect; without one on s, n keeps its own. The caller must not
// hold n.mu.
func (n *socket) inheritEvents(s *socket) {
	l := s.rd.ev.reg.Load()
	if l == nil {
		return
	}
	r := &fdReg{mask: l.mask, async: l.async, event: l.event, hwnd: l.hwnd, msg: l.msg}
	n.mu.Lock()
	ev := &n.rd.ev
	ev.mu.Lock()
	if n.rd.isClosed() {
		ev.mu.Unlock()
		n.mu.Unlock()
		return
	}
	n.opts.nonblocking = true
	r.s = n
	r.armed = r.mask &^ wsa.FD_CONNECT
	r.seq.Store(1)
	r.remove = n.rd.addObserver(func(waiter.EventMask) { r.kick() })
	if old := ev.reg.Swap(r); old != nil {
		old.remove()
	}
	ev.mu.Unlock()
	n.mu.Unlock()
	n.updateEvents(r, false)
}

// hasEventSelect reports whether the socket has a WSAEventSelect or
// WSAAsyncSelect registration (FIONBIO 0 then fails WSAEINVAL).
func (s *socket) hasEventSelect() bool { return s.rd.ev.reg.Load() != nil }

// reenableEvents is the hook of the re-enabling calls of spec §5.1: it arms
// bits (FD_READ|FD_OOB after any recv-family call, FD_ACCEPT after any
// accept-family call except CF_DEFER, FD_WRITE after a send that failed
// WSAEWOULDBLOCK) and re-evaluates the conditions, so that what still holds
// is recorded again at once. Every receive also re-evaluates FD_CLOSE,
// which waits for the data to be drained. The caller must not hold s.mu.
// Without a registration it costs one atomic load.
func (s *socket) reenableEvents(bits int32) {
	r := s.rd.ev.reg.Load()
	if r == nil {
		return
	}
	s.armEvents(r, bits)
	s.updateEvents(r, false)
}

// armEventsLocked arms bits of the current registration without evaluating
// (connect arms FD_CONNECT and FD_WRITE with s.mu held, before the attempt
// starts; it evaluates with updateAllEvents once s.mu is released).
func (s *socket) armEventsLocked(bits int32) {
	if r := s.rd.ev.reg.Load(); r != nil {
		s.armEvents(r, bits)
	}
}

// disarmEventsLocked disarms bits of the current registration (a connect
// that fails at once reports its error itself, with no FD_CONNECT).
func (s *socket) disarmEventsLocked(bits int32) {
	r := s.rd.ev.reg.Load()
	if r == nil {
		return
	}
	ev := &s.rd.ev
	ev.mu.Lock()
	r.armed &^= bits
	r.seq.Add(1)
	ev.mu.Unlock()
}

func (s *socket) armEvents(r *fdReg, bits int32) {
	ev := &s.rd.ev
	ev.mu.Lock()
	r.armed |= bits & r.mask
	r.seq.Add(1)
	ev.mu.Unlock()
}

// updateAllEvents evaluates the current registration, if any. The caller
// must not hold s.mu.
func (s *socket) updateAllEvents() {
	if r := s.rd.ev.reg.Load(); r != nil {
		s.updateEvents(r, false)
	}
}

// kick is r's readiness observer, run in gVisor's notification context: it
// starts the worker unless it is running, in which case the worker runs
// again.
func (r *fdReg) kick() {
	if r.work.Add(1) == 1 {
		go r.run()
	}
}

// fdWorkerRuns counts worker evaluations (tests check that idle sockets
// cause none).
var fdWorkerRuns atomic.Int64

// run evaluates r until no kick came in meanwhile.
func (r *fdReg) run() {
	for {
		fdWorkerRuns.Add(1)
		n := r.work.Load()
		r.s.updateEvents(r, false)
		if r.work.CompareAndSwap(n, 0) {
			return
		}
	}
}

// fdCondition is what the conditions mean in FD_* terms: the events whose
// condition holds and the error code of each.
func (s *socket) fdCondition(c conditions) (bits int32, code [wsa.FD_MAX_EVENTS]int32) {
	if !s.stream {
		if c.readable {
			bits |= wsa.FD_READ
		}
		if c.writable {
			bits |= wsa.FD_WRITE
		}
		return bits, code
	}
	if c.accept {
		bits |= wsa.FD_ACCEPT
	}
	if c.failed != nil {
		bits |= wsa.FD_CONNECT
		code[wsa.FD_CONNECT_BIT] = errCode(c.failed)
	}
	if !c.connected {
		return bits, code
	}
	bits |= wsa.FD_CONNECT
	if c.data {
		bits |= wsa.FD_READ // a closed connection records FD_CLOSE, never FD_READ
	}
	if c.writable && c.closeErr == nil {
		bits |= wsa.FD_WRITE
	}
	if c.closed && !c.data { // only once the data is drained
		bits |= wsa.FD_CLOSE
		code[wsa.FD_CLOSE_BIT] = closeCode(c.closeErr)
	}
	return bits, code
}

// closeCode is FD_CLOSE's iErrorCode: 0 for a graceful close,
// WSAECONNRESET for a reset, WSAECONNABORTED for a local abort or a
// time-out.
func closeCode(err error) int32 {
	switch err {
	case nil:
		return 0
	case wsa.WSAECONNRESET:
		return int32(wsa.WSAECONNRESET)
	}
	return int32(wsa.WSAECONNABORTED)
}

func errCode(err error) int32 {
	if e, ok := err.(wsa.Errno); ok {
		return int32(e)
	}
	return int32(wsa.WSAECONNREFUSED)
}

// updateEvents evaluates the socket's conditions and records the armed
// events of r that hold, signalling the event or posting a message per
// event. initial is the evaluation at registration, where a connect that
// failed earlier is not reported (FD_CONNECT is recorded at registration
// only if the socket is connected). The caller must not hold s.mu.
func (s *socket) updateEvents(r *fdReg, initial bool) {
	seq := r.seq.Load()
	c := s.conditions()
	up, err := s.ss.upcalls()
	if err != nil {
		return
	}
	bits, code := s.fdCondition(c)
	ev := &s.rd.ev
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.reg.Load() != r || r.seq.Load() != seq || s.rd.isClosed() {
		return
	}
	if initial && c.failed != nil {
		r.armed &^= wsa.FD_CONNECT
	}
	rec := bits & r.armed
	if rec == 0 {
		return
	}
	r.armed &^= rec
	if !r.async {
		r.rec.NetworkEvents |= rec
		for i := range wsa.FD_MAX_EVENTS {
			if rec&(1<<i) != 0 {
				r.rec.ErrorCode[i] = code[i]
			}
		}
		_ = up.WPUSetEvent(r.event)
		return
	}
	for _, i := range fdOrder {
		if rec&(1<<i) != 0 {
			lp := wsa.WSAMAKESELECTREPLY(uint32(1)<<i, uint32(code[i]))
			_ = up.WPUPostMessage(r.hwnd, r.msg, uintptr(s.handle), uintptr(lp))
		}
	}
}

// cancel drops the registration (closesocket).
func (ev *eventState) cancel() {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.reg.Store(nil)
}

// dataQueuedLocked reports whether a stream socket has received data that
// a receive would return: not the peer's FIN, nor data that shutdown
// (SD_RECEIVE) or a connection error made unreadable.
func (s *socket) dataQueuedLocked() bool {
	if s.shutRecv || s.connErr != nil {
		return false
	}
	n, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	return err == nil && n > 0
}

// closeErrLocked tells why a closed stream connection closed: nil for the
// peer's FIN, else the sticky connection error (WSAECONNRESET for a reset,
// WSAECONNABORTED or WSAETIMEDOUT for a local abort or a time-out). gVisor
// reports a reset only once, to whoever asks first; when no data is left
// to read it is taken here and made sticky in connErr, exactly as a
// receive would (tryRecvStream checks connErr again when gVisor answers
// with a plain end of stream), so receives see the same error. While data
// remains it is left to the receive, and the answer is provisional.
func (s *socket) closeErrLocked(data bool) error {
	if s.connErr != nil {
		return s.connErr
	}
	if tcp.EndpointState(s.ep.State()) != tcp.StateError {
		return nil
	}
	if data {
		return wsa.WSAECONNRESET
	}
	switch terr := s.ep.LastError(); terr.(type) {
	case *tcpip.ErrConnectionReset, *tcpip.ErrConnectionAborted, *tcpip.ErrAborted, *tcpip.ErrTimeout:
		s.connErr = errno(terr)
	default:
		// A receive took it and is about to make it sticky; a reset is
		// the one way to StateError it may have seen.
		s.connErr = wsa.WSAECONNRESET
	}
	return s.connErr
}

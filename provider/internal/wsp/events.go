package wsp

import (
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// The FD_* network events of WSAEventSelect and WSAAsyncSelect (spec §5.1,
// §5.2), derived from a socket's readiness core.
//
// A socket has at most one registration (Reg), held in its readiness core
// (EventState). The registration keeps, per FD_* event, whether it is
// armed: an armed event is recorded as soon as its condition holds; once
// recorded it is disarmed until its re-enabling call (Reenable):
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
// Conditions are evaluated through the socket's EventSource, never in the
// transport's notification context: the registration's readiness observer
// only kicks a short-lived worker goroutine (one at a time per socket,
// events coalesced), which evaluates and records. An idle registered socket
// runs nothing.
//
// Locks: the provider's socket lock, then EventState.mu, then the
// readiness core's. Recording, signalling (WPUSetEvent, WPUPostMessage) and
// Enum's copy-clear-reset all happen under EventState.mu, the socket's
// event lock. EventSource.FDEvents is called without EventState.mu.

// EventSource is what the FD_* machinery needs of a provider's socket.
type EventSource interface {
	// FDEvents evaluates the socket's conditions now, in FD_* terms (see
	// Conditions.FDEvents), and reports whether a connect attempt failed.
	// It is called without the event lock and must not take it.
	FDEvents() (bits int32, code [wsa.FD_MAX_EVENTS]int32, failed bool)
	// Upcalls returns the upcall table to signal with.
	Upcalls() (provider.UpcallTable, error)
	// Handle is the socket's handle (the wParam of posted messages).
	Handle() wsa.Socket
}

// EventState is a socket's WSAEventSelect/WSAAsyncSelect state, kept in its
// readiness core: 16 bytes while unregistered.
type EventState struct {
	mu  sync.Mutex          // the socket's event lock
	reg atomic.Pointer[Reg] // the registration, or nil; stored under mu
}

// Registration is what WSPEventSelect or WSPAsyncSelect asks for.
type Registration struct {
	Mask  int32      // lNetworkEvents (within FD_ALL_EVENTS, not 0)
	Async bool       // WSAAsyncSelect: post messages; else signal Event
	Event wsa.Handle // WSAEventSelect's event
	Hwnd  wsa.Handle // WSAAsyncSelect's window and message
	Msg   uint32
}

// Reg is one installed registration.
type Reg struct {
	Registration
	src EventSource
	ev  *EventState
	rd  *Readiness
	obs ObserverID // the readiness observer (on rd)

	armed int32             // events that may be recorded; under ev.mu
	rec   wsa.NetworkEvents // WSAEventSelect's record; under ev.mu
	// seq counts arming changes: an evaluation that raced with one is
	// dropped (the arming caller evaluates again after it).
	seq  atomic.Uint32
	work atomic.Int32 // kicks not yet handled by the worker
}

// fdOrder is the order in which events recorded together are posted.
var fdOrder = [...]int32{wsa.FD_CONNECT_BIT, wsa.FD_ACCEPT_BIT, wsa.FD_READ_BIT, wsa.FD_OOB_BIT, wsa.FD_WRITE_BIT, wsa.FD_CLOSE_BIT}

// WorkerRuns counts worker evaluations (tests check that idle sockets
// cause none).
var WorkerRuns atomic.Int64

// Install replaces the socket's registration with reg (nil cancels),
// clearing the record, and returns the new one (nil when cancelled), which
// the caller evaluates with Update(r, true) once it has released its own
// lock. The caller holds its socket lock, so that forcing non-blocking mode
// and installing are one step for FIONBIO. A closed socket is WSAENOTSOCK.
func (ev *EventState) Install(rd *Readiness, src EventSource, reg *Registration) (*Reg, error) {
	return ev.install(rd, src, reg, reg.maskOr0())
}

func (reg *Registration) maskOr0() int32 {
	if reg == nil {
		return 0
	}
	return reg.Mask
}

func (ev *EventState) install(rd *Readiness, src EventSource, reg *Registration, armed int32) (*Reg, error) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if rd.IsClosed() {
		return nil, wsa.WSAENOTSOCK
	}
	var r *Reg
	if reg != nil {
		r = &Reg{Registration: *reg, src: src, ev: ev, rd: rd, armed: armed}
		r.seq.Store(1)
		r.obs = rd.Observe(func(Event) { r.kick() })
	}
	if old := ev.reg.Swap(r); old != nil {
		old.rd.Unobserve(old.obs)
	}
	return r, nil
}

// Inherit gives the socket the registration of from (a listener: same
// event or window and message, same mask), as accept and
// SO_UPDATE_ACCEPT_CONTEXT do, replacing one of its own; FD_CONNECT is not
// armed (not recorded for an accepted connection). It returns the new
// registration, to evaluate with Update(r, false) once the caller has
// released its lock, or nil when from has none (the socket keeps its own).
// The caller holds its socket lock (it forces non-blocking mode when the
// result is not nil).
func (ev *EventState) Inherit(rd *Readiness, src EventSource, from *EventState) *Reg {
	l := from.reg.Load()
	if l == nil {
		return nil
	}
	r, err := ev.install(rd, src, &l.Registration, l.Mask&^wsa.FD_CONNECT)
	if err != nil {
		return nil
	}
	return r
}

// Registered reports whether there is a registration (FIONBIO 0 then fails
// WSAEINVAL).
func (ev *EventState) Registered() bool { return ev.reg.Load() != nil }

// Enum is WSAEnumNetworkEvents: it returns and clears the record and, if
// event is not 0, resets event, atomically with respect to recording. No
// registration is an empty record; an event that cannot be reset is
// WSAEINVAL (nothing is cleared then).
func (ev *EventState) Enum(up provider.UpcallTable, event wsa.Handle) (wsa.NetworkEvents, error) {
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

// Reenable is the hook of the re-enabling calls of spec §5.1: it arms bits
// (FD_READ|FD_OOB after any recv-family call, FD_ACCEPT after any
// accept-family call except CF_DEFER, FD_WRITE after a send that failed
// WSAEWOULDBLOCK) and re-evaluates the conditions, so that what still holds
// is recorded again at once. Every receive also re-evaluates FD_CLOSE,
// which waits for the data to be drained. The caller must not hold its
// socket lock. Without a registration it costs one atomic load.
func (ev *EventState) Reenable(bits int32) {
	r := ev.reg.Load()
	if r == nil {
		return
	}
	r.arm(bits)
	r.Update(false)
}

// Arm arms bits of the current registration without evaluating (connect
// arms FD_CONNECT and FD_WRITE with the socket lock held, before the
// attempt starts; it evaluates with UpdateAll once the lock is released).
func (ev *EventState) Arm(bits int32) {
	if r := ev.reg.Load(); r != nil {
		r.arm(bits)
	}
}

// Disarm disarms bits of the current registration (a connect that fails
// at once reports its error itself, with no FD_CONNECT).
func (ev *EventState) Disarm(bits int32) {
	r := ev.reg.Load()
	if r == nil {
		return
	}
	ev.mu.Lock()
	r.armed &^= bits
	r.seq.Add(1)
	ev.mu.Unlock()
}

// UpdateAll evaluates the current registration, if any. The caller must
// not hold its socket lock.
func (ev *EventState) UpdateAll() {
	if r := ev.reg.Load(); r != nil {
		r.Update(false)
	}
}

func (r *Reg) arm(bits int32) {
	r.ev.mu.Lock()
	r.armed |= bits & r.Mask
	r.seq.Add(1)
	r.ev.mu.Unlock()
}

// kick is r's readiness observer, run in the notification context: it
// starts the worker unless it is running, in which case the worker runs
// again.
func (r *Reg) kick() {
	if r.work.Add(1) == 1 {
		go r.run()
	}
}

// run evaluates r until no kick came in meanwhile.
func (r *Reg) run() {
	for {
		WorkerRuns.Add(1)
		n := r.work.Load()
		r.Update(false)
		if r.work.CompareAndSwap(n, 0) {
			return
		}
	}
}

// cancel drops the registration (closesocket).
func (ev *EventState) cancel() {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if old := ev.reg.Swap(nil); old != nil {
		old.rd.Unobserve(old.obs)
	}
}

// Update evaluates the socket's conditions and records the armed events of
// r that hold, signalling the event or posting a message per event.
// initial is the evaluation at registration, where a connect that failed
// earlier is not reported (FD_CONNECT is recorded at registration only if
// the socket is connected). The caller must not hold its socket lock.
func (r *Reg) Update(initial bool) {
	seq := r.seq.Load()
	bits, code, failed := r.src.FDEvents()
	up, err := r.src.Upcalls()
	if err != nil {
		return
	}
	ev := r.ev
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.reg.Load() != r || r.seq.Load() != seq || r.rd.IsClosed() {
		return
	}
	if initial && failed {
		r.armed &^= wsa.FD_CONNECT
	}
	rec := bits & r.armed
	if rec == 0 {
		return
	}
	r.armed &^= rec
	if !r.Async {
		r.rec.NetworkEvents |= rec
		for i := range wsa.FD_MAX_EVENTS {
			if rec&(1<<i) != 0 {
				r.rec.ErrorCode[i] = code[i]
			}
		}
		_ = up.WPUSetEvent(r.Event)
		return
	}
	h := r.src.Handle()
	for _, i := range fdOrder {
		if rec&(1<<i) != 0 {
			lp := wsa.WSAMAKESELECTREPLY(uint32(1)<<i, uint32(code[i]))
			_ = up.WPUPostMessage(r.Hwnd, r.Msg, uintptr(h), uintptr(lp))
		}
	}
}

// EventSelect is WSPEventSelect's and WSPAsyncSelect's argument rule: bits
// outside FD_ALL_EVENTS are ignored; no bits left cancels (nil); with bits
// left reg is asked for, and without an event (WSAEventSelect) or a window
// (WSAAsyncSelect) it is WSAEINVAL.
func EventSelect(reg Registration) (*Registration, error) {
	reg.Mask &= wsa.FD_ALL_EVENTS
	if reg.Mask == 0 {
		return nil, nil
	}
	if (!reg.Async && reg.Event == 0) || (reg.Async && reg.Hwnd == 0) {
		return nil, wsa.WSAEINVAL
	}
	return &reg, nil
}

// Select installs reg (nil cancels) in place of the socket's registration
// under the socket lock mu, forcing non-blocking mode in opts, and records
// what is already true. The caller must not hold mu.
func (ev *EventState) Select(mu *sync.Mutex, opts *SockOpts, rd *Readiness, src EventSource, reg *Registration) error {
	mu.Lock()
	r, err := ev.Install(rd, src, reg)
	if err == nil {
		opts.Nonblocking = true
	}
	mu.Unlock()
	if err != nil {
		return err
	}
	if r != nil {
		r.Update(true)
	}
	return nil
}

// InheritFrom gives an accepted socket the registration of its listener
// (see Inherit) under the socket lock mu, forcing non-blocking mode in
// opts when there is one, and records what already holds. The caller must
// not hold mu.
func (ev *EventState) InheritFrom(mu *sync.Mutex, opts *SockOpts, rd *Readiness, src EventSource, from *EventState) {
	mu.Lock()
	r := ev.Inherit(rd, src, from)
	if r != nil {
		opts.Nonblocking = true
	}
	mu.Unlock()
	if r != nil {
		r.Update(false)
	}
}

package netstack

import (
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/wsa"
)

// watchedEvents is every event a socket's readiness core listens for.
const watchedEvents = waiter.ReadableEvents | waiter.WritableEvents | waiter.EventErr | waiter.EventHUp | waiter.EventRdHUp | waiter.EventPri

// readiness is the per-socket readiness and notification core: the one place
// where gVisor's waiter events enter the provider.
//
// Each socket registers one waiter.Entry (this value) with the wait queue of
// its gVisor endpoint. gVisor calls NotifyEvent, possibly with endpoint locks
// held and from the goroutine delivering a packet; NotifyEvent only wakes
// whoever waits (it closes a channel, allocated only when somebody waits) and
// passes the event mask to the observers, if any. Nothing polls.
//
// Blocking calls use it as follows: take changed() before trying the
// operation, try it, and if it would block wait on the channel (see wait).
// Because the channel is taken before the attempt, an event between the
// attempt and the wait is never lost.
//
// The conditions that callers derive (readable, writable, connected, failed,
// closed; see socket.conditions) are computed from the endpoint's state when
// asked, never cached here, so select, WSAPoll and FD_* events can be derived
// from the same core: they add an observer, and re-evaluate the
// conditions when it fires. select and WSAPoll (select.go, poll.go) add an
// observer on every socket they wait for and remove it on return; a
// WSAEventSelect or WSAAsyncSelect registration (events.go) keeps one, which
// only starts a short-lived goroutine to evaluate and record. An idle socket
// therefore costs nothing but its memory, registered or not.
//
// A readiness is safe for concurrent use. Its zero value is not usable; call
// init.
type readiness struct {
	mu       sync.Mutex
	wq       *waiter.Queue // queue the entry is registered with, or nil
	entry    waiter.Entry  // registered with wq
	ch       chan struct{} // closed at the next event; nil until someone waits
	closedCh chan struct{} // closed by close
	closed   bool          // close was called
	// observers are called on every event (see addObserver); the slice is
	// replaced, never modified in place, so NotifyEvent can iterate a copy.
	observers []*observer
	// ev is the socket's WSAEventSelect/WSAAsyncSelect registration and
	// record (events.go); close cancels it.
	ev eventState
}

// observer is a function called on every event (see addObserver).
type observer struct{ fn func(waiter.EventMask) }

// init prepares r; it must be called once, before any other method.
func (r *readiness) init() {
	r.closedCh = make(chan struct{})
	r.entry.Init(r, watchedEvents)
}

// attach registers r with wq (the wait queue of the socket's current
// endpoint), detaching it from the previous queue, and wakes the waiters so
// they look at the new endpoint.
func (r *readiness) attach(wq *waiter.Queue) {
	r.mu.Lock()
	old := r.wq
	r.wq = wq
	r.mu.Unlock()
	if old != nil {
		old.EventUnregister(&r.entry)
	}
	if wq != nil {
		wq.EventRegister(&r.entry)
	}
	r.NotifyEvent(watchedEvents)
}

// detach unregisters r from its queue.
func (r *readiness) detach() {
	r.mu.Lock()
	old := r.wq
	r.wq = nil
	r.mu.Unlock()
	if old != nil {
		old.EventUnregister(&r.entry)
	}
}

// addObserver installs fn, called with the event mask on every event after
// the waiters are woken, until the returned function removes it; close
// calls it once more with mask 0, so that select and WSAPoll see a socket
// closed while they wait. fn runs in
// gVisor's notification context, possibly with endpoint locks held: it must
// not block and must not call into the endpoint or take the socket's lock;
// it may record the event and start work elsewhere. This is the hook for the
// FD_* events of WSAEventSelect and WSAAsyncSelect.
func (r *readiness) addObserver(fn func(waiter.EventMask)) (remove func()) {
	o := &observer{fn}
	r.mu.Lock()
	r.observers = append(r.observers, o)
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, x := range r.observers {
			if x == o {
				r.observers = append(r.observers[:i:i], r.observers[i+1:]...)
				return
			}
		}
	}
}

// NotifyEvent implements waiter.EventListener: it wakes every waiter.
func (r *readiness) NotifyEvent(mask waiter.EventMask) {
	r.mu.Lock()
	if r.ch != nil {
		close(r.ch)
		r.ch = nil
	}
	obs := r.observers
	r.mu.Unlock()
	for _, o := range obs {
		o.fn(mask)
	}
}

// changed returns a channel closed at the next event (or at once if r is
// closed). Take it before checking the condition waited for.
func (r *readiness) changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.closedCh
	}
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	return r.ch
}

// close marks the socket closed: every current and later wait ends with
// WSAEINTR, the WSAEventSelect/WSAAsyncSelect registration is cancelled and
// the observers are called with mask 0. It is idempotent.
func (r *readiness) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.closedCh)
	if r.ch != nil {
		close(r.ch)
		r.ch = nil
	}
	obs := r.observers
	r.mu.Unlock()
	r.ev.cancel()
	for _, o := range obs {
		o.fn(0)
	}
}

// isClosed reports whether close was called.
func (r *readiness) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// waitCtx is one blocking call's wait state: its channel from changed and its
// deadline timer (SO_RCVTIMEO/SO_SNDTIMEO), started on the first wait.
type waitCtx struct {
	r       *readiness
	timeout time.Duration // 0: none
	timer   *time.Timer
}

// stop releases the timer.
func (w *waitCtx) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// wait blocks until ch is closed (an event: nil), the timeout passes
// (WSAETIMEDOUT) or the socket is closed (WSAEINTR).
func (w *waitCtx) wait(ch <-chan struct{}) error {
	var expired <-chan time.Time
	if w.timeout > 0 {
		if w.timer == nil {
			w.timer = time.NewTimer(w.timeout)
		}
		expired = w.timer.C
	}
	select {
	case <-ch:
		if w.r.isClosed() {
			return wsa.WSAEINTR
		}
		return nil
	case <-w.r.closedCh:
		return wsa.WSAEINTR
	case <-expired:
		return wsa.WSAETIMEDOUT
	}
}

// block runs try until it returns something other than WSAEWOULDBLOCK, waiting
// for an event between attempts: the pattern every blocking call follows.
// With nonblocking set it returns try's first result as is. timeout (0 for
// none) bounds the whole call with WSAETIMEDOUT; closing the socket ends it
// with WSAEINTR.
//
// The first attempt is made without arming a wake-up (no allocation when the
// call can complete at once); when it would block, the channel of changed is
// taken and try runs once more before waiting, so no event is lost. try must
// therefore tolerate being called again after WSAEWOULDBLOCK (the try steps
// keep their progress in their caller's variables).
func (r *readiness) block(nonblocking bool, timeout time.Duration, try func() error) error {
	if r.isClosed() {
		return wsa.WSAEINTR
	}
	err := try()
	if nonblocking || err != wsa.WSAEWOULDBLOCK {
		return err
	}
	w := waitCtx{r: r, timeout: timeout}
	defer w.stop()
	for {
		ch := r.changed()
		if r.isClosed() {
			return wsa.WSAEINTR
		}
		if err := try(); err != wsa.WSAEWOULDBLOCK {
			return err
		}
		if err := w.wait(ch); err != nil {
			return err
		}
	}
}

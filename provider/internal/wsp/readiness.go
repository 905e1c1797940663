package wsp

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// Event is a readiness event mask, as a provider's transport reports it
// (the provider maps its own bits: epoll's, gVisor's waiter events).
type Event uint32

// The events.
const (
	EventIn    Event = 1 << iota // readable (data, a connection to accept, EOF)
	EventOut                     // writable
	EventErr                     // an error is pending
	EventHUp                     // hung up
	EventRdHUp                   // the peer shut down its sending side
	EventPri                     // urgent data
)

// EventAll is every event.
const EventAll = EventIn | EventOut | EventErr | EventHUp | EventRdHUp | EventPri

// Readiness is a socket's readiness and notification core: the one place
// where its transport's readiness events enter the provider.
//
// The transport calls Notify, possibly from the goroutine delivering the
// event (gVisor's notification context, the host provider's epoll loop);
// Notify only wakes whoever waits (it closes a channel, allocated only when
// somebody waits) and passes the mask to the observers, if any. Nothing
// polls.
//
// Blocking calls take Changed before trying the operation, try it, and if
// it would block wait on the channel (see Block). Because the channel is
// taken before the attempt, an event between the attempt and the wait is
// never lost.
//
// The conditions that select, WSAPoll and the FD_* events need are
// computed by the provider when asked (see Conditions), never cached here:
// select and WSAPoll add an observer on every socket they wait for and
// remove it on return; a WSAEventSelect or WSAAsyncSelect registration
// (EventState) keeps one, which only starts a short-lived goroutine to
// evaluate and record. An idle socket therefore costs nothing but its
// memory, registered or not.
//
// A Readiness is safe for concurrent use. Its zero value is ready; it
// must not be copied after first use.
type Readiness struct {
	mu     sync.Mutex
	ch     chan struct{} // closed at the next event (or by Close); nil until someone waits
	closed atomic.Bool   // set by Close, under mu; read without it
	// observers are called on every event (see Observe), in the order they
	// were added. The slice is modified in place under mu (Notify calls a
	// copy); it starts on inline, so that a socket's first observers cost
	// no allocation, and lastID numbers them.
	observers []observer
	inline    [2]observer
	lastID    ObserverID
	// ovq is the socket's overlapped queues once they are in use
	// (Queues.start): told of every event after the observers, as one
	// more observer that costs no allocation.
	ovq atomic.Pointer[Queues]
	// Events is the socket's WSAEventSelect/WSAAsyncSelect registration
	// and record; Close cancels it.
	Events EventState
}

// ObserverID identifies an observer installed by Observe, for Unobserve.
// It is never 0.
type ObserverID uint64

// observer is a function called on every event (see Observe).
type observer struct {
	id ObserverID
	fn func(Event)
}

// closedChan is the channel Changed returns once the Readiness is closed.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Observe installs fn, called with the event mask on every event after
// the waiters are woken, until Unobserve removes it; Close calls it once
// more with mask 0, so that select and WSAPoll see a socket closed while
// they wait. fn runs in the transport's notification context: it must not
// block and must not call into the transport or take the socket's locks;
// it may record the event and start work elsewhere. An event already being
// delivered when fn is removed may still call it once. Installing and
// removing allocate nothing while the socket has at most two observers.
func (r *Readiness) Observe(fn func(Event)) ObserverID {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.observers == nil {
		r.observers = r.inline[:0]
	}
	r.lastID++
	r.observers = append(r.observers, observer{r.lastID, fn})
	return r.lastID
}

// Unobserve removes the observer id (a no-op if it is gone already).
func (r *Readiness) Unobserve(id ObserverID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, o := range r.observers {
		if o.id == id {
			n := copy(r.observers[i:], r.observers[i+1:])
			r.observers[i+n] = observer{} // drop the reference to fn
			r.observers = r.observers[:i+n]
			return
		}
	}
}

// AddObserver is Observe returning the function that removes fn (for
// callers that keep a remover rather than an ObserverID; the function
// costs an allocation).
func (r *Readiness) AddObserver(fn func(Event)) (remove func()) {
	id := r.Observe(fn)
	return func() { r.Unobserve(id) }
}

// Observers returns the number of observers (for tests).
func (r *Readiness) Observers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.observers)
}

// takeObservers returns the observers' functions in buf (or a larger
// slice); r.mu is held.
func (r *Readiness) takeObservers(buf []func(Event)) []func(Event) {
	for _, o := range r.observers {
		buf = append(buf, o.fn)
	}
	return buf
}

// Notify wakes every waiter and calls the observers with mask.
func (r *Readiness) Notify(mask Event) {
	var buf [4]func(Event)
	r.mu.Lock()
	if r.ch != nil {
		close(r.ch)
		r.ch = nil
	}
	obs := r.takeObservers(buf[:0])
	r.mu.Unlock()
	for _, fn := range obs {
		fn(mask)
	}
	if o := r.ovq.Load(); o != nil {
		o.event()
	}
}

// Changed returns a channel closed at the next event or by Close (or
// closed already if r is closed). Take it before checking the condition
// waited for.
func (r *Readiness) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return closedChan
	}
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	return r.ch
}

// Close marks the socket closed: every current and later wait ends with
// WSAEINTR, the WSAEventSelect/WSAAsyncSelect registration is cancelled and
// the observers are called with mask 0. It is idempotent.
func (r *Readiness) Close() {
	var buf [4]func(Event)
	r.mu.Lock()
	if r.closed.Load() {
		r.mu.Unlock()
		return
	}
	r.closed.Store(true)
	if r.ch != nil {
		close(r.ch)
		r.ch = nil
	}
	obs := r.takeObservers(buf[:0])
	r.mu.Unlock()
	r.Events.cancel()
	for _, fn := range obs {
		fn(0)
	}
	if o := r.ovq.Load(); o != nil {
		o.event()
	}
}

// IsClosed reports whether Close was called. It takes no lock.
func (r *Readiness) IsClosed() bool { return r.closed.Load() }

// waitCtx is one blocking call's wait state: its deadline timer
// (SO_RCVTIMEO/SO_SNDTIMEO), started on the first wait.
type waitCtx struct {
	r       *Readiness
	timeout time.Duration // 0: none
	timer   *time.Timer
}

func (w *waitCtx) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// wait blocks until ch, taken from Changed, is closed (an event: nil; Close:
// WSAEINTR) or the timeout passes (WSAETIMEDOUT).
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
		if w.r.IsClosed() {
			return wsa.WSAEINTR
		}
		return nil
	case <-expired:
		return wsa.WSAETIMEDOUT
	}
}

// Block runs try until it returns something other than WSAEWOULDBLOCK,
// waiting for an event between attempts: the pattern every blocking call
// follows. With nonblocking set it returns try's first result as is.
// timeout (0 for none) bounds the whole call with WSAETIMEDOUT; closing the
// socket ends it with WSAEINTR.
//
// The first attempt is made without arming a wake-up (no allocation when
// the call can complete at once); when it would block, the channel of
// Changed is taken and try runs once more before waiting, so no event is
// lost. try must therefore tolerate being called again after
// WSAEWOULDBLOCK (keeping its progress in its caller's variables).
func (r *Readiness) Block(nonblocking bool, timeout time.Duration, try func() error) error {
	if r.IsClosed() {
		return wsa.WSAEINTR
	}
	err := try()
	if nonblocking || err != wsa.WSAEWOULDBLOCK {
		return err
	}
	w := waitCtx{r: r, timeout: timeout}
	defer w.stop()
	for {
		ch := r.Changed()
		if r.IsClosed() {
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

// WaitFor waits until cond holds or deadline passes, and reports whether
// cond held. It wakes on the socket's events and also re-checks with a
// backoff (1 ms doubling to 50 ms), for a condition its transport signals
// no event for (a FIN being acknowledged): only the lingering closesocket
// uses it.
func (r *Readiness) WaitFor(deadline time.Time, cond func() bool) bool {
	backoff := time.Millisecond
	for {
		ch := r.Changed()
		if cond() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 || r.IsClosed() {
			return false
		}
		t := time.NewTimer(min(backoff, left))
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
		backoff = min(backoff*2, 50*time.Millisecond)
	}
}

package winobj

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// Event is a Windows event object: what WSACreateEvent (manual-reset,
// non-signalled), CreateEvent and an OVERLAPPED's hEvent are.
//
// A manual-reset event stays signalled until [Event.Reset] and releases
// every wait on it. An auto-reset event releases exactly one wait, and
// resets in the same step; if nobody waits it stays signalled until one wait
// consumes it. Setting a signalled event changes nothing (signals do not
// count up).
//
// The zero Event is not usable; make one with [NewEvent]. All methods are
// safe for concurrent use.
type Event struct {
	id     uint64 // lock order of multi-object waits
	manual bool

	mu         sync.Mutex
	signalled  bool
	closed     bool
	head, tail *waitLink // the waits on this event, oldest first
}

var lastEventID atomic.Uint64

// NewEvent makes an event object: manual-reset or auto-reset, signalled or
// not (CreateEvent's bManualReset and bInitialState).
func NewEvent(manualReset, initial bool) *Event {
	return &Event{id: lastEventID.Add(1), manual: manualReset, signalled: initial}
}

// ManualReset reports whether e is a manual-reset event.
func (e *Event) ManualReset() bool { return e.manual }

// IsSet reports whether e is signalled. It is a snapshot: another goroutine
// may change the state at once.
func (e *Event) IsSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.signalled
}

// Set signals e (SetEvent, WSASetEvent) and releases the waits it
// satisfies: all of them for a manual-reset event, the oldest satisfiable
// one for an auto-reset event (which is then non-signalled again). After
// [Event.Close] it fails with WSA_INVALID_HANDLE.
func (e *Event) Set() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return wsa.WSA_INVALID_HANDLE
	}
	if e.signalled {
		// Every wait it could release was released when it became signalled.
		e.mu.Unlock()
		return nil
	}
	e.signalled = true
	var retry []*waiter
	for l := e.head; l != nil && e.signalled; {
		next := l.next
		w := l.w
		if !w.all {
			if w.claim() {
				e.unlink(l)
				if !e.manual {
					e.signalled = false
				}
				w.finish(l.index)
			}
		} else if !e.trySatisfyAll(w) {
			retry = append(retry, w)
		}
		l = next
	}
	e.mu.Unlock()
	// Wait-all waits whose other objects were busy: check them now, taking
	// every lock in order. Nothing is lost meanwhile: a wait that becomes
	// satisfiable later is checked by the Set that makes it so.
	for _, w := range retry {
		w.trySatisfyAllUnlocked()
	}
	return nil
}

// Reset makes e non-signalled (ResetEvent, WSAResetEvent). After
// [Event.Close] it fails with WSA_INVALID_HANDLE.
func (e *Event) Reset() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return wsa.WSA_INVALID_HANDLE
	}
	e.signalled = false
	return nil
}

// Assist hands fn to one goroutine blocked in a wait-any [Wait] on e,
// which runs it and then goes on waiting (looking at its objects again
// first, with the time left), and reports whether a wait took it; if none
// did (nobody waits on e, or e is closed), fn is not run and the caller
// runs it elsewhere. A wait that took fn runs it whatever ends the wait
// meanwhile (a Set, its timeout, an APC), before it returns.
//
// It lets whoever will signal e do its work in the goroutine that waits
// for the signal, saving a goroutine hand-off: the api uses it so that a
// provider's completion step runs in the goroutine waiting for the
// completion's event. fn runs in a goroutine that may hold its caller's
// locks: it must not block, nor call anything that could wait for the
// waiting goroutine. Assist itself never blocks; it may be called with
// other locks held.
func (e *Event) Assist(fn func()) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	for l := e.head; l != nil; l = l.next {
		w := l.w
		if w.all || w.done.Load() || !w.assisted.CompareAndSwap(false, true) {
			continue
		}
		w.assistFn = fn
		w.assist <- struct{}{} // capacity 1, one send per wait
		return true
	}
	return false
}

// Close ends e (CloseHandle, WSACloseEvent). Waits blocked on it return
// WSA_WAIT_FAILED with WSA_INVALID_HANDLE (Windows leaves closing a handle
// under a wait undefined; failing the wait lets a Session's cleanup free its
// waiters), later waits on it fail the same way, and so do Set and Reset.
// Closing twice fails with WSA_INVALID_HANDLE.
func (e *Event) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return wsa.WSA_INVALID_HANDLE
	}
	e.closed = true
	e.signalled = false
	for l := e.head; l != nil; {
		next := l.next
		e.unlink(l)
		if l.w.claim() {
			l.w.finish(-1)
		}
		l = next
	}
	return nil
}

// trySatisfyAll completes the wait-all w if every one of its objects is
// signalled, with e.mu held. It takes the other objects' locks with TryLock
// (they may be out of order) and returns false, having done nothing, if one
// is busy; the caller then retries with [waiter.trySatisfyAllUnlocked].
func (e *Event) trySatisfyAll(w *waiter) bool {
	if w.done.Load() {
		return true
	}
	for i, o := range w.objs {
		if o != e && !o.mu.TryLock() {
			for _, p := range w.objs[:i] {
				if p != e {
					p.mu.Unlock()
				}
			}
			return false
		}
	}
	w.satisfyAllLocked()
	for _, o := range w.objs {
		if o != e {
			o.mu.Unlock()
		}
	}
	return true
}

func (e *Event) link(l *waitLink) {
	l.prev, l.next = e.tail, nil
	if e.tail == nil {
		e.head = l
	} else {
		e.tail.next = l
	}
	e.tail = l
	l.linked = true
}

func (e *Event) unlink(l *waitLink) {
	if !l.linked {
		return
	}
	if l.prev == nil {
		e.head = l.next
	} else {
		l.prev.next = l.next
	}
	if l.next == nil {
		e.tail = l.prev
	} else {
		l.next.prev = l.prev
	}
	l.prev, l.next, l.linked = nil, nil, false
}

// waiter is one blocked call of [Wait]. Whoever flips done from false to
// true owns its outcome: a Set or Close that satisfies or fails it (and then
// sends on wake), or the waiting goroutine itself when it gives up (timeout,
// APC). A goroutine that loses that race to a Set receives from wake and
// returns what the Set decided, so a consumed auto-reset signal is never lost.
//
// Waiters of wait-any waits are recycled (waiterPool): once the outcome is
// decided and the waiter is dequeued from every object, nothing refers to
// it any more. A wait-all waiter may still be looked at by a Set that
// found it busy (trySatisfyAllUnlocked), so it is left to the collector.
type waiter struct {
	done   atomic.Bool
	all    bool
	result int           // the index that satisfied the wait, or -1: an object was closed
	wake   chan struct{} // capacity 1; one send, by the owner of the outcome
	objs   []*Event      // distinct objects, sorted by id: the lock order
	links  []waitLink    // links[i] queues this wait on objs[i]
	one    [1]waitLink   // links for a single-object wait, without an allocation
	oneObj [1]*Event     // objs of a single-object wait
	// An [Event.Assist] that picked this wait-any sets assisted, then
	// assistFn, then sends on assist (capacity 1), all under the event's
	// lock; the waiting goroutine takes fn once it is unregistered (no
	// Assist can pick it any more) and runs it (takeAssist).
	assisted atomic.Bool
	assistFn func()
	assist   chan struct{}
}

var waiterPool = sync.Pool{New: func() any {
	return &waiter{wake: make(chan struct{}, 1), assist: make(chan struct{}, 1)}
}}

// waitLink queues a waiter on one object. Its fields other than w and index
// belong to that object's mutex.
type waitLink struct {
	w          *waiter
	index      int // the lowest index of the object in the caller's slice
	prev, next *waitLink
	linked     bool
}

func (w *waiter) claim() bool { return w.done.CompareAndSwap(false, true) }

// finish hands the outcome to the waiting goroutine; only the claimer calls
// it, once, so the send never blocks.
func (w *waiter) finish(result int) {
	w.result = result
	w.wake <- struct{}{}
}

// satisfyAllLocked completes the wait-all w if all its objects are
// signalled, with all their locks held: it consumes the auto-reset ones
// together, dequeues w from every object and wakes it.
func (w *waiter) satisfyAllLocked() {
	if w.done.Load() {
		return
	}
	for _, o := range w.objs {
		if !o.signalled || o.closed {
			return
		}
	}
	if !w.claim() {
		return
	}
	for i, o := range w.objs {
		if !o.manual {
			o.signalled = false
		}
		o.unlink(&w.links[i])
	}
	w.finish(0)
}

func (w *waiter) trySatisfyAllUnlocked() {
	if w.done.Load() {
		return
	}
	lockAll(w.objs)
	w.satisfyAllLocked()
	unlockAll(w.objs)
}

// unregister dequeues w from every object it still waits on. Only the
// waiting goroutine calls it, after the outcome is decided.
func (w *waiter) unregister() {
	for i, o := range w.objs {
		o.mu.Lock()
		o.unlink(&w.links[i])
		o.mu.Unlock()
	}
}

// takeAssist returns the function an [Event.Assist] handed to w, or nil,
// and clears it. Only the waiting goroutine calls it, after unregister;
// received tells that it already took the signal from w.assist.
func (w *waiter) takeAssist(received bool) func() {
	if !w.assisted.Load() {
		return nil
	}
	if !received {
		<-w.assist
	}
	fn := w.assistFn
	w.assistFn = nil
	w.assisted.Store(false)
	return fn
}

// run calls fn if it is not nil.
func run(fn func()) {
	if fn != nil {
		fn()
	}
}

func lockAll(objs []*Event) {
	for _, o := range objs {
		o.mu.Lock()
	}
}

func unlockAll(objs []*Event) {
	for _, o := range objs {
		o.mu.Unlock()
	}
}

// Wait is WaitForMultipleObjectsEx (WSAWaitForMultipleEvents): it waits
// until one of objs is signalled (waitAll false) or all of them are at the
// same time (waitAll true), until timeout passes ([Infinite] or any negative
// value: never; 0: test the objects and return at once), or, when apc is not
// nil (an alertable wait), until it has run APCs of that queue.
//
// Results, with a nil error:
//
//   - WSA_WAIT_EVENT_0+i: wait-any satisfied by objs[i], the lowest
//     signalled index at the moment the wait was satisfied; an auto-reset
//     objs[i] was consumed (only that one).
//   - WSA_WAIT_EVENT_0: wait-all satisfied; every auto-reset object was
//     consumed in the same step, and none is consumed before all are
//     signalled together.
//   - WSA_WAIT_IO_COMPLETION: the alertable wait ran one or more APCs of apc
//     in the calling goroutine and ended without consuming any object.
//   - WSA_WAIT_TIMEOUT: the time passed.
//
// WSA_WAIT_FAILED comes with the reason: WSA_INVALID_PARAMETER for no
// objects, more than WSA_MAXIMUM_WAIT_EVENTS (64), or the same object twice
// in a wait-all (the same object twice in a wait-any is allowed);
// WSA_INVALID_HANDLE for a nil or closed object, or one closed during the
// wait.
//
// As in the Windows kernel, objects are checked before APCs: an alertable
// wait whose objects already satisfy it returns their result and leaves
// queued APCs for the next alertable wait; otherwise it runs the queued APCs
// (all of them, including those they queue) and returns
// WSA_WAIT_IO_COMPLETION without blocking. If another goroutine is already
// running apc's APCs, this wait does not: it keeps waiting.
func Wait(objs []*Event, waitAll bool, timeout time.Duration, apc *APCQueue) (uint32, error) {
	if len(objs) == 0 || len(objs) > wsa.WSA_MAXIMUM_WAIT_EVENTS {
		return wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_PARAMETER
	}
	for _, o := range objs {
		if o == nil {
			return wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_HANDLE
		}
	}
	uniq, first, dup := distinct(objs)
	if dup && waitAll {
		return wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_PARAMETER
	}
	dl := newDeadline(timeout)
	defer dl.stop()
	for {
		lockAll(uniq)
		if r, err, ok := acquireLocked(objs, uniq, waitAll); ok {
			unlockAll(uniq)
			return r, err
		}
		var apcReady <-chan struct{}
		if apc != nil {
			ready, runnable := apc.poll()
			if runnable {
				unlockAll(uniq)
				if apc.RunPending() > 0 {
					return wsa.WSA_WAIT_IO_COMPLETION, nil
				}
				continue // another goroutine ran them first: look again
			}
			apcReady = ready
		}
		if timeout == 0 {
			unlockAll(uniq)
			return wsa.WSA_WAIT_TIMEOUT, nil
		}
		w := newWaiter(uniq, first, waitAll)
		for i, o := range uniq {
			o.link(&w.links[i])
		}
		unlockAll(uniq)

		select {
		case <-w.wake:
			return w.outcome(false)
		case <-w.assist:
			if !w.claim() {
				<-w.wake // satisfied meanwhile: the signal is ours
				return w.outcome(true)
			}
			w.unregister()
			fn := w.takeAssist(true)
			w.release()
			fn()
			// Look again: fn may have signalled an object.
		case <-dl.C():
			if !w.claim() {
				<-w.wake // satisfied meanwhile: the signal is ours
				return w.outcome(false)
			}
			w.unregister()
			fn := w.takeAssist(false)
			w.release()
			run(fn)
			return wsa.WSA_WAIT_TIMEOUT, nil
		case <-apcReady:
			if !w.claim() {
				<-w.wake
				return w.outcome(false)
			}
			w.unregister()
			fn := w.takeAssist(false)
			w.release()
			run(fn)
			if apc.RunPending() > 0 {
				return wsa.WSA_WAIT_IO_COMPLETION, nil
			}
			// Another goroutine took them; wait again for what is left.
		}
	}
}

// acquireLocked tries to satisfy a wait at once, with every lock held. ok
// reports whether the call is over (satisfied or failed).
func acquireLocked(objs, uniq []*Event, waitAll bool) (r uint32, err error, ok bool) {
	for _, o := range uniq {
		if o.closed {
			return wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_HANDLE, true
		}
	}
	if waitAll {
		for _, o := range uniq {
			if !o.signalled {
				return 0, nil, false
			}
		}
		for _, o := range uniq {
			if !o.manual {
				o.signalled = false
			}
		}
		return wsa.WSA_WAIT_EVENT_0, nil, true
	}
	for i, o := range objs {
		if o.signalled {
			if !o.manual {
				o.signalled = false
			}
			return wsa.WSA_WAIT_EVENT_0 + uint32(i), nil, true
		}
	}
	return 0, nil, false
}

// newWaiter returns a waiter for uniq (copied: the caller's slice is not
// kept), recycled for a wait-any.
func newWaiter(uniq []*Event, first []int, all bool) *waiter {
	var w *waiter
	if all {
		w = &waiter{wake: make(chan struct{}, 1)}
	} else {
		w = waiterPool.Get().(*waiter)
	}
	w.all = all
	if len(uniq) == 1 {
		w.oneObj[0] = uniq[0]
		w.objs = w.oneObj[:]
		w.links = w.one[:]
	} else {
		w.objs = append([]*Event(nil), uniq...)
		w.links = make([]waitLink, len(uniq))
	}
	for i := range w.links {
		w.links[i] = waitLink{w: w, index: first[i]}
	}
	return w
}

// release recycles a wait-any waiter whose outcome is decided and which is
// dequeued from every object (its wake channel is empty again).
func (w *waiter) release() {
	if w.all {
		return
	}
	w.done.Store(false)
	w.result = 0
	w.objs, w.links = nil, nil
	w.oneObj[0] = nil
	w.one[0] = waitLink{}
	waiterPool.Put(w)
}

// outcome is the result of a wait whose outcome a Set or Close decided;
// the waiter is released, and a function an Assist handed it is run
// (assisted: the signal of w.assist was taken already).
func (w *waiter) outcome(assisted bool) (uint32, error) {
	w.unregister()
	result := w.result
	fn := w.takeAssist(assisted)
	w.release()
	run(fn)
	if result < 0 {
		return wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_HANDLE
	}
	return wsa.WSA_WAIT_EVENT_0 + uint32(result), nil
}

var firstOfOne = []int{0} // read only

// distinct returns the distinct objects of objs sorted by id (the lock
// order), the lowest index of each in objs, and whether objs repeats one.
func distinct(objs []*Event) (uniq []*Event, first []int, dup bool) {
	if len(objs) == 1 {
		return objs[:1:1], firstOfOne, false
	}
	type ref struct {
		e *Event
		i int
	}
	refs := make([]ref, len(objs))
	for i, o := range objs {
		refs[i] = ref{o, i}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		if c := cmp.Compare(a.e.id, b.e.id); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	uniq = make([]*Event, 0, len(objs))
	first = make([]int, 0, len(objs))
	for k, r := range refs {
		if k > 0 && refs[k-1].e == r.e {
			dup = true
			continue
		}
		uniq = append(uniq, r.e)
		first = append(first, r.i)
	}
	return uniq, first, dup
}

package api

import (
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// socketObj is the api's record of one socket handle (the WSSOCKET of
// ReactOS's ws2_32).
type socketObj struct {
	ent       handleEntry
	catalogID atomic.Uint32 // the entry the handle was made or last claimed for
	context   any           // the provider's context (WPUCreateSocketHandle)

	// prov is the provider calls on this handle go to: the one whose
	// WSPSocket/WSPAccept/WSPJoinLeaf gave the handle to the api. Until then
	// it is nil and dispatch falls back to the provider of catalogID.
	prov atomic.Pointer[loadedProvider]

	gate   refGate     // calls in progress, drained by WSACleanup
	reaped atomic.Bool // closed by WSACleanup (or by a call racing it)
}

func (so *socketObj) handle() wsa.Socket { return wsa.Socket(so.ent.h) }

// eventObj is a manual-reset event object (WSAEVENT). ch is closed while the
// event is signalled and replaced when it is reset, so a waiter takes the
// current channel and selects on it (the wait functions come in the next
// issue).
type eventObj struct {
	ent handleEntry
	mu  sync.Mutex
	set bool
	ch  chan struct{}
}

func newEvent() *eventObj { return &eventObj{ch: make(chan struct{})} }

func (e *eventObj) signal() {
	e.mu.Lock()
	if !e.set {
		e.set = true
		close(e.ch)
	}
	e.mu.Unlock()
}

func (e *eventObj) reset() {
	e.mu.Lock()
	if e.set {
		e.set = false
		e.ch = make(chan struct{})
	}
	e.mu.Unlock()
}

// signalled returns the channel that is closed while the event is set.
func (e *eventObj) signalled() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ch
}

// apcQueue is the Session's one APC queue: the "thread" that WSATHREADID
// names. Go has no thread identity, so every call of a Session names this
// queue, and the completion routines queued to it run in whichever goroutine
// makes an alertable wait on the Session (next issue). ready is closed while
// the queue is not empty.
type apcQueue struct {
	ent   handleEntry
	mu    sync.Mutex
	q     []queuedAPC
	ready chan struct{}
	dead  bool
}

type queuedAPC struct {
	fn  provider.APCFunc
	ctx uintptr
}

func newAPCQueue() *apcQueue { return &apcQueue{ready: make(chan struct{})} }

func (q *apcQueue) push(fn provider.APCFunc, ctx uintptr) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.dead {
		return wsa.WSANOTINITIALISED
	}
	if len(q.q) == 0 {
		close(q.ready)
	}
	q.q = append(q.q, queuedAPC{fn, ctx})
	return nil
}

// pending returns the channel closed while APCs are queued.
func (q *apcQueue) pending() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready
}

// run runs the queued APCs in the calling goroutine, in order, including
// those queued while it runs, and returns how many ran: what an alertable
// wait does before it returns WSA_WAIT_IO_COMPLETION.
func (q *apcQueue) run() int {
	n := 0
	for {
		q.mu.Lock()
		if len(q.q) == 0 {
			q.mu.Unlock()
			return n
		}
		a := q.q[0]
		q.q[0] = queuedAPC{}
		q.q = q.q[1:]
		if len(q.q) == 0 {
			q.q = nil
			q.ready = make(chan struct{})
		}
		q.mu.Unlock()
		a.fn(a.ctx)
		n++
	}
}

// discard drops the queue at WSACleanup: queued routines never run (Windows
// runs no completion routine for work aborted by WSACleanup).
func (q *apcQueue) discard() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dead = true
	q.q = nil
}

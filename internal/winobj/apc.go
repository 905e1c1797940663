package winobj

import (
	"runtime"
	"sync"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// APCQueue is the user-mode APC queue of one Windows thread: completion
// routines (and QueueUserAPC functions) wait in it until the thread enters an
// alertable wait, which runs them.
//
// Go has no thread identity, so the queue itself stands for the thread: an
// APC is queued to a queue, not to whichever goroutine issued the operation,
// and it runs in the goroutine that makes an alertable wait ([Wait],
// [SleepEx], [Port.Get], … with this queue) or calls
// [APCQueue.RunPending]. Like a thread, a queue runs its APCs one at a time
// in FIFO order: if several goroutines wait alertably on the same queue, one
// of them runs the APCs while the others keep waiting.
//
// The zero APCQueue is not usable; make one with [NewAPCQueue]. All methods
// are safe for concurrent use.
type APCQueue struct {
	mu       sync.Mutex
	fns      fifo[func()]
	draining bool // a goroutine is running the APCs
	closed   bool
	// ready is closed while the queue is runnable: APCs are queued and no
	// goroutine is running them. Alertable waits select on it.
	ready chan struct{}
}

// NewAPCQueue makes an empty APC queue.
func NewAPCQueue() *APCQueue { return &APCQueue{ready: make(chan struct{})} }

// Queue adds fn to the queue (QueueUserAPC); an alertable wait on the queue
// wakes to run it. It fails with WSA_INVALID_PARAMETER for a nil fn and with
// WSA_INVALID_HANDLE after [APCQueue.Close].
func (q *APCQueue) Queue(fn func()) error {
	if fn == nil {
		return wsa.WSA_INVALID_PARAMETER
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return wsa.WSA_INVALID_HANDLE
	}
	q.fns.push(fn)
	if q.fns.len() == 1 && !q.draining {
		close(q.ready)
	}
	return nil
}

// Pending returns the number of queued APCs.
func (q *APCQueue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.fns.len()
}

// RunPending runs the queued APCs in the calling goroutine, oldest first,
// including those queued while it runs (an APC may queue another), and
// returns how many ran. It returns 0 at once if the queue is empty or
// another goroutine is running its APCs (that goroutine runs the new ones
// too). If an APC panics, the panic propagates to the caller; the APCs after
// it stay queued.
func (q *APCQueue) RunPending() int {
	q.mu.Lock()
	if q.draining || q.fns.len() == 0 {
		q.mu.Unlock()
		return 0
	}
	q.draining = true
	q.ready = make(chan struct{}) // not runnable while this goroutine drains
	n := 0
	finished := false
	defer func() {
		if !finished { // an APC panicked; q.mu is not held
			q.mu.Lock()
			q.draining = false
			if q.fns.len() > 0 {
				close(q.ready)
			}
			q.mu.Unlock()
		}
	}()
	for q.fns.len() > 0 {
		fn := q.fns.pop()
		q.mu.Unlock()
		fn()
		n++
		q.mu.Lock()
	}
	q.draining = false
	finished = true
	q.mu.Unlock()
	return n
}

// Close ends the queue, as a thread's exit does: queued APCs are discarded
// without running, and later Queue calls fail with WSA_INVALID_HANDLE.
// Alertable waits on the queue go on waiting for their objects. Closing
// twice fails with WSA_INVALID_HANDLE.
func (q *APCQueue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return wsa.WSA_INVALID_HANDLE
	}
	q.closed = true
	if q.fns.len() > 0 && !q.draining {
		q.ready = make(chan struct{}) // was closed: not runnable any more
	}
	q.fns.clear()
	return nil
}

// poll returns the channel that is closed when the queue becomes runnable,
// and whether it is runnable now. Callers may hold object locks: q.mu is
// always the last lock taken.
func (q *APCQueue) poll() (ready <-chan struct{}, runnable bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready, q.fns.len() > 0 && !q.draining
}

// SleepEx suspends the calling goroutine for d ([Infinite] or any negative
// value: forever), as SleepEx does. It returns 0 when the time has passed.
// With apc not nil the sleep is alertable: queued APCs of apc run at once,
// and APCs queued during the sleep end it after they run; it then returns
// WSA_WAIT_IO_COMPLETION. SleepEx(0, nil) yields the processor, like
// Sleep(0).
func SleepEx(d time.Duration, apc *APCQueue) uint32 {
	if apc != nil && apc.RunPending() > 0 {
		return wsa.WSA_WAIT_IO_COMPLETION
	}
	if d == 0 {
		runtime.Gosched()
		return 0
	}
	dl := newDeadline(d)
	defer dl.stop()
	for {
		var ready <-chan struct{}
		if apc != nil {
			r, runnable := apc.poll()
			if runnable {
				if apc.RunPending() > 0 {
					return wsa.WSA_WAIT_IO_COMPLETION
				}
				continue
			}
			ready = r
		}
		select {
		case <-dl.C():
			return 0
		case <-ready:
			if apc.RunPending() > 0 {
				return wsa.WSA_WAIT_IO_COMPLETION
			}
		}
	}
}

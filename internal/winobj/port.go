package winobj

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// ErrIOCompletion is the error of a [Port.Get] or [Port.GetMany] that was
// alertable and ended because it ran APCs: the Win32 code WAIT_IO_COMPLETION
// (192, the value of WSA_WAIT_IO_COMPLETION) that GetLastError returns when
// GetQueuedCompletionStatusEx(…, fAlertable=TRUE) fails that way. No packet
// was removed.
const ErrIOCompletion wsa.Errno = wsa.WSA_WAIT_IO_COMPLETION

// Packet is one completion packet: what PostQueuedCompletionStatus queues
// and GetQueuedCompletionStatus(Ex) returns (OVERLAPPED_ENTRY).
type Packet struct {
	Bytes      uint32          // dwNumberOfBytesTransferred
	Key        uintptr         // the completion key
	Overlapped *wsa.Overlapped // lpOverlapped, handed back by identity
	// Status is 0 for a successful operation, or the Win32 code of a failed
	// one (ERROR_OPERATION_ABORTED, ERROR_NETNAME_DELETED, …, spec §5.5):
	// what GetLastError returns after GetQueuedCompletionStatus returns
	// FALSE with a packet.
	Status wsa.Errno
}

// Port is an I/O completion port: a FIFO queue of completion packets that
// worker goroutines remove.
//
// Concurrency. Windows releases a packet to a thread only while fewer than
// the port's concurrency value of its threads are running, and counts a
// thread as running from the moment it dequeues a packet until it calls
// GetQueuedCompletionStatus again (or blocks elsewhere, which the kernel
// sees). Goroutines have no identity, so a Port counts only goroutines that
// say who they are: a [Worker] (from [Port.NewWorker], one per worker
// goroutine) is counted as running from each packet it removes until its
// next Get/GetMany or [Worker.Release], and removes a packet only while
// fewer than concurrency workers run. [Port.Get] and [Port.GetMany] are
// anonymous: never counted and never held back. A worker that blocks on
// something else while running should call Release first, or it keeps its
// slot (Windows would see the block and release it; Go cannot).
//
// Blocked callers are served most recent first (LIFO), as Windows does, so
// a small set of hot workers handles the load. Packets are handed directly
// to a waiting caller, so no wake-up is wasted.
//
// The zero Port is not usable; make one with [NewPort]. All methods are safe
// for concurrent use.
type Port struct {
	concurrency uint32

	mu      sync.Mutex
	closed  bool
	running uint32 // workers counted as running
	queue   fifo[Packet]
	anon    waitStack // blocked anonymous callers
	workers waitStack // blocked workers
	seq     uint64    // orders waiters across the two stacks
}

// NewPort makes a completion port (CreateIoCompletionPort with
// INVALID_HANDLE_VALUE) allowing concurrency workers to run at a time; 0
// means as many as there are processors (runtime.NumCPU).
func NewPort(concurrency uint32) *Port {
	if concurrency == 0 {
		concurrency = uint32(runtime.NumCPU())
	}
	return &Port{concurrency: concurrency}
}

// Concurrency returns the number of workers that may run at a time.
func (p *Port) Concurrency() uint32 { return p.concurrency }

// Post queues pkt (PostQueuedCompletionStatus, and the completion of an
// operation on a handle associated with the port). If a caller is blocked
// in Get and may take it, the packet goes straight to the most recent one.
// After [Port.Close] it fails with WSA_INVALID_HANDLE.
func (p *Port) Post(pkt Packet) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return wsa.WSA_INVALID_HANDLE
	}
	if w := p.popEligible(); w != nil {
		p.handoff(w, pkt)
		return nil
	}
	p.queue.push(pkt)
	return nil
}

// Get removes the oldest packet (GetQueuedCompletionStatus), as an
// anonymous caller that the concurrency limit neither counts nor holds back.
// It blocks until a packet is available or timeout passes ([Infinite] or
// negative: never; 0: poll). A packet of a failed operation comes back with
// a nil error and its code in Packet.Status.
//
// Errors, with no packet removed: wsa.WAIT_TIMEOUT when the time passed;
// wsa.ERROR_ABANDONED_WAIT_0 when the port is closed, before or during the
// call; [ErrIOCompletion] when apc is not nil (an alertable wait, as
// GetQueuedCompletionStatusEx allows) and APCs ran. As in Windows, available
// packets are taken before queued APCs run.
func (p *Port) Get(timeout time.Duration, apc *APCQueue) (Packet, error) {
	var pkt Packet
	_, err := p.get(nil, 1, func(_ int, q Packet) { pkt = q }, timeout, apc)
	return pkt, err
}

// GetMany is GetQueuedCompletionStatusEx: it blocks like [Port.Get] until
// at least one packet is available, then removes up to len(out) available
// packets at once, oldest first, and returns how many. An empty out fails
// with WSA_INVALID_PARAMETER.
func (p *Port) GetMany(out []Packet, timeout time.Duration, apc *APCQueue) (int, error) {
	return p.get(nil, len(out), func(i int, q Packet) { out[i] = q }, timeout, apc)
}

// GetManyFunc is [Port.GetMany] for a caller that keeps the packets in its
// own form (OVERLAPPED_ENTRY): it removes up to max packets and hands each
// to put, with its index (0, 1, …, oldest first), instead of storing it in
// a []Packet, so that no intermediate buffer is needed. put runs in the
// calling goroutine, possibly with the port's lock held: it must only store
// the packet. max < 1 fails with WSA_INVALID_PARAMETER.
func (p *Port) GetManyFunc(max int, put func(i int, pkt Packet), timeout time.Duration, apc *APCQueue) (int, error) {
	return p.get(nil, max, put, timeout, apc)
}

// Close closes the port (CloseHandle): queued packets are discarded, every
// blocked Get returns wsa.ERROR_ABANDONED_WAIT_0 and so do later ones, and
// Post fails with WSA_INVALID_HANDLE. Closing twice fails with
// WSA_INVALID_HANDLE.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return wsa.WSA_INVALID_HANDLE
	}
	p.closed = true
	p.queue.clear()
	for _, s := range []*waitStack{&p.anon, &p.workers} {
		for w := s.head; w != nil; w = s.head {
			s.remove(w)
			w.closed = true
			w.wake <- struct{}{}
		}
	}
	return nil
}

// Worker is one worker goroutine of a [Port], counted against its
// concurrency value (see [Port]). It belongs to one goroutine at a time: a
// second concurrent Get on the same Worker fails with WSA_INVALID_PARAMETER.
type Worker struct {
	p      *Port
	active bool // counted in p.running; guarded by p.mu
	inGet  atomic.Bool
}

// NewWorker makes a worker identity for one goroutine that serves p.
func (p *Port) NewWorker() *Worker { return &Worker{p: p} }

// Get is [Port.Get] for the worker: the worker stops counting as running,
// waits until a packet is available and fewer than the port's concurrency
// workers run, and counts as running again once it has the packet.
func (wk *Worker) Get(timeout time.Duration, apc *APCQueue) (Packet, error) {
	var pkt Packet
	_, err := wk.p.get(wk, 1, func(_ int, q Packet) { pkt = q }, timeout, apc)
	return pkt, err
}

// GetMany is [Port.GetMany] for the worker, which counts as one running
// worker however many packets it removes.
func (wk *Worker) GetMany(out []Packet, timeout time.Duration, apc *APCQueue) (int, error) {
	return wk.p.get(wk, len(out), func(i int, q Packet) { out[i] = q }, timeout, apc)
}

// GetManyFunc is [Port.GetManyFunc] for the worker.
func (wk *Worker) GetManyFunc(max int, put func(i int, pkt Packet), timeout time.Duration, apc *APCQueue) (int, error) {
	return wk.p.get(wk, max, put, timeout, apc)
}

// Release stops counting the worker as running until it removes its next
// packet: call it before the worker goroutine blocks on anything other than
// the port, or exits, so that another worker may run. It does nothing if the
// worker is not running.
func (wk *Worker) Release() {
	p := wk.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if !wk.active {
		return
	}
	wk.active = false
	p.running--
	p.dispatch()
}

// portWaiter is one blocked Get. Its fields belong to p.mu until it is
// handed off or closed, then to the waiting goroutine (after wake).
type portWaiter struct {
	prev, next *portWaiter
	listed     bool
	seq        uint64
	wk         *Worker // nil: anonymous
	pkt        Packet
	closed     bool
	wake       chan struct{} // capacity 1: handed a packet, or the port closed
}

// waitStack is a LIFO list of blocked callers with O(1) removal.
type waitStack struct{ head *portWaiter }

func (s *waitStack) push(w *portWaiter) {
	w.prev, w.next, w.listed = nil, s.head, true
	if s.head != nil {
		s.head.prev = w
	}
	s.head = w
}

func (s *waitStack) remove(w *portWaiter) {
	if w.prev == nil {
		s.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.listed = nil, nil, false
}

// eligible reports whether the caller may remove a packet now.
func (p *Port) eligible(wk *Worker) bool { return wk == nil || p.running < p.concurrency }

// popEligible removes and returns the most recent blocked caller that may
// take a packet now, or nil.
func (p *Port) popEligible() *portWaiter {
	w := p.anon.head
	if k := p.workers.head; k != nil && p.eligible(k.wk) && (w == nil || k.seq > w.seq) {
		w = k
	}
	if w == nil {
		return nil
	}
	if w.wk == nil {
		p.anon.remove(w)
	} else {
		p.workers.remove(w)
	}
	return w
}

// handoff gives pkt to the blocked caller w, counting a worker as running.
func (p *Port) handoff(w *portWaiter, pkt Packet) {
	if w.wk != nil {
		w.wk.active = true
		p.running++
	}
	w.pkt = pkt
	w.wake <- struct{}{}
}

// dispatch hands queued packets to blocked callers that may take them.
func (p *Port) dispatch() {
	for p.queue.len() > 0 {
		w := p.popEligible()
		if w == nil {
			return
		}
		p.handoff(w, p.queue.pop())
	}
}

// take hands queued packets to put, with the indexes from, from+1, …, up
// to max in all, and returns the index after the last.
func (p *Port) take(from, max int, put func(int, Packet)) int {
	n := from
	for n < max && p.queue.len() > 0 {
		put(n, p.queue.pop())
		n++
	}
	return n
}

// get removes up to max packets into put (see GetManyFunc) for wk, or for
// an anonymous caller when wk is nil.
func (p *Port) get(wk *Worker, max int, put func(int, Packet), timeout time.Duration, apc *APCQueue) (int, error) {
	if max < 1 {
		return 0, wsa.WSA_INVALID_PARAMETER
	}
	if wk != nil {
		if !wk.inGet.CompareAndSwap(false, true) {
			return 0, wsa.WSA_INVALID_PARAMETER
		}
		defer wk.inGet.Store(false)
	}
	dl := newDeadline(timeout)
	defer dl.stop()
	p.mu.Lock()
	if wk != nil && wk.active {
		// Back at the port: the worker's packet is done. Its own call below
		// gets first pick of the slot it frees (it runs already; Windows
		// does the same), so no dispatch here.
		wk.active = false
		p.running--
	}
	for {
		if p.closed {
			p.mu.Unlock()
			return 0, wsa.ERROR_ABANDONED_WAIT_0
		}
		if p.queue.len() > 0 && p.eligible(wk) {
			n := p.take(0, max, put)
			if wk != nil {
				wk.active = true
				p.running++
			}
			p.mu.Unlock()
			return n, nil
		}
		var apcReady <-chan struct{}
		if apc != nil {
			ready, runnable := apc.poll()
			if runnable {
				p.mu.Unlock()
				if apc.RunPending() > 0 {
					return 0, ErrIOCompletion
				}
				p.mu.Lock()
				continue
			}
			apcReady = ready
		}
		if timeout == 0 {
			p.mu.Unlock()
			return 0, wsa.WAIT_TIMEOUT
		}
		p.seq++
		w := &portWaiter{seq: p.seq, wk: wk, wake: make(chan struct{}, 1)}
		if wk == nil {
			p.anon.push(w)
		} else {
			p.workers.push(w)
		}
		p.mu.Unlock()

		select {
		case <-w.wake:
			return p.received(w, max, put)
		case <-dl.C():
			p.mu.Lock()
			if !w.listed { // handed a packet (or closed) meanwhile
				p.mu.Unlock()
				<-w.wake
				return p.received(w, max, put)
			}
			p.remove(w)
			p.mu.Unlock()
			return 0, wsa.WAIT_TIMEOUT
		case <-apcReady:
			p.mu.Lock()
			if !w.listed {
				p.mu.Unlock()
				<-w.wake
				return p.received(w, max, put)
			}
			p.remove(w)
			p.mu.Unlock()
			if apc.RunPending() > 0 {
				return 0, ErrIOCompletion
			}
			p.mu.Lock()
		}
	}
}

func (p *Port) remove(w *portWaiter) {
	if w.wk == nil {
		p.anon.remove(w)
	} else {
		p.workers.remove(w)
	}
}

// received completes a Get that was handed a packet or saw the port close:
// it tops the batch up with packets queued since.
func (p *Port) received(w *portWaiter, max int, put func(int, Packet)) (int, error) {
	if w.closed {
		return 0, wsa.ERROR_ABANDONED_WAIT_0
	}
	put(0, w.pkt)
	n := 1
	if max > 1 {
		p.mu.Lock()
		if !p.closed {
			n = p.take(1, max, put)
		}
		p.mu.Unlock()
	}
	return n, nil
}

package wsp

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Overlapped I/O (spec §2.6, §5.5): the provider side.
//
// An overlapped operation is an Op in one of the ordered queues of a
// socket (Queues): receives (WSARecv, WSARecvFrom, WSARecvMsg, an AcceptEx
// waiting for its first data), sends (WSASend, WSASendTo, WSASendMsg,
// TransmitFile, TransmitPackets, DisconnectEx), AcceptEx on a listener,
// ConnectEx. Each operation has a non-blocking try step built from the same
// steps the blocking calls use, keeping its progress in its own state.
//
// Issuing an operation tries it at once when its queue is empty: if it
// completes, the completion is delivered before the call returns nil; if it
// would block, it is queued and the call returns WSA_IO_PENDING; any other
// error means it did not start (no completion), except WSAEMSGSIZE from a
// datagram receive: that one completed, truncated, and its completion is
// delivered before the call returns WSAEMSGSIZE (the SPI rule, see
// provider.ProcTable). Queued operations are tried again, head first, by
// the socket's pump, started from the readiness observer when an event
// arrives while operations are pending (one at a time per socket; events
// that arrive while it runs make it run again). gVisor notifies with its
// endpoint locked, so the pump cannot run in the observer: it runs in the
// goroutine waiting for the completion when there is one, else in a
// short-lived goroutine of its own. The waiting goroutine is found through
// the event of the latest queued operation that has one (the api's
// WPUAssist upcall, api/upcalls.go): a goroutine blocked in a wait on that
// event runs the pump and then sees the completion it made, with no hand-off
// between goroutines in between. Nothing polls, no goroutine waits per
// operation, and an idle socket with pending operations runs nothing.
//
// Only the head of a queue is tried, so operations complete in issue order:
// stream data goes to pending receives in the order they were issued, sends
// go out in order. Every completion goes through provider.CompleteOverlapped
// (event, completion port or completion routine, as the api decides), with
// the WSAE* code in Overlapped.OffsetHigh and the flags in Offset, as MSAFD
// keeps them.
//
// Cancellation (CancelIo, closesocket, WSPCleanup) removes operations from
// their queues and completes them with WSA_OPERATION_ABORTED, with the bytes
// already transferred.
//
// Locks: OpQueue.mu (held while an operation of the queue is tried or
// completed), then the provider's socket lock (taken by the try steps),
// then Queues.mu (of the operation's owner). OpQueue.mu is never taken with the
// socket lock held, so closesocket aborts the operations only after the
// socket is closed (see Abort).

// ErrMoved is returned by a try step that moved its operation to another
// queue (AcceptEx waiting for its first data on the accepted connection).
var ErrMoved = errors.New("wsp: operation moved to another queue")

// OpQueue is one ordered queue of pending operations.
type OpQueue struct {
	mu  sync.Mutex
	ops []*Op
	n   atomic.Int32 // len(ops), stored under mu: the pump skips an empty queue without locking it
}

// push appends op to q; q.mu is held.
func (q *OpQueue) push(op *Op) {
	q.ops = append(q.ops, op)
	q.n.Store(int32(len(q.ops)))
}

// Queues is a socket's overlapped state: its queues and the operations it
// completes. Init it once the socket has its handle.
type Queues struct {
	rd     *Readiness
	handle wsa.Socket

	once    sync.Once
	work    atomic.Int32  // kicks not yet handled by the pump
	pending atomic.Int32  // operations in this socket's queues
	seq     atomic.Uint64 // readiness events seen

	Recv, Send, Accept, Conn OpQueue

	mu      sync.Mutex
	owned   *Op          // queued operations completing on this handle (a list through Op.next), under mu
	nlinked atomic.Int32 // their number, stored under mu
	closed  atomic.Bool  // aborted by closesocket or WSPCleanup; stored under mu

	// AcceptOp is the pending AcceptEx using this socket as its accept
	// socket (closing the socket aborts it).
	AcceptOp atomic.Pointer[Op]

	// The pump's assist (startPump): the event handle of the latest
	// queued operation that has one (0: none), and the upcall table that
	// can hand the pump to a goroutine waiting on it (an assister, stored
	// once). pumpFn is o.pump, made once by start.
	assistEv atomic.Uintptr
	assistUp atomic.Value
	pumpFn   func()
}

// assister is the api's WPUAssist upcall (api/upcalls.go), which is not
// part of provider.UpcallTable: wsp finds it by a type assertion, and
// without it (a layered provider's own upcall table, a test's) the pump
// runs in a goroutine of its own.
type assister interface {
	WPUAssist(h wsa.Handle, fn func()) bool
}

// noteAssist records the event of op, being queued on one of o's queues,
// as the one whose waiter runs the pump.
func (o *Queues) noteAssist(op *Op) {
	if op.ov == nil {
		return
	}
	ev := op.ov.HEvent &^ 1 // the low bit only keeps it off the completion port
	if ev == 0 {
		return
	}
	if o.assistUp.Load() == nil {
		a, ok := op.up.(assister)
		if !ok {
			return
		}
		o.assistUp.CompareAndSwap(nil, a)
	}
	o.assistEv.Store(uintptr(ev))
}

// Init ties q to the socket's readiness core and handle.
func (o *Queues) Init(rd *Readiness, handle wsa.Socket) { o.rd, o.handle = rd, handle }

// Pending is the number of operations in the socket's queues (for tests).
func (o *Queues) Pending() int32 { return o.pending.Load() }

// Operation states.
const (
	opPending    int32 = iota
	opDelivering       // completion being delivered
	opDone
)

// Op is one overlapped (or, for the extension functions called without an
// OVERLAPPED, one blocking) operation.
type Op struct {
	owner *Queues // completes on owner.handle (the listener for AcceptEx)
	up    provider.UpcallTable
	ov    *wsa.Overlapped // nil: a blocking call waits on done
	cr    wsa.CompletionRoutine
	Tid   provider.ThreadID
	// Try attempts the operation: WSAEWOULDBLOCK to wait, ErrMoved when it
	// moved itself, else its result (bytes, flags, error).
	Try func() (n, flags uint32, err error)
	// Partial returns the bytes transferred so far (for a cancellation);
	// nil for none. Finish, if set, runs once when the operation completes
	// (delivered or not started), with its error.
	Partial func() uint32
	Finish  func(err error)
	// Step, if set, replaces Try and Partial: an operation whose state
	// lives in one object with its Op (see InitOp) costs one allocation
	// instead of one per closure.
	Step Step

	q     atomic.Pointer[OpQueue] // the queue holding it; written under q.mu
	qs    *Queues                 // the socket of q; written under q.mu
	state atomic.Int32
	// done is closed once the result is final: made by NewOp for a
	// blocking operation, else only when GetOverlappedResult waits (under
	// owner.mu, as are prev and next: owner's list of operations).
	done       chan struct{}
	prev, next *Op
	// linked reports op on owner's list: set (under owner.mu) by link
	// before op is first queued, cleared by finishUp. Whoever completes a
	// queued op took it from its queue under the queue's lock, so it sees
	// linked without taking owner.mu.
	linked bool

	n, flags uint32 // the result, valid after done
	err      error

	savedInternal, savedHigh uintptr // ov's fields before register
}

// Step is the try step of an operation as an object (Op.Step).
type Step interface {
	// Try is as Op.Try.
	Try() (n, flags uint32, err error)
	// Partial is as Op.Partial.
	Partial() uint32
}

func (op *Op) try() (uint32, uint32, error) {
	if op.Step != nil {
		return op.Step.Try()
	}
	return op.Try()
}

func (op *Op) partial() uint32 {
	switch {
	case op.Step != nil:
		return op.Step.Partial()
	case op.Partial != nil:
		return op.Partial()
	}
	return 0
}

// findOp returns the operation of ov pending (not yet completing) on o's
// handle, or nil.
func (o *Queues) findOp(ov *wsa.Overlapped) *Op {
	o.mu.Lock()
	defer o.mu.Unlock()
	for op := o.owned; op != nil; op = op.next {
		if op.ov == ov {
			return op
		}
	}
	return nil
}

// start has the socket's readiness core tell o of its events (event), once.
func (o *Queues) start() {
	o.once.Do(func() {
		o.pumpFn = o.pump
		o.rd.ovq.Store(o)
	})
}

// event is o's readiness observer (see start): it counts the event and
// runs the pump if operations are pending.
func (o *Queues) event() {
	o.seq.Add(1)
	if o.pending.Load() > 0 {
		o.kick()
	}
}

// kick runs the pump, starting it unless it is running (then it runs
// again). It never blocks; it may run in the notification context.
func (o *Queues) kick() {
	if o.work.Add(1) == 1 {
		o.startPump()
	}
}

// startPump has the pump run by a goroutine waiting on the event of the
// latest queued operation (see noteAssist), or else by a new goroutine.
func (o *Queues) startPump() {
	if ev := o.assistEv.Load(); ev != 0 {
		if a, ok := o.assistUp.Load().(assister); ok && a.WPUAssist(wsa.Handle(ev), o.pumpFn) {
			return
		}
	}
	go o.pump()
}

// pump tries the queued operations until no kick came in meanwhile.
func (o *Queues) pump() {
	for {
		n := o.work.Load()
		for _, q := range o.queues() {
			// A queue that is empty now needs nothing from this event: an
			// operation queued after this look is tried by the kick its
			// Submit makes when an event came meanwhile.
			if q.n.Load() > 0 {
				o.runQueue(q)
			}
		}
		if o.work.CompareAndSwap(n, 0) {
			return
		}
	}
}

func (o *Queues) queues() [4]*OpQueue {
	return [4]*OpQueue{&o.Recv, &o.Send, &o.Accept, &o.Conn}
}

// runQueue tries the operations of q (one of o's queues), head first,
// until one would block.
func (o *Queues) runQueue(q *OpQueue) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ops) > 0 {
		if o.rd.IsClosed() {
			return // closesocket aborts them
		}
		op := q.ops[0]
		n, flags, err := op.try()
		if err == wsa.WSAEWOULDBLOCK {
			return
		}
		if err != nil && err != ErrMoved && o.rd.IsClosed() {
			return // failed because the socket closed: aborted instead
		}
		q.popHead()
		o.pending.Add(-1)
		if err == ErrMoved {
			continue
		}
		op.q.Store(nil)
		op.deliver(err, n, flags)
	}
}

// popHead removes the head of q, keeping the backing array (no
// reallocation as operations come and go); q.mu is held.
func (q *OpQueue) popHead() {
	n := copy(q.ops, q.ops[1:])
	q.ops[n] = nil
	q.ops = q.ops[:n]
	q.n.Store(int32(n))
}

// NewOp makes an operation completing on o's handle. tid may be nil.
func (o *Queues) NewOp(up provider.UpcallTable, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) *Op {
	op := new(Op)
	o.InitOp(op, up, ov, cr, tid)
	return op
}

// InitOp makes *op, a zero Op (usually inside the object that is its
// Step), an operation completing on o's handle, as NewOp does. tid may be
// nil.
func (o *Queues) InitOp(op *Op, up provider.UpcallTable, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) {
	op.owner, op.up, op.ov, op.cr = o, up, ov, cr
	if ov == nil {
		op.done = make(chan struct{}) // a blocking call waits on it
	}
	if tid != nil {
		op.Tid = *tid
	}
}

// Submit issues op on queue q of o (usually op's owner): checked (see
// register), tried at once if q is empty, else queued. Only a queued
// operation goes on its owner's list (link): one that completes or fails at
// once takes no lock but q's. It returns the result of an
// immediate completion (delivered already: nil, or WSAEMSGSIZE for a
// datagram receive truncated at once), wsa.WSA_IO_PENDING for a queued
// operation, or the error of an operation that did not start (nothing
// delivered). An operation without an OVERLAPPED is waited for instead:
// its result is returned, WSA_OPERATION_ABORTED (closesocket) as WSAEINTR.
func (o *Queues) Submit(q *OpQueue, op *Op) (uint32, uint32, error) {
	if err := op.register(); err != nil {
		if op.Finish != nil {
			op.Finish(err)
		}
		return 0, 0, err
	}
	o.start()
	seq := o.seq.Load()
	q.mu.Lock()
	op.q.Store(q)
	op.qs = o
	if len(q.ops) == 0 {
		n, flags, err := op.try()
		switch err {
		case wsa.WSAEWOULDBLOCK:
		case ErrMoved:
			q.mu.Unlock()
			return op.pendingResult()
		case nil:
			op.q.Store(nil)
			op.deliver(nil, n, flags)
			q.mu.Unlock()
			return n, flags, nil
		case wsa.WSAEMSGSIZE:
			if q == &o.Recv {
				// A datagram receive truncated at once completed (the
				// SPI's one exception to "an error did not start").
				op.q.Store(nil)
				op.deliver(err, n, flags)
				q.mu.Unlock()
				return n, flags, err
			}
			fallthrough
		default:
			op.q.Store(nil)
			op.notStarted(err, n, flags)
			q.mu.Unlock()
			return n, flags, err
		}
	}
	if !op.link() {
		op.q.Store(nil)
		op.abort() // the owner was aborted meanwhile
		q.mu.Unlock()
		return op.pendingResult()
	}
	q.push(op)
	o.pending.Add(1)
	o.noteAssist(op)
	q.mu.Unlock()
	if o.seq.Load() != seq || o.rd.IsClosed() {
		o.kick() // an event came while it was tried
	}
	return op.pendingResult()
}

// pendingResult is Submit's answer for a queued operation.
func (op *Op) pendingResult() (uint32, uint32, error) {
	if op.ov != nil {
		return 0, 0, wsa.WSA_IO_PENDING
	}
	<-op.done
	if op.err == wsa.WSA_OPERATION_ABORTED {
		return op.n, op.flags, wsa.WSAEINTR
	}
	return op.n, op.flags, op.err
}

// MoveTo moves op, being tried by the pump or Submit of its current queue
// (whose lock is held), to queue q of o and returns ErrMoved for the try
// step to return. It is tried there at once if q is empty.
func (op *Op) MoveTo(o *Queues, q *OpQueue) error {
	o.start()
	seq := o.seq.Load()
	q.mu.Lock()
	if len(q.ops) == 0 {
		n, flags, err := op.try()
		if err != wsa.WSAEWOULDBLOCK {
			op.q.Store(nil)
			op.deliver(err, n, flags)
			q.mu.Unlock()
			return ErrMoved
		}
	}
	if !op.link() {
		op.q.Store(nil)
		op.abort() // the owner was aborted meanwhile
		q.mu.Unlock()
		return ErrMoved
	}
	q.push(op)
	op.q.Store(q)
	op.qs = o
	o.pending.Add(1)
	o.noteAssist(op)
	q.mu.Unlock()
	if o.seq.Load() != seq || o.rd.IsClosed() {
		o.kick()
	}
	return ErrMoved
}

// register checks that op may start on its owner's handle and marks its
// OVERLAPPED in progress. A closed socket is WSAENOTSOCK; an OVERLAPPED in
// use by a queued operation on the same handle that has not begun to
// complete is WSAEINVAL. Windows makes no such check (using one OVERLAPPED
// for two operations at a time is the caller's error, with undefined
// results); ws2 catches the common case, a second call issued while the
// first is pending, but not one racing with another goroutine's call that
// is still being tried at once (not yet queued, see link).
//
// An OVERLAPPED may be reused as soon as its completion can be seen (the
// event signalled, the packet dequeued, the completion routine running,
// HasOverlappedIoCompleted true), as in Windows, while the operation that
// completed is still finishing up: one that is delivering or done does not
// count as using it.
func (op *Op) register() error {
	o := op.owner
	o.start()
	if o.closed.Load() {
		return wsa.WSAENOTSOCK
	}
	if op.ov != nil {
		if o.nlinked.Load() > 0 && o.inUse(op.ov) {
			return wsa.WSAEINVAL
		}
		// The operation is in progress until it completes (atomically:
		// HasOverlappedIoCompleted reads these from other goroutines).
		op.savedInternal = atomic.SwapUintptr(&op.ov.Internal, wsa.WSS_OPERATION_IN_PROGRESS)
		op.savedHigh = atomic.SwapUintptr(&op.ov.InternalHigh, 0)
	}
	return nil
}

// inUse reports an operation on o's list, not yet completing, that uses ov.
func (o *Queues) inUse(ov *wsa.Overlapped) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for x := o.owned; x != nil; x = x.next {
		if x.ov == ov && x.state.Load() == opPending {
			return true
		}
	}
	return false
}

// link puts op, about to be queued (the queue's lock held), on its owner's
// list of pending operations, where CancelIo, GetOverlappedResult, Abort
// and register find it; it is a no-op for an op linked already. It reports
// false, linking nothing, when the owner was aborted meanwhile (the caller
// then aborts op instead of queuing it).
func (op *Op) link() bool {
	if op.linked {
		return true
	}
	o := op.owner
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed.Load() {
		return false
	}
	op.prev, op.next, op.linked = nil, o.owned, true
	if o.owned != nil {
		o.owned.prev = op
	}
	o.owned = op
	o.nlinked.Add(1)
	return true
}

// unregisterLocked removes op from its owner's list; owner.mu is held.
func (op *Op) unregisterLocked() {
	if !op.linked {
		return
	}
	o := op.owner
	if op.prev == nil {
		o.owned = op.next
	} else {
		op.prev.next = op.next
	}
	if op.next != nil {
		op.next.prev = op.prev
	}
	op.prev, op.next, op.linked = nil, nil, false
	o.nlinked.Add(-1)
}

// Deliver completes op at once with its result (an overlapped ioctl, which
// completes before it returns).
func (op *Op) Deliver(err error, n, flags uint32) { op.deliver(err, n, flags) }

// deliver completes op with its result: through CompleteOverlapped for an
// overlapped operation, to the waiting caller for a blocking one.
func (op *Op) deliver(err error, n, flags uint32) {
	op.state.Store(opDelivering)
	op.n, op.flags, op.err = n, flags, err
	if op.ov != nil {
		code := ErrnoOf(err)
		op.ov.OffsetHigh = uint32(code) // MSAFD's copy of the WSAE* code
		var tid *provider.ThreadID
		if op.cr != nil {
			tid = &op.Tid
		}
		_ = provider.CompleteOverlapped(op.up, op.owner.handle, op.ov, op.cr, tid, code, n, flags)
	}
	op.finishUp(err)
}

// notStarted ends an operation that failed at once: nothing is delivered.
func (op *Op) notStarted(err error, n, flags uint32) {
	op.state.Store(opDelivering)
	op.n, op.flags, op.err = n, flags, err
	if op.ov != nil {
		// Not started: the OVERLAPPED is left as the caller gave it.
		atomic.StoreUintptr(&op.ov.InternalHigh, op.savedHigh)
		atomic.StoreUintptr(&op.ov.Internal, op.savedInternal)
	}
	op.finishUp(err)
}

func (op *Op) finishUp(err error) {
	if op.Finish != nil {
		op.Finish(err)
	}
	if !op.linked {
		// Never queued: nobody else can find op, so nobody else makes or
		// waits on op.done but a blocking call's own caller.
		op.state.Store(opDone)
		if op.done != nil {
			close(op.done)
		}
		return
	}
	o := op.owner
	o.mu.Lock()
	op.state.Store(opDone)
	if op.done != nil {
		close(op.done)
	}
	op.unregisterLocked()
	o.mu.Unlock()
}

// wait blocks until op's result is final.
func (op *Op) wait() {
	o := op.owner
	o.mu.Lock()
	if op.state.Load() == opDone {
		o.mu.Unlock()
		return
	}
	if op.done == nil {
		op.done = make(chan struct{})
	}
	done := op.done
	o.mu.Unlock()
	<-done
}

// CancelOp completes op with WSA_OPERATION_ABORTED if it is still queued,
// and reports whether it was.
func CancelOp(op *Op) bool {
	for {
		q := op.q.Load()
		if q == nil {
			return false
		}
		q.mu.Lock()
		if op.q.Load() != q {
			q.mu.Unlock()
			continue // moved meanwhile
		}
		i := 0
		for i < len(q.ops) && q.ops[i] != op {
			i++
		}
		if i == len(q.ops) {
			q.mu.Unlock()
			return false
		}
		q.ops = append(q.ops[:i], q.ops[i+1:]...)
		q.n.Store(int32(len(q.ops)))
		qs := op.qs
		qs.pending.Add(-1)
		op.q.Store(nil)
		op.abort()
		next := i == 0 && len(q.ops) > 0 // read under q.mu
		q.mu.Unlock()
		if next {
			qs.kick() // the next one may be ready
		}
		return true
	}
}

// abort delivers WSA_OPERATION_ABORTED with the bytes transferred so far.
func (op *Op) abort() {
	op.deliver(wsa.WSA_OPERATION_ABORTED, op.partial(), 0)
}

// Abort aborts every pending operation of the socket (closesocket,
// WSPCleanup) with WSA_OPERATION_ABORTED: those in its queues and those
// completing on its handle from another socket's queue. Later submissions
// fail WSAENOTSOCK. A pending AcceptEx that was to use the socket as its
// accept socket is aborted too. Call it without the socket lock, after the
// socket is closed and before its handle is released.
func (o *Queues) Abort() {
	o.mu.Lock()
	o.closed.Store(true)
	var owned []*Op
	for op := o.owned; op != nil; op = op.next {
		owned = append(owned, op)
	}
	o.mu.Unlock()
	for _, q := range o.queues() {
		q.mu.Lock()
		ops := q.ops
		q.ops = nil
		q.n.Store(0)
		for _, op := range ops {
			o.pending.Add(-1)
			op.q.Store(nil)
			op.abort()
		}
		q.mu.Unlock()
	}
	for _, op := range owned {
		CancelOp(op)
	}
	if op := o.AcceptOp.Load(); op != nil {
		CancelOp(op) // an AcceptEx of another socket meant to use this one
	}
}

// CancelIo is WSPCancelIo for the socket (provider.Canceler): CancelIo (ov
// nil: every pending overlapped operation issued on the socket) and
// CancelIoEx (the one of ov). Each completes with WSA_OPERATION_ABORTED
// through its usual mechanism; nothing pending is wsa.ERROR_NOT_FOUND.
// Operations already completing are not cancelled.
func (o *Queues) CancelIo(ov *wsa.Overlapped) error {
	if ov != nil {
		op := o.findOp(ov)
		if op == nil || !CancelOp(op) {
			return wsa.ERROR_NOT_FOUND
		}
		return nil
	}
	o.mu.Lock()
	var ops []*Op
	for op := o.owned; op != nil; op = op.next {
		if op.ov != nil {
			ops = append(ops, op)
		}
	}
	o.mu.Unlock()
	found := false
	for _, op := range ops {
		if CancelOp(op) {
			found = true
		}
	}
	if !found {
		return wsa.ERROR_NOT_FOUND
	}
	return nil
}

// GetOverlappedResult is WSPGetOverlappedResult for an operation issued
// on o's socket (an AcceptEx: on its listening socket): the bytes
// transferred and flags, and nil or the operation's WSAE* error, read from
// ov (InternalHigh, Offset, OffsetHigh). ov nil is WSAEFAULT.
//
// While the operation is pending: wait false is WSA_IO_INCOMPLETE; wait
// true blocks until it completes (a completion being delivered at that
// moment is waited for even with wait false), without polling.
func (o *Queues) GetOverlappedResult(ov *wsa.Overlapped, wait bool) (uint32, uint32, error) {
	if ov == nil {
		return 0, 0, wsa.WSAEFAULT
	}
	if op := o.findOp(ov); op != nil {
		if !wait && op.state.Load() == opPending {
			return 0, 0, wsa.WSA_IO_INCOMPLETE
		}
		op.wait()
	} else if atomic.LoadUintptr(&ov.Internal) == wsa.WSS_OPERATION_IN_PROGRESS {
		return 0, 0, wsa.WSA_IO_INCOMPLETE
	}
	n, flags, code := uint32(atomic.LoadUintptr(&ov.InternalHigh)), ov.Offset, ov.OffsetHigh
	if code != 0 {
		return n, flags, wsa.Errno(code)
	}
	return n, flags, nil
}

package netstack

import (
	"errors"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Overlapped I/O (spec §2.6, §5.5): the provider side.
//
// An overlapped operation is an ovOp in one of the ordered queues of a
// socket (overlappedQueues): receives (WSARecv, WSARecvFrom, WSARecvMsg, an
// AcceptEx waiting for its first data), sends (WSASend, WSASendTo,
// WSASendMsg, TransmitFile, TransmitPackets, DisconnectEx), AcceptEx on a
// listener, ConnectEx. Each operation has a non-blocking try step built from
// the same steps the blocking calls use (tryRecvStream, trySendStream,
// tryRecvDgram, trySendDgram, ...), keeping its progress in its own state.
//
// Issuing an operation tries it at once when its queue is empty: if it
// completes, the completion is delivered before the call returns nil; if it
// would block, it is queued and the call returns WSA_IO_PENDING; any other
// error means it did not start (no completion), except WSAEMSGSIZE from a
// datagram receive: that one completed, truncated, and its completion is
// delivered before the call returns WSAEMSGSIZE (the SPI rule, see
// provider.ProcTable). Queued operations are tried again, head first, by
// the socket's pump: a short-lived goroutine started from the readiness
// observer when an event arrives while operations are pending (one at a
// time per socket; events that arrive while it runs make it run again).
// Nothing polls, no goroutine waits per operation, and an idle socket with
// pending operations runs nothing.
//
// Only the head of a queue is tried, so operations complete in issue order:
// stream data goes to pending receives in the order they were issued, sends
// go out in order. Every completion goes through provider.CompleteOverlapped
// (event, completion port or completion routine, as the api decides), with
// the WSAE* code in Overlapped.OffsetHigh and the flags in Offset, as MSAFD
// keeps them.
//
// Cancellation (WSPCancelIo, closesocket, WSPCleanup) removes operations from
// their queues and completes them with WSA_OPERATION_ABORTED, with the bytes
// already transferred.
//
// Locks: opQueue.mu (held while an operation of the queue is tried or
// completed), then socket.mu (taken by the try steps), then
// overlappedQueues.mu, then ovRegistry.mu. opQueue.mu is never taken with
// socket.mu held, so closesocket aborts the operations only after the
// socket is closed (see abortOverlapped).

// errMoved is returned by a try step that moved its operation to another
// queue (AcceptEx waiting for its first data on the accepted connection).
var errMoved = errors.New("netstack: operation moved to another queue")

// opQueue is one ordered queue of pending operations.
type opQueue struct {
	mu  sync.Mutex
	ops []*ovOp
}

// overlappedQueues is a socket's overlapped state: its queues, the
// operations it completes, and the extension functions' per-socket state.
// The zero value is ready; start installs the readiness observer.
type overlappedQueues struct {
	once    sync.Once
	work    atomic.Int32  // kicks not yet handled by the pump
	pending atomic.Int32  // operations in this socket's queues
	seq     atomic.Uint64 // readiness events seen

	recv, send, accept, conn opQueue

	mu     sync.Mutex
	owned  map[*ovOp]struct{} // pending operations completing on this handle
	closed bool               // aborted by closesocket or WSPCleanup

	// Extension functions (ext_*.go).
	hideNames atomic.Bool          // AcceptEx'd, before SO_UPDATE_ACCEPT_CONTEXT
	acceptOp  atomic.Pointer[ovOp] // the pending AcceptEx using it as accept socket
	pktinfo4  atomic.Bool          // IP_PKTINFO
	pktinfo6  atomic.Bool          // IPV6_PKTINFO
}

// Operation states.
const (
	opPending    int32 = iota
	opDelivering       // completion being delivered
	opDone
)

// ovOp is one overlapped (or, for the extension functions called without an
// OVERLAPPED, one blocking) operation.
type ovOp struct {
	owner *socket // completes on owner.handle (the listener for AcceptEx)
	up    provider.UpcallTable
	ov    *wsa.Overlapped // nil: a blocking call waits on done
	cr    wsa.CompletionRoutine
	tid   provider.ThreadID
	// try attempts the operation: WSAEWOULDBLOCK to wait, errMoved when it
	// moved itself, else its result (bytes, flags, error).
	try func() (n, flags uint32, err error)
	// partial returns the bytes transferred so far (for a cancellation);
	// nil for none. finish, if set, runs once when the operation completes
	// (delivered or not started), with its error.
	partial func() uint32
	finish  func(err error)

	q     atomic.Pointer[opQueue] // the queue holding it; written under q.mu
	qs    *socket                 // the socket of q; written under q.mu
	state atomic.Int32
	done  chan struct{} // closed once the result is final

	n, flags uint32 // the result, valid after done
	err      error

	savedInternal, savedHigh uintptr // ov's fields before register
}

// ovRegistry maps each pending OVERLAPPED to its operation, for
// WSPGetOverlappedResult and WSPCancelIo (an OVERLAPPED identifies one
// pending operation process-wide).
var ovRegistry = struct {
	mu sync.Mutex
	m  map[*wsa.Overlapped]*ovOp
}{m: make(map[*wsa.Overlapped]*ovOp)}

func findOp(ov *wsa.Overlapped) *ovOp {
	ovRegistry.mu.Lock()
	defer ovRegistry.mu.Unlock()
	return ovRegistry.m[ov]
}

// start installs the socket's readiness observer for its queues, once.
func (o *overlappedQueues) start(s *socket) {
	o.once.Do(func() {
		o.mu.Lock()
		if o.owned == nil {
			o.owned = make(map[*ovOp]struct{})
		}
		o.mu.Unlock()
		s.rd.addObserver(func(waiter.EventMask) {
			o.seq.Add(1)
			if o.pending.Load() > 0 {
				o.kick(s)
			}
		})
	})
}

// kick runs the pump, starting it unless it is running (then it runs
// again). It never blocks; it may run in gVisor's notification context.
func (o *overlappedQueues) kick(s *socket) {
	if o.work.Add(1) == 1 {
		go o.pump(s)
	}
}

// pump tries the queued operations until no kick came in meanwhile.
func (o *overlappedQueues) pump(s *socket) {
	for {
		n := o.work.Load()
		for _, q := range o.queues() {
			s.runQueue(q)
		}
		if o.work.CompareAndSwap(n, 0) {
			return
		}
	}
}

func (o *overlappedQueues) queues() [4]*opQueue {
	return [4]*opQueue{&o.recv, &o.send, &o.accept, &o.conn}
}

// runQueue tries the operations of q (one of s's queues), head first, until
// one would block.
func (s *socket) runQueue(q *opQueue) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ops) > 0 {
		if s.rd.isClosed() {
			return // closesocket aborts them
		}
		op := q.ops[0]
		n, flags, err := op.try()
		if err == wsa.WSAEWOULDBLOCK {
			return
		}
		if err != nil && err != errMoved && s.rd.isClosed() {
			return // failed because the socket closed: aborted instead
		}
		q.ops[0] = nil
		q.ops = q.ops[1:]
		s.ovq.pending.Add(-1)
		if err == errMoved {
			continue
		}
		op.q.Store(nil)
		op.deliver(err, n, flags)
	}
}

// newOp makes an operation of s completing on s's handle. tid may be nil.
func (s *socket) newOp(up provider.UpcallTable, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) *ovOp {
	op := &ovOp{owner: s, up: up, ov: ov, cr: cr, done: make(chan struct{})}
	if tid != nil {
		op.tid = *tid
	}
	return op
}

// submit issues op on queue q of socket qs (usually op.owner): registered,
// tried at once if q is empty, else queued. It returns the result of an
// immediate completion (delivered already: nil, or WSAEMSGSIZE for a
// datagram receive truncated at once), wsa.WSA_IO_PENDING for a queued
// operation, or the error of an operation that did not start (nothing
// delivered). An operation without an OVERLAPPED is waited for instead:
// its result is returned, WSA_OPERATION_ABORTED (closesocket) as WSAEINTR.
func (qs *socket) submit(q *opQueue, op *ovOp) (uint32, uint32, error) {
	if err := op.register(); err != nil {
		if op.finish != nil {
			op.finish(err)
		}
		return 0, 0, err
	}
	qs.ovq.start(qs)
	seq := qs.ovq.seq.Load()
	q.mu.Lock()
	op.q.Store(q)
	op.qs = qs
	if len(q.ops) == 0 {
		n, flags, err := op.try()
		switch err {
		case wsa.WSAEWOULDBLOCK:
		case errMoved:
			q.mu.Unlock()
			return op.pendingResult()
		case nil:
			op.q.Store(nil)
			op.deliver(nil, n, flags)
			q.mu.Unlock()
			return n, flags, nil
		case wsa.WSAEMSGSIZE:
			if q == &qs.ovq.recv {
				// A datagram receive truncated at once completed (the
				// SPI's one exception to "an error did not start"): the
				// completion is delivered with WSAEMSGSIZE, as Windows
				// delivers STATUS_BUFFER_OVERFLOW, and the call returns
				// it with the bytes.
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
	q.ops = append(q.ops, op)
	qs.ovq.pending.Add(1)
	q.mu.Unlock()
	if qs.ovq.seq.Load() != seq || qs.rd.isClosed() {
		qs.ovq.kick(qs) // an event came while it was tried
	}
	return op.pendingResult()
}

// pendingResult is submit's answer for a queued operation.
func (op *ovOp) pendingResult() (uint32, uint32, error) {
	if op.ov != nil {
		return 0, 0, wsa.WSA_IO_PENDING
	}
	<-op.done
	if op.err == wsa.WSA_OPERATION_ABORTED {
		return op.n, op.flags, wsa.WSAEINTR
	}
	return op.n, op.flags, op.err
}

// moveTo moves op, being tried by the pump or submit of its current queue
// (whose lock is held), to queue q of socket qs and returns errMoved for the
// try step to return. It is tried there at once if q is empty.
func (op *ovOp) moveTo(qs *socket, q *opQueue) error {
	qs.ovq.start(qs)
	seq := qs.ovq.seq.Load()
	q.mu.Lock()
	if len(q.ops) == 0 {
		n, flags, err := op.try()
		if err != wsa.WSAEWOULDBLOCK {
			op.q.Store(nil)
			op.deliver(err, n, flags)
			q.mu.Unlock()
			return errMoved
		}
	}
	q.ops = append(q.ops, op)
	op.q.Store(q)
	op.qs = qs
	qs.ovq.pending.Add(1)
	q.mu.Unlock()
	if qs.ovq.seq.Load() != seq || qs.rd.isClosed() {
		qs.ovq.kick(qs)
	}
	return errMoved
}

// register records a pending operation with its owner (and its OVERLAPPED
// in the registry). A closed socket is WSAENOTSOCK; an OVERLAPPED in use by
// an operation that has not begun to complete is WSAEINVAL.
//
// An OVERLAPPED may be reused as soon as its completion can be seen (the
// event signalled, the packet dequeued, the completion routine running,
// HasOverlappedIoCompleted true), as in Windows, while the operation that
// completed is still finishing up (finishUp unregisters it after the
// delivery). Its entry is therefore keyed by the operation: one that is
// delivering or done is replaced, and its unregister leaves the new one
// alone. An operation enters opDelivering before its completion is
// delivered, so no caller can have seen the completion of one still
// opPending.
func (op *ovOp) register() error {
	o := &op.owner.ovq
	o.start(op.owner)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return wsa.WSAENOTSOCK
	}
	if op.ov != nil {
		ovRegistry.mu.Lock()
		if old := ovRegistry.m[op.ov]; old != nil && old.state.Load() == opPending {
			ovRegistry.mu.Unlock()
			return wsa.WSAEINVAL
		}
		ovRegistry.m[op.ov] = op
		ovRegistry.mu.Unlock()
		// The operation is in progress until it completes. (Atomically:
		// HasOverlappedIoCompleted and WSAGetOverlappedResult read these
		// fields from other goroutines.)
		op.savedInternal = atomic.SwapUintptr(&op.ov.Internal, wsa.WSS_OPERATION_IN_PROGRESS)
		op.savedHigh = atomic.SwapUintptr(&op.ov.InternalHigh, 0)
	}
	o.owned[op] = struct{}{}
	return nil
}

// unregister removes op from its owner and the registry.
func (op *ovOp) unregister() {
	o := &op.owner.ovq
	o.mu.Lock()
	delete(o.owned, op)
	if op.ov != nil {
		ovRegistry.mu.Lock()
		if ovRegistry.m[op.ov] == op {
			delete(ovRegistry.m, op.ov)
		}
		ovRegistry.mu.Unlock()
	}
	o.mu.Unlock()
}

// deliver completes op with its result: through CompleteOverlapped for an
// overlapped operation, to the waiting caller for a blocking one.
func (op *ovOp) deliver(err error, n, flags uint32) {
	op.state.Store(opDelivering)
	op.n, op.flags, op.err = n, flags, err
	if op.ov != nil {
		code := errnoOf(err)
		op.ov.OffsetHigh = uint32(code) // MSAFD's copy of the WSAE* code
		var tid *provider.ThreadID
		if op.cr != nil {
			tid = &op.tid
		}
		_ = provider.CompleteOverlapped(op.up, op.owner.handle, op.ov, op.cr, tid, code, n, flags)
	}
	op.finishUp(err)
}

// notStarted ends an operation that failed at once: nothing is delivered.
func (op *ovOp) notStarted(err error, n, flags uint32) {
	op.state.Store(opDelivering)
	op.n, op.flags, op.err = n, flags, err
	if op.ov != nil {
		// Not started: the OVERLAPPED is left as the caller gave it.
		atomic.StoreUintptr(&op.ov.InternalHigh, op.savedHigh)
		atomic.StoreUintptr(&op.ov.Internal, op.savedInternal)
	}
	op.finishUp(err)
}

func (op *ovOp) finishUp(err error) {
	if op.finish != nil {
		op.finish(err)
	}
	op.state.Store(opDone)
	close(op.done)
	op.unregister()
}

// errnoOf is the Winsock code of an operation's error (0 for nil).
func errnoOf(err error) wsa.Errno {
	if err == nil {
		return 0
	}
	var e wsa.Errno
	if errors.As(err, &e) {
		return e
	}
	return wsa.WSASYSCALLFAILURE
}

// cancelOp completes op with WSA_OPERATION_ABORTED if it is still queued,
// and reports whether it was.
func cancelOp(op *ovOp) bool {
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
		qs := op.qs
		qs.ovq.pending.Add(-1)
		op.q.Store(nil)
		op.abort()
		q.mu.Unlock()
		if i == 0 && len(q.ops) > 0 {
			qs.ovq.kick(qs) // the next one may be ready
		}
		return true
	}
}

// abort delivers WSA_OPERATION_ABORTED with the bytes transferred so far.
func (op *ovOp) abort() {
	var n uint32
	if op.partial != nil {
		n = op.partial()
	}
	op.deliver(wsa.WSA_OPERATION_ABORTED, n, 0)
}

// abortOverlapped aborts every pending operation of s (closesocket,
// WSPCleanup) with WSA_OPERATION_ABORTED: those in its queues and those
// completing on its handle from another socket's queue. Later submissions
// fail WSAENOTSOCK. A pending AcceptEx that was to use s as its accept
// socket is aborted too. Call it without s.mu, before the socket's handle
// is released: closesocket calls it once the socket is closed, WSPCleanup
// for every socket before closing any (and again after).
func (s *socket) abortOverlapped() {
	o := &s.ovq
	o.mu.Lock()
	o.closed = true
	owned := make([]*ovOp, 0, len(o.owned))
	for op := range o.owned {
		owned = append(owned, op)
	}
	o.mu.Unlock()
	for _, q := range o.queues() {
		q.mu.Lock()
		ops := q.ops
		q.ops = nil
		for _, op := range ops {
			o.pending.Add(-1)
			op.q.Store(nil)
			op.abort()
		}
		q.mu.Unlock()
	}
	for _, op := range owned {
		cancelOp(op)
	}
	if op := o.acceptOp.Load(); op != nil {
		cancelOp(op) // an AcceptEx of another socket meant to use this one
	}
}

// WSPCancelIo implements provider.Canceler: CancelIo (ov nil: every
// pending overlapped operation issued on the socket) and CancelIoEx (the
// one of ov). Each completes with WSA_OPERATION_ABORTED through its usual
// mechanism; nothing pending is wsa.ERROR_NOT_FOUND. Operations already
// completing are not cancelled (they complete with their result).
func (ss *session) WSPCancelIo(h wsa.Socket, ov *wsa.Overlapped) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	if ov != nil {
		op := findOp(ov)
		if op == nil || op.owner != s || !cancelOp(op) {
			return wsa.ERROR_NOT_FOUND
		}
		return nil
	}
	o := &s.ovq
	o.mu.Lock()
	var ops []*ovOp
	for op := range o.owned {
		if op.ov != nil {
			ops = append(ops, op)
		}
	}
	o.mu.Unlock()
	found := false
	for _, op := range ops {
		if cancelOp(op) {
			found = true
		}
	}
	if !found {
		return wsa.ERROR_NOT_FOUND
	}
	return nil
}

var _ provider.Canceler = (*session)(nil)

// WSPGetOverlappedResult is WSAGetOverlappedResult for an operation issued
// on this provider: the bytes transferred and flags, and nil or the
// operation's WSAE* error, read from ov (InternalHigh, Offset, OffsetHigh).
// ov nil is WSAEFAULT.
//
// While the operation is pending: wait false is WSA_IO_INCOMPLETE; wait
// true blocks until it completes (a completion being delivered at that
// moment is waited for even with wait false). The api waits on ov.HEvent
// before calling with wait true, as Windows does; the provider's own wait
// covers the rest (a completion routine, no event) on the operation's
// completion, without polling, and ends when the operation completes,
// is cancelled or its socket closes.
func (ss *session) WSPGetOverlappedResult(h wsa.Socket, ov *wsa.Overlapped, wait bool) (uint32, uint32, error) {
	if _, err := ss.lookup(h); err != nil {
		return 0, 0, err
	}
	if ov == nil {
		return 0, 0, wsa.WSAEFAULT
	}
	if op := findOp(ov); op != nil {
		if !wait && op.state.Load() == opPending {
			return 0, 0, wsa.WSA_IO_INCOMPLETE
		}
		<-op.done
	} else if atomic.LoadUintptr(&ov.Internal) == wsa.WSS_OPERATION_IN_PROGRESS {
		return 0, 0, wsa.WSA_IO_INCOMPLETE
	}
	n, flags, code := uint32(atomic.LoadUintptr(&ov.InternalHigh)), ov.Offset, ov.OffsetHigh
	if code != 0 {
		return n, flags, wsa.Errno(code)
	}
	return n, flags, nil
}

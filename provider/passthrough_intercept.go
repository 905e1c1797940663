package provider

import (
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/wsa"
)

// Intercepting completions. An IFS layer passes the application's
// WSAOVERLAPPED down and the base completes it straight to the api: the
// layer never sees the result. A layer that must judge a result before the
// application sees it (a firewall deciding on the peer of an AcceptEx, a
// datagram's source) re-routes the operation as a non-IFS LSP does (spec
// §3.8): it issues it down with a WSAOVERLAPPED of its own, sees that
// completion, and completes the application's operation itself. In Go the
// lower provider completes through the upcall table it was started with, so
// a layer that intercepts sets Layer.InterceptCompletions: its next
// providers get an upcall table of the layer's own, which takes the
// completions of the layer's WSAOVERLAPPEDs and passes everything else on.
//
// The cost: a base provider keeps its sockets per upcall table (netstack
// does), so the sockets made through such a layer live apart from the ones
// the api makes directly on the same base: one select or WSAPoll call (or
// one AcceptEx) must not mix sockets of the chain with sockets of the bare
// base, as Windows programs must not mix sockets of a non-IFS LSP with
// others. A layer that does not intercept has no such limit.

// Verdict is what a layer's completion handler decides.
type Verdict int

const (
	// Deliver completes the application's operation with the result.
	Deliver Verdict = iota
	// Retain keeps the operation with the layer, which later calls
	// Reissue or Complete on it (from another goroutine).
	Retain
)

// Intercepted is an operation issued through Intercept.
type Intercepted struct {
	pt *PassThrough
	// Socket is the socket the operation was issued on.
	Socket wsa.Socket

	ov    *wsa.Overlapped // the application's
	cr    wsa.CompletionRoutine
	tid   *ThreadID
	own   wsa.Overlapped // the layer's, passed down
	issue func(own *wsa.Overlapped) (uint32, error)
	done  func(op *Intercepted, errno wsa.Errno, bytes, flags uint32) Verdict
	fin   chan struct{} // closed once the application's operation completed
	seen  chan struct{} // closed when the completion of the current issue came

	mu        sync.Mutex
	state     int // opIssued, opRetained, opFinished
	cancelled bool
	final     wsa.Errno // what the application's operation completed with
}

const (
	opIssued = iota
	opRetained
	opFinished
)

// intercepts is a PassThrough's record of intercepted operations.
type intercepts struct {
	n    atomic.Int64 // in flight: the upcall table checks the maps only when > 0
	own  sync.Map     // *wsa.Overlapped (the layer's) → *Intercepted
	user sync.Map     // *wsa.Overlapped (the application's) → *Intercepted
}

// interceptUpcalls is the upcall table a layer with InterceptCompletions
// gives the providers below it.
type interceptUpcalls struct {
	UpcallTable
	pt *PassThrough
}

// WPUCompleteOverlappedRequest takes the completions of the layer's own
// WSAOVERLAPPEDs and passes the others on.
func (u *interceptUpcalls) WPUCompleteOverlappedRequest(s wsa.Socket, ov *wsa.Overlapped, dwError uint32, cbTransferred uint32) error {
	if u.pt.icpt.n.Load() > 0 && ov != nil {
		if v, ok := u.pt.icpt.own.LoadAndDelete(ov); ok {
			v.(*Intercepted).completed(wsa.Errno(dwError), cbTransferred, ov.Offset)
			return nil
		}
	}
	return u.UpcallTable.WPUCompleteOverlappedRequest(s, ov, dwError, cbTransferred)
}

// Intercept issues an overlapped operation of the application (ov, cr and
// tid as the layer got them; ov must not be nil) down the chain with a
// WSAOVERLAPPED of the layer's own, so that the layer sees its result. The
// instance's Layer must have InterceptCompletions set (else the completion
// goes straight to the application's upcall table and is lost:
// WSAEOPNOTSUPP).
//
// issue makes the call down with own in place of ov, without a completion
// routine; it returns what the next provider returned. WSA_IO_PENDING: the
// operation is under way and Intercept returns WSA_IO_PENDING. nil or
// WSAEMSGSIZE (a truncated receive): it completed at once; Intercept waits
// for that completion to come through done, and returns the immediate
// result (bytes and error) if done delivered it, WSA_IO_PENDING if done
// retained it. Any other error is returned as it is (the operation did not
// start, ov is left as it was).
//
// done runs when the operation completes below, with its WSAE* result (0
// for success), bytes and flags; it runs in the lower provider's completion
// path, so it must not block or call into the chain. Deliver completes the
// application's operation with that result (through its completion routine,
// event or completion port, by provider.CompleteOverlapped). Retain leaves
// the operation with the layer, which must finish it later, from another
// goroutine, with op.Reissue (issue again with the same own WSAOVERLAPPED)
// or op.Complete. A retained operation the application cancels, or whose
// socket closes, completes with WSA_OPERATION_ABORTED at once.
//
// CancelIo and CancelIoEx of the application's ov reach the intercepted
// operation (WSPCancelIo translates), closing the socket aborts it, and
// WSPGetOverlappedResult answers for it. The caller must hold its buffers,
// as the application does, until the operation completes.
func (pt *PassThrough) Intercept(s wsa.Socket, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID,
	issue func(own *wsa.Overlapped) (uint32, error), done func(op *Intercepted, errno wsa.Errno, bytes, flags uint32) Verdict) (uint32, error) {
	if ov == nil {
		return 0, wsa.WSAEFAULT
	}
	if !pt.layer.InterceptCompletions {
		return 0, wsa.WSAEOPNOTSUPP
	}
	op := &Intercepted{pt: pt, Socket: s, ov: ov, cr: cr, tid: tid, issue: issue, done: done, fin: make(chan struct{})}
	if prev, loaded := pt.icpt.user.LoadOrStore(ov, op); loaded {
		if p := prev.(*Intercepted); !p.finished() {
			return 0, wsa.WSAEINVAL // the WSAOVERLAPPED of an operation in progress
		}
		pt.icpt.user.Store(ov, op)
	}
	saved := atomic.SwapUintptr(&ov.Internal, wsa.WSS_OPERATION_IN_PROGRESS)
	pt.icpt.n.Add(1)
	n, err := op.issueDown()
	switch err {
	case wsa.WSA_IO_PENDING:
		return 0, err
	case nil, wsa.WSAEMSGSIZE:
		// Completed at once: its completion has come (a provider delivers
		// it before returning) or is coming.
		<-op.seen
		op.mu.Lock()
		immediate := op.state == opFinished && op.final == err2errno(err)
		op.mu.Unlock()
		if immediate {
			return n, err
		}
		return 0, wsa.WSA_IO_PENDING
	}
	pt.icpt.user.CompareAndDelete(ov, op)
	pt.icpt.n.Add(-1)
	atomic.StoreUintptr(&ov.Internal, saved)
	return 0, err
}

func err2errno(err error) wsa.Errno {
	e, _ := err.(wsa.Errno)
	return e
}

// issueDown issues the operation with the layer's WSAOVERLAPPED and
// returns what the next provider returned (nil, WSA_IO_PENDING and
// WSAEMSGSIZE: under way).
func (op *Intercepted) issueDown() (uint32, error) {
	pt := op.pt
	op.mu.Lock()
	op.state = opIssued
	op.mu.Unlock()
	op.own = wsa.Overlapped{Internal: wsa.WSS_OPERATION_IN_PROGRESS}
	op.seen = make(chan struct{})
	pt.icpt.own.Store(&op.own, op)
	n, err := op.issue(&op.own)
	switch err {
	case nil, wsa.WSA_IO_PENDING, wsa.WSAEMSGSIZE:
	default:
		pt.icpt.own.CompareAndDelete(&op.own, op)
		return 0, err
	}
	// A cancel that came while the call was under way may have missed it.
	op.mu.Lock()
	cancelled := op.cancelled && op.state == opIssued
	op.mu.Unlock()
	if cancelled {
		if c, ok := pt.Next(op.Socket).(Canceler); ok {
			_ = c.WSPCancelIo(op.Socket, &op.own)
		}
	}
	return n, err
}

// completed is the lower completion of the layer's WSAOVERLAPPED.
func (op *Intercepted) completed(errno wsa.Errno, bytes, flags uint32) {
	defer close(op.seen)
	op.mu.Lock()
	cancelled := op.cancelled
	if op.state == opIssued {
		op.state = opRetained // with the layer while done decides
	}
	op.mu.Unlock()
	if cancelled && errno != 0 {
		op.Complete(errno, bytes, flags)
		return
	}
	if op.done(op, errno, bytes, flags) == Deliver {
		op.Complete(errno, bytes, flags)
	}
}

// finished reports whether the application's operation has completed.
func (op *Intercepted) finished() bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.state == opFinished
}

// Reissue issues a retained operation down again, with the same
// WSAOVERLAPPED of the layer's, once the completion that made the layer
// retain it has been fully delivered to the layer. If the operation was
// cancelled meanwhile (or has completed) the application's operation
// completes with WSA_OPERATION_ABORTED and so does the error. If the call
// down fails, its error is returned and the operation stays with the layer,
// which may Reissue again (a base may take a moment to release what the
// previous operation held) or Complete it.
func (op *Intercepted) Reissue() error {
	op.mu.Lock()
	seen := op.seen
	if op.cancelled || op.state != opRetained {
		op.mu.Unlock()
		op.Complete(wsa.WSA_OPERATION_ABORTED, 0, 0)
		return wsa.WSA_OPERATION_ABORTED
	}
	op.mu.Unlock()
	<-seen
	switch _, err := op.issueDown(); err {
	case nil, wsa.WSA_IO_PENDING, wsa.WSAEMSGSIZE:
		return nil
	default:
		op.mu.Lock()
		if op.state == opIssued {
			op.state = opRetained
		}
		op.mu.Unlock()
		return err
	}
}

// Complete completes the application's operation with errno (0 for
// success), bytes and flags, through the mechanism it chose. Only the first
// call on an operation does anything.
func (op *Intercepted) Complete(errno wsa.Errno, bytes, flags uint32) {
	op.mu.Lock()
	if op.state == opFinished {
		op.mu.Unlock()
		return
	}
	op.state = opFinished
	op.final = errno
	op.mu.Unlock()
	pt := op.pt
	pt.icpt.own.CompareAndDelete(&op.own, op)
	pt.icpt.user.CompareAndDelete(op.ov, op)
	pt.icpt.n.Add(-1)
	_ = CompleteOverlapped(pt.up, op.Socket, op.ov, op.cr, op.tid, errno, bytes, flags)
	close(op.fin)
}

// interceptedResult answers WSPGetOverlappedResult for an operation in
// flight through Intercept; ok false for any other.
func (pt *PassThrough) interceptedResult(s wsa.Socket, ov *wsa.Overlapped, wait bool) (n, flags uint32, err error, ok bool) {
	if ov == nil || pt.icpt.n.Load() == 0 {
		return 0, 0, nil, false
	}
	v, found := pt.icpt.user.Load(ov)
	if !found {
		return 0, 0, nil, false
	}
	op := v.(*Intercepted)
	if op.Socket != s {
		return 0, 0, nil, false
	}
	if !op.finished() {
		if !wait {
			return 0, 0, wsa.WSA_IO_INCOMPLETE, true
		}
		<-op.fin
	}
	n = uint32(atomic.LoadUintptr(&ov.InternalHigh))
	if e := wsa.Errno(atomic.LoadUintptr(&ov.Internal)); e != 0 {
		err = e
	}
	return n, ov.Offset, err, true
}

// cancel is WSPCancelIo: intercepted operations by the application's
// WSAOVERLAPPED, the rest by the next provider.
func (pt *PassThrough) cancel(s wsa.Socket, ov *wsa.Overlapped) error {
	c, canCancel := pt.Next(s).(Canceler)
	if ov != nil {
		if v, ok := pt.icpt.user.Load(ov); ok && pt.icpt.n.Load() > 0 {
			op := v.(*Intercepted)
			if op.Socket == s && op.cancelOp(c) {
				return nil
			}
		}
		if !canCancel {
			return wsa.WSAEOPNOTSUPP
		}
		return c.WSPCancelIo(s, ov)
	}
	found := false
	if pt.icpt.n.Load() > 0 {
		pt.icpt.user.Range(func(_, v any) bool {
			if op := v.(*Intercepted); op.Socket == s && op.cancelOp(c) {
				found = true
			}
			return true
		})
	}
	if !canCancel {
		if found {
			return nil
		}
		return wsa.WSAEOPNOTSUPP
	}
	err := c.WSPCancelIo(s, nil)
	if found && err == wsa.ERROR_NOT_FOUND {
		return nil
	}
	return err
}

// cancelOp cancels one intercepted operation; false if it had completed.
// One issued below is cancelled there (its completion, aborted, is
// delivered); one the layer holds completes aborted at once.
func (op *Intercepted) cancelOp(c Canceler) bool {
	op.mu.Lock()
	if op.state == opFinished {
		op.mu.Unlock()
		return false
	}
	op.cancelled = true
	st := op.state
	op.mu.Unlock()
	if st == opRetained {
		op.Complete(wsa.WSA_OPERATION_ABORTED, 0, 0)
		return true
	}
	if c != nil {
		_ = c.WSPCancelIo(op.Socket, &op.own)
	}
	return true
}

// abortRetained completes, aborted, the operations the layer holds on
// socket s (all sockets if s is 0): the lower provider aborts the ones it
// has when the socket closes, not these.
func (pt *PassThrough) abortRetained(s wsa.Socket) {
	if pt.icpt.n.Load() == 0 {
		return
	}
	pt.icpt.user.Range(func(_, v any) bool {
		op := v.(*Intercepted)
		if s != 0 && op.Socket != s {
			return true
		}
		op.mu.Lock()
		retained := op.state == opRetained
		op.cancelled = true
		op.mu.Unlock()
		if retained {
			op.Complete(wsa.WSA_OPERATION_ABORTED, 0, 0)
		}
		return true
	})
}

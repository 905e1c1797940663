package shaper

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// table is one started instance of the layer.
type table struct {
	*provider.PassThrough
	sh    *Shaper
	socks sync.Map // *sock → struct{}: to stop them all at WSPCleanup
}

var (
	_ provider.ProcTable         = (*table)(nil)
	_ provider.WSASendMsgWrapper = (*table)(nil)
)

// sock is the shaper's state of one socket: its queue of sends. Sends are
// handed down in issue order by one worker goroutine, which exists only
// while the queue is not empty.
type sock struct {
	s     wsa.Socket
	dgram bool
	entry uint32
	ctx   context.Context
	stop  context.CancelFunc

	mu      sync.Mutex
	q       []*sendOp
	cur     *sendOp
	running bool
	byOv    map[*wsa.Overlapped]*sendOp // queued or being shaped

	// the worker's own: the socket's bucket for the state gen
	gen *state
	lim *rate.Limiter
}

// sendOp is one send waiting its turn.
type sendOp struct {
	at     time.Time
	n      int
	call   func() (uint32, error)
	ov     *wsa.Overlapped // nil: a blocking send, waiting on done
	cr     wsa.CompletionRoutine
	tid    *provider.ThreadID
	ctx    context.Context
	stop   context.CancelFunc
	done   chan result
	handed chan struct{} // closed once handed down or finished
}

type result struct {
	n   uint32
	err error
}

func (x *table) newSock(h wsa.Socket) {
	ls, ok := x.Socket(h)
	if !ok {
		return
	}
	so := &sock{s: h, dgram: ls.Info.SocketType == wsa.SOCK_DGRAM, entry: ls.Info.CatalogEntryId, byOv: make(map[*wsa.Overlapped]*sendOp)}
	so.ctx, so.stop = context.WithCancel(context.Background())
	ls.SetValue(so)
	x.socks.Store(so, struct{}{})
}

func (x *table) sockOf(s wsa.Socket) *sock {
	if ls, ok := x.Socket(s); ok {
		if so, ok := ls.Value().(*sock); ok {
			return so
		}
	}
	return nil
}

func (x *table) WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	h, err := x.PassThrough.WSPSocket(af, typ, protocol, info, g, flags)
	if err == nil {
		x.newSock(h)
	}
	return h, err
}

func (x *table) WSPAccept(s wsa.Socket, cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	h, sa, err := x.PassThrough.WSPAccept(s, cond, callbackData)
	if err == nil {
		x.newSock(h)
	}
	return h, sa, err
}

func (x *table) WSPCloseSocket(s wsa.Socket) error {
	so := x.sockOf(s)
	if so != nil {
		so.stop() // queued sends end (aborted), waits end
	}
	err := x.PassThrough.WSPCloseSocket(s)
	if err == nil && so != nil {
		x.socks.Delete(so)
	}
	return err
}

func (x *table) WSPCleanup() error {
	x.socks.Range(func(k, _ any) bool {
		k.(*sock).stop()
		x.socks.Delete(k)
		return true
	})
	return x.PassThrough.WSPCleanup()
}

func size(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

func (x *table) WSPSend(s wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	return x.send(s, size(bufs), ov, cr, tid, func() (uint32, error) {
		return x.PassThrough.WSPSend(s, bufs, flags, ov, cr, tid)
	})
}

func (x *table) WSPSendTo(s wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	return x.send(s, size(bufs), ov, cr, tid, func() (uint32, error) {
		return x.PassThrough.WSPSendTo(s, bufs, flags, to, ov, cr, tid)
	})
}

func (x *table) WrapWSASendMsg(lower provider.WSASendMsgFunc) provider.WSASendMsgFunc {
	return func(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, sent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
		if msg == nil {
			return lower(s, msg, flags, sent, ov, cr)
		}
		var tid *provider.ThreadID
		if cr != nil {
			t, err := x.Upcalls().WPUOpenCurrentThread()
			if err != nil {
				return err
			}
			tid = &t
		}
		var n uint32
		got, err := x.send(s, size(msg.Buffers), ov, cr, tid, func() (uint32, error) {
			err := lower(s, msg, flags, &n, ov, cr)
			return n, err
		})
		if err == nil && sent != nil {
			*sent = got
		}
		return err
	}
}

// send shapes one send of n bytes; call hands it to the next provider with
// the caller's arguments.
func (x *table) send(s wsa.Socket, n int, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID, call func() (uint32, error)) (uint32, error) {
	st := x.sh.state.Load()
	so := x.sockOf(s)
	if so == nil {
		return call()
	}
	ls, _ := x.Socket(s)
	overlapped := ov != nil && ls.Overlapped
	if so.dgram && st.lose() {
		// Dropped on the way: the send succeeds, nothing leaves.
		if overlapped {
			if err := provider.CompleteOverlapped(x.Upcalls(), s, ov, cr, tid, 0, uint32(n), 0); err != nil {
				return 0, err
			}
		}
		return uint32(n), nil
	}
	waits := st.lim.SocketRate > 0 || st.lim.EntryRate > 0 || st.lim.Delay > 0
	so.mu.Lock()
	if (!waits && !so.running) || so.ctx.Err() != nil {
		so.mu.Unlock()
		return call()
	}
	op := &sendOp{at: time.Now(), n: n, call: call, handed: make(chan struct{})}
	op.ctx, op.stop = context.WithCancel(so.ctx)
	if overlapped {
		op.ov, op.cr, op.tid = ov, cr, tid
		atomic.StoreUintptr(&ov.Internal, wsa.WSS_OPERATION_IN_PROGRESS)
		so.byOv[ov] = op
	} else {
		op.done = make(chan result, 1)
	}
	so.q = append(so.q, op)
	if !so.running {
		so.running = true
		go x.run(so)
	}
	so.mu.Unlock()
	if overlapped {
		return 0, wsa.WSA_IO_PENDING
	}
	r := <-op.done
	return r.n, r.err
}

// run is the socket's worker: it shapes and hands down the queued sends in
// order, and ends when the queue is empty.
func (x *table) run(so *sock) {
	for {
		so.mu.Lock()
		if len(so.q) == 0 {
			so.running = false
			so.cur = nil
			so.mu.Unlock()
			return
		}
		op := so.q[0]
		so.q = so.q[1:]
		so.cur = op
		so.mu.Unlock()
		x.shape(so, op)
	}
}

// shape waits out the delay and the buckets for op, then hands it down.
func (x *table) shape(so *sock, op *sendOp) {
	st := x.sh.state.Load()
	err := wait(op.ctx, time.Until(op.at.Add(st.lim.Delay)))
	if err == nil {
		err = so.take(op.ctx, st, op.n)
	}
	so.mu.Lock()
	if op.ov != nil {
		delete(so.byOv, op.ov)
	}
	if err == nil {
		// A cancel that came just now. The socket's context is asked too:
		// closesocket cancels it before its children, one by one, so the
		// op before this one may have been aborted while op.ctx still
		// looks alive.
		err = cmp.Or(op.ctx.Err(), so.ctx.Err())
	}
	so.mu.Unlock()
	defer op.stop()
	if err != nil { // cancelled, or the socket closed
		x.abort(so, op)
		return
	}
	close(op.handed)
	n, err := op.call()
	if op.ov == nil {
		op.done <- result{n, err}
		return
	}
	switch err {
	case nil, wsa.WSA_IO_PENDING:
		// The next provider delivers the completion.
	default:
		// It did not start, but the caller was told WSA_IO_PENDING.
		e, ok := err.(wsa.Errno)
		if !ok {
			e = wsa.WSASYSCALLFAILURE
		}
		_ = provider.CompleteOverlapped(x.Upcalls(), so.s, op.ov, op.cr, op.tid, e, 0, 0)
	}
}

// abort ends a send that was never handed down: WSA_OPERATION_ABORTED for
// an overlapped one, WSAEINTR for a blocking one.
func (x *table) abort(so *sock, op *sendOp) {
	close(op.handed)
	if op.ov == nil {
		op.done <- result{0, wsa.WSAEINTR}
		return
	}
	_ = provider.CompleteOverlapped(x.Upcalls(), so.s, op.ov, op.cr, op.tid, wsa.WSA_OPERATION_ABORTED, 0, 0)
}

// wait sleeps d unless ctx ends first.
func wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// take takes n tokens from the socket's bucket, then from the entry's, in
// pieces no larger than a bucket.
func (so *sock) take(ctx context.Context, st *state, n int) error {
	if so.gen != st {
		so.gen, so.lim = st, nil
		if st.lim.SocketRate > 0 {
			so.lim = rate.NewLimiter(rate.Limit(st.lim.SocketRate), burst(st.lim.SocketRate, st.lim.SocketBurst))
		}
	}
	for _, lim := range []*rate.Limiter{so.lim, st.entry(so.entry)} {
		if lim == nil {
			continue
		}
		b := lim.Burst()
		for rem := n; rem > 0; rem -= b {
			if err := lim.WaitN(ctx, min(rem, b)); err != nil {
				return err
			}
		}
	}
	return nil
}

// WSPCancelIo cancels the sends still waiting in the shaper (they complete
// with WSA_OPERATION_ABORTED) and forwards.
func (x *table) WSPCancelIo(s wsa.Socket, ov *wsa.Overlapped) error {
	so := x.sockOf(s)
	if so == nil {
		return x.PassThrough.WSPCancelIo(s, ov)
	}
	var queued []*sendOp
	found := false
	so.mu.Lock()
	for o, op := range so.byOv {
		if ov != nil && o != ov {
			continue
		}
		found = true
		delete(so.byOv, o)
		if op == so.cur {
			op.stop() // the worker aborts it
			continue
		}
		if i := slices.Index(so.q, op); i >= 0 {
			so.q = slices.Delete(so.q, i, i+1)
			queued = append(queued, op)
		}
	}
	so.mu.Unlock()
	for _, op := range queued {
		op.stop()
		x.abort(so, op)
	}
	if ov != nil && found {
		return nil
	}
	err := x.PassThrough.WSPCancelIo(s, ov)
	if found && err == wsa.ERROR_NOT_FOUND {
		return nil
	}
	return err
}

// WSPGetOverlappedResult answers for a send still in the shaper (pending;
// with wait, once it has been handed down), and forwards.
func (x *table) WSPGetOverlappedResult(s wsa.Socket, ov *wsa.Overlapped, wait bool) (uint32, uint32, error) {
	if so := x.sockOf(s); so != nil && ov != nil {
		so.mu.Lock()
		op := so.byOv[ov]
		so.mu.Unlock()
		if op != nil {
			if !wait {
				return 0, 0, wsa.WSA_IO_INCOMPLETE
			}
			<-op.handed
		}
	}
	return x.PassThrough.WSPGetOverlappedResult(s, ov, wait)
}

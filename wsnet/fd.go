package wsnet

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// netFD is one socket of a Session with the state Go's internal/poll.FD
// keeps on Windows: a reference count that lets Close wait for the calls in
// progress, one direction (ioDir) each for reads and writes, and the
// addresses for errors.
type netFD struct {
	s      *api.Session
	h      wsa.Socket
	family int32 // AF_INET or AF_INET6
	sotype int32 // SOCK_STREAM or SOCK_DGRAM
	net    string

	laddr, raddr net.Addr // set before the fd is shared

	// refs counts the calls in progress plus one for the open socket;
	// refClosed is set by Close. The call that drops the count to exactly
	// refClosed closes the socket (destroy) and marks destroyed done.
	refs      atomic.Int64
	destroyed sync.WaitGroup // one count, done by destroy
	closeErr  error          // destroy's result, read after destroyed is done

	r, w ioDir

	// conn is the Conn of a connected stream socket (newConn), allocated
	// with it.
	conn Conn
}

const refClosed = int64(1) << 62

// ioDir is one direction of a socket: reads (and Accept) or writes (and
// ConnectEx). Calls in a direction are serialised by mu, as Go's fdMutex
// serialises them, so one overlapped operation at most is pending per
// direction. ev is the event object the pending operation's OVERLAPPED
// signals (ov.HEvent), and also the wake-up of the waiter: SetDeadline and
// Close set it after changing what the waiter looks at.
type ioDir struct {
	mu       sync.Mutex
	ev       wsa.Handle
	deadline atomic.Int64 // monotonic nanoseconds since clockBase; 0: none
	op       *ioOp        // the operation reused by every call; under mu
	first    ioOp         // op's storage until one is abandoned
}

// nextOp returns the direction's operation, cleared, for the next call; the
// caller holds d.mu. One OVERLAPPED serves every operation of the
// direction, reissued once the previous completion has been seen, as a
// Windows program does (and Go's poller, which keeps one per direction).
// It lives in the ioDir (first) unless an operation was abandoned
// (abandonOp).
func (d *ioDir) nextOp() *ioOp {
	if d.op == nil {
		d.op = &d.first
	} else {
		*d.op = ioOp{}
	}
	return d.op
}

// abandonOp gives up op, which may still be written by its completion:
// the direction's later calls use a fresh operation. The caller holds d.mu.
func (d *ioDir) abandonOp(op *ioOp) {
	if d.op == op {
		d.op = new(ioOp)
	}
}

// clockBase is the origin of the stored deadlines: t.Sub(clockBase) uses the
// monotonic clock when t has a reading (time.Now().Add(...)), as Go's poller
// does.
var clockBase = time.Now()

func monoNow() int64 { return int64(time.Since(clockBase)) }

// newFD wraps socket h, making the two event objects. On failure h is closed.
func newFD(s *api.Session, h wsa.Socket, family, sotype int32, network string) (*netFD, error) {
	fd := &netFD{s: s, h: h, family: family, sotype: sotype, net: network}
	fd.refs.Store(1)
	fd.destroyed.Add(1)
	var err error
	if fd.r.ev, err = s.WSACreateEvent(); err != nil {
		_ = s.Closesocket(h)
		return nil, os.NewSyscallError("wsacreateevent", err)
	}
	if fd.w.ev, err = s.WSACreateEvent(); err != nil {
		_ = s.WSACloseEvent(fd.r.ev)
		_ = s.Closesocket(h)
		return nil, os.NewSyscallError("wsacreateevent", err)
	}
	// Completions signal the OVERLAPPED's event only: the socket handle's
	// own event is never waited on here.
	_ = s.SetFileCompletionNotificationModes(wsa.Handle(h), wsa.FILE_SKIP_SET_EVENT_ON_HANDLE)
	return fd, nil
}

// incref starts a call; it fails with net.ErrClosed once Close has begun.
func (fd *netFD) incref() error {
	for {
		n := fd.refs.Load()
		if n&refClosed != 0 {
			return net.ErrClosed
		}
		if fd.refs.CompareAndSwap(n, n+1) {
			return nil
		}
	}
}

// decref ends a call; the last one after Close closes the socket.
func (fd *netFD) decref() {
	if fd.refs.Add(-1) == refClosed {
		fd.destroy()
	}
}

func (fd *netFD) closing() bool { return fd.refs.Load()&refClosed != 0 }

// Close marks fd closed, wakes every waiter (each cancels its operation
// with CancelIoEx and returns net.ErrClosed once the aborted completion is
// in), cancels whatever is still pending, and waits until the last call has
// returned and the socket is closed. A second Close fails with
// net.ErrClosed.
func (fd *netFD) Close() error {
	if old := fd.refs.Or(refClosed); old&refClosed != 0 {
		return net.ErrClosed
	}
	_ = fd.s.WSASetEvent(fd.r.ev)
	_ = fd.s.WSASetEvent(fd.w.ev)
	_ = fd.s.CancelIoEx(fd.h, nil) // ERROR_NOT_FOUND when nothing is pending
	fd.decref()                    // the open socket's reference
	fd.destroyed.Wait()
	return fd.closeErr
}

// destroy closes the socket and the events; it runs once, when no call is
// in progress any more.
func (fd *netFD) destroy() {
	if err := fd.s.Closesocket(fd.h); err != nil {
		fd.closeErr = os.NewSyscallError("closesocket", err)
	}
	_ = fd.s.WSACloseEvent(fd.r.ev)
	_ = fd.s.WSACloseEvent(fd.w.ev)
	fd.destroyed.Done()
}

// setDeadline sets the deadline of the directions given and wakes their
// waiters, which re-evaluate it.
func (fd *netFD) setDeadline(t time.Time, read, write bool) error {
	if err := fd.incref(); err != nil {
		return err
	}
	defer fd.decref()
	var v int64
	if !t.IsZero() {
		if v = int64(t.Sub(clockBase)); v == 0 {
			v = -1
		}
	}
	if read {
		fd.r.deadline.Store(v)
		_ = fd.s.WSASetEvent(fd.r.ev)
	}
	if write {
		fd.w.deadline.Store(v)
		_ = fd.s.WSASetEvent(fd.w.ev)
	}
	return nil
}

// expired reports whether d's deadline has passed.
func (d *ioDir) expired() bool {
	dl := d.deadline.Load()
	return dl != 0 && monoNow() >= dl
}

// ioOp is one overlapped operation: the OVERLAPPED, the WSABUF array and
// the source address of a receive live here, on the heap, until the
// operation has completed. Each direction reuses one (ioDir.nextOp).
type ioOp struct {
	ov    wsa.Overlapped
	bufs  [1][]byte
	from  wsa.Sockaddr
	n     uint32
	flags uint32
}

// submitFunc issues an overlapped operation.
type submitFunc func(op *ioOp) error

// execIO runs one overlapped operation in direction d and waits for it, as
// internal/poll.execIO does on Windows. The caller holds a reference and
// d.mu; op is d's (nextOp). submit issues the operation with op.ov (its
// HEvent set to d.ev) and writes op.n when it completes at once.
//
// Before issuing, a closed fd fails with net.ErrClosed and a passed
// deadline with os.ErrDeadlineExceeded. A call that fails (other than
// WSA_IO_PENDING) did not start, or is a datagram receive truncated at once
// (WSAEMSGSIZE, whose completion was delivered and needs no wait): its
// error is returned with op.n.
// Otherwise the waiter blocks in WSAWaitForMultipleEvents on d.ev, with the
// time left to the deadline as its timeout, and re-evaluates at every
// wake-up: completed → done; closed, deadline passed or stop() not nil →
// CancelIoEx(op) once, then wait for the completion, whatever it is. An
// operation that completed despite the cancel keeps its result (data that
// arrived is returned); one aborted (WSA_OPERATION_ABORTED) by our cancel
// reports why it was cancelled. The byte count is returned in every case.
func (fd *netFD) execIO(d *ioDir, op *ioOp, submit submitFunc, stop func() error) (n uint32, err error) {
	if fd.closing() {
		return 0, net.ErrClosed
	}
	if d.expired() {
		return 0, os.ErrDeadlineExceeded
	}
	if stop != nil {
		if err := stop(); err != nil {
			return 0, err
		}
	}
	// The issuing call resets d.ev (as Windows resets an OVERLAPPED's
	// event when the operation starts), before the provider sees the
	// operation: every check after it returns (completion, closing,
	// deadline) sees what a Set the reset erased had published.
	op.ov.HEvent = d.ev
	switch err := submit(op); err {
	case nil:
		return op.n, nil
	case wsa.WSA_IO_PENDING:
	default:
		// Not started, or a datagram truncated at once (WSAEMSGSIZE,
		// with its byte count).
		return op.n, err
	}
	var reason error // why we cancelled
	evs := [1]wsa.Handle{d.ev}
	for !wsa.HasOverlappedIoCompleted(&op.ov) {
		timeout := uint32(wsa.WSA_INFINITE)
		if reason == nil {
			dl := d.deadline.Load()
			switch {
			case fd.closing():
				reason = net.ErrClosed
			case dl != 0 && monoNow() >= dl:
				reason = os.ErrDeadlineExceeded
			case stop != nil:
				reason = stop()
			}
			if reason != nil {
				// Once cancelled it stays cancelled, as in Go, even if the
				// deadline moves on. ERROR_NOT_FOUND means it is
				// completing: wait for that.
				_ = fd.s.CancelIoEx(fd.h, &op.ov)
				continue
			}
			if dl != 0 {
				timeout = waitMillis(dl - monoNow())
			}
		}
		if _, werr := fd.s.WSAWaitForMultipleEvents(evs[:], false, timeout, false); werr != nil {
			// The event is gone: WSACleanup ended the Session (which
			// aborted the operation) or the handle table failed.
			if !wsa.HasOverlappedIoCompleted(&op.ov) {
				d.abandonOp(op) // it may still be written: never reused
				return 0, werr
			}
			break
		}
		if wsa.HasOverlappedIoCompleted(&op.ov) {
			break // the usual wake-up: no reset (the next call's issue resets)
		}
		// Woken by Close or SetDeadline (or a stale signal): reset, then
		// look again at what the setter published before its Set.
		_ = fd.s.WSAResetEvent(d.ev)
	}
	var flags uint32
	err = fd.s.WSAGetOverlappedResult(fd.h, &op.ov, &n, false, &flags)
	op.flags = flags
	if err == wsa.WSA_OPERATION_ABORTED {
		// Cancelled by us, or by Close's CancelIoEx before we looked.
		switch {
		case reason != nil:
			err = reason
		case fd.closing():
			err = net.ErrClosed
		}
	}
	return n, err
}

// waitMillis is the WSAWaitForMultipleEvents timeout for a deadline ns
// away: rounded up, so the wait never ends before the deadline.
func waitMillis(ns int64) uint32 {
	if ns <= 0 {
		return 0
	}
	ms := (ns + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	if ms >= int64(wsa.WSA_INFINITE) {
		return wsa.WSA_INFINITE - 1
	}
	return uint32(ms)
}

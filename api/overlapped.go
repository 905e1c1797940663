package api

import (
	"sync/atomic"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// The life of an overlapped operation, as the api sees it (spec §5.5).
//
// The issuing call (WSASend, WSARecv, WSASendTo, WSARecvFrom, WSAIoctl,
// WSASendMsg, WSARecvMsg and the mswsock functions) runs beginOp before it
// calls the provider: ov.Internal becomes WSS_OPERATION_IN_PROGRESS
// (atomically), the handle's own event is reset, and, unless the call has a
// completion routine, ov.HEvent is reset and, when it needs one (below),
// an opRecord for ov is registered. The provider
// completes the operation exactly once through WPUCompleteOverlappedRequest
// (directly or through provider.CompleteOverlapped); with a completion
// routine it queues the routine as an APC instead and the api sees nothing
// of the completion.
//
// The record does two things. It remembers the socket the operation was
// issued on, so a completion that arrives after closesocket (an abort) still
// reaches the socket's completion port (or its handle's event). And it
// decides, race-free, whether a completion is the "immediate success" that
// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS keeps off the port. Neither matters
// for an operation with an hEvent on a socket without a completion port,
// the common case of event-driven overlapped I/O: no record is made for it
// (a completion then finds the socket, if it is still open, through the
// handle table, and a port associated meanwhile gets its packet, as in
// Windows, where the completion looks at the file object's port; only a
// port associated while the call itself runs may then get the packet of
// an immediate success). With a record, its state starts at opIssuing; the issuing call
// moves it, when the provider returns, to the outcome the caller will see
// (nil → opReturnedOK, WSA_IO_PENDING → opReturnedPending, WSAEMSGSIZE from
// a receive → opReturnedTruncated, anything else → opFailed); a completion
// that finds opIssuing stashes its packet and moves it to opCompleted
// instead. Whichever of the two comes second makes the decision, with the
// call's outcome known: the packet is dropped if the call returned nil and
// the handle skips the port on success, posted if it returned
// WSA_IO_PENDING or WSAEMSGSIZE from a receive (a truncated datagram
// completed at once: Windows' STATUS_BUFFER_OVERFLOW is a warning, so its
// packet is queued, FILE_SKIP_COMPLETION_PORT_ON_SUCCESS notwithstanding),
// and dropped for any other error (the provider broke the rules by
// completing an operation it failed). So a completion delivered from inside
// the provider call, or from another goroutine after the call returned nil,
// is judged by what the caller was told, and no packet is lost or
// duplicated. Events are signalled at completion time in every case.

const (
	opIssuing           = iota // the provider call has not returned
	opCompleted                // completed before it returned: pkt holds the packet
	opReturnedOK               // it returned nil (immediate success)
	opReturnedPending          // it returned WSA_IO_PENDING
	opReturnedTruncated        // a receive returned WSAEMSGSIZE: completed, truncated
	opFailed                   // it returned another error: not started
)

// opRecord is one overlapped operation in flight without a completion
// routine.
type opRecord struct {
	so    *socketObj
	state atomic.Uint32
	pkt   winobj.Packet // written by the completer before state becomes opCompleted
}

// opCall is what beginOp hands to endOp.
type opCall struct {
	ov   *wsa.Overlapped
	rec  *opRecord
	recv bool // a receive: WSAEMSGSIZE means completed (see provider.ProcTable)
}

// beginOp starts an overlapped call on so; ov nil is an ordinary call.
func (inst *instance) beginOp(so *socketObj, ov *wsa.Overlapped, cr wsa.CompletionRoutine) opCall {
	if ov == nil {
		return opCall{}
	}
	atomic.StoreUintptr(&ov.Internal, wsa.WSS_OPERATION_IN_PROGRESS)
	// The I/O manager clears the file object's event and the caller's event
	// when an operation starts (with a completion routine, hEvent belongs
	// to the caller).
	if ev := so.ioEv.Load(); ev != nil {
		_ = ev.Reset()
	}
	c := opCall{ov: ov}
	if cr == nil {
		h := ov.HEvent &^ 1
		if h != 0 {
			if ev := inst.event(h); ev != nil {
				_ = ev.Reset()
			}
		}
		if h == 0 || so.port.Load() != nil {
			c.rec = &opRecord{so: so}
			inst.omu.Lock()
			if inst.ops[ov] == nil {
				inst.nops.Add(1)
			}
			inst.ops[ov] = c.rec
			inst.omu.Unlock()
		}
	}
	return c
}

// beginRecvOp is beginOp for an overlapped receive (WSARecv, WSARecvFrom,
// WSARecvMsg), whose WSAEMSGSIZE means "completed with truncation".
func (inst *instance) beginRecvOp(so *socketObj, ov *wsa.Overlapped, cr wsa.CompletionRoutine) opCall {
	c := inst.beginOp(so, ov, cr)
	c.recv = true
	return c
}

// endOp ends an overlapped call with the provider's error (already a
// wsa.Errno or nil) and returns it. An error other than WSA_IO_PENDING means
// the operation did not start: it is recorded in the WSAOVERLAPPED
// (Internal and OffsetHigh), so HasOverlappedIoCompleted is true and a wait
// on it does not hang, and no completion is delivered. The exception is
// WSAEMSGSIZE from a receive: that operation completed, truncated, and its
// completion (which recorded the result) is delivered like a pending one's.
func (inst *instance) endOp(c opCall, err error) error {
	if c.ov == nil {
		return err
	}
	outcome := uint32(opFailed)
	switch {
	case err == nil:
		outcome = opReturnedOK
	case err == wsa.WSA_IO_PENDING:
		outcome = opReturnedPending
	case err == wsa.WSAEMSGSIZE && c.recv:
		outcome = opReturnedTruncated
	}
	if c.rec == nil || c.rec.state.CompareAndSwap(opIssuing, outcome) {
		if outcome == opFailed {
			if c.rec != nil {
				inst.omu.Lock()
				if inst.ops[c.ov] == c.rec {
					delete(inst.ops, c.ov)
					inst.nops.Add(-1)
				}
				inst.omu.Unlock()
			}
			e, _ := err.(wsa.Errno)
			c.ov.OffsetHigh = uint32(e)
			atomic.StoreUintptr(&c.ov.Internal, uintptr(e))
		}
		return err
	}
	// Completed while the provider ran: the packet waits for our verdict. A
	// provider that completed an operation it then failed broke the rules;
	// its packet is dropped, as the caller expects none.
	if outcome != opFailed {
		inst.post(c.rec.so, c.rec.pkt, outcome == opReturnedOK)
	}
	return err
}

// takeOp removes and returns the record of ov, or nil.
func (inst *instance) takeOp(ov *wsa.Overlapped) *opRecord {
	if inst.nops.Load() == 0 {
		return nil // no record at all: skip the lock
	}
	inst.omu.Lock()
	defer inst.omu.Unlock()
	rec := inst.ops[ov]
	if rec != nil {
		delete(inst.ops, ov)
		inst.nops.Add(-1)
	}
	return rec
}

// complete is WPUCompleteOverlappedRequest; see there.
func (inst *instance) complete(s wsa.Socket, ov *wsa.Overlapped, dwError, bytes uint32) {
	rec := inst.takeOp(ov)
	hEvent := ov.HEvent // read before Internal: the caller owns ov after that
	ov.OffsetHigh = dwError
	atomic.StoreUintptr(&ov.InternalHigh, uintptr(bytes))
	atomic.StoreUintptr(&ov.Internal, uintptr(dwError))
	if inst.dead.Load() {
		return // WSACleanup: recorded, not delivered
	}
	var so *socketObj
	if rec != nil {
		so = rec.so
	} else {
		so = inst.table.socket(s)
	}
	// The caller's event if there is one, else the socket handle (the I/O
	// manager's rule: IopCompleteRequest signals the file object only for a
	// request without an event).
	if ev := hEvent &^ 1; ev != 0 {
		if e := inst.table.object(ev, kindEvent); e != nil {
			_ = e.event.Set()
		}
	} else if so != nil && so.modes.Load()&wsa.FILE_SKIP_SET_EVENT_ON_HANDLE == 0 {
		_ = so.ioEvent().Set()
	}
	if so == nil {
		return
	}
	if hEvent&1 != 0 || so.port.Load() == nil {
		return // the low-bit rule: the event only
	}
	pkt := winobj.Packet{Bytes: bytes, Overlapped: ov, Status: inst.win32Status(so, wsa.Errno(dwError))}
	if rec == nil {
		inst.post(so, pkt, false)
		return
	}
	rec.pkt = pkt
	if rec.state.CompareAndSwap(opIssuing, opCompleted) {
		return // the issuing call decides
	}
	if st := rec.state.Load(); st != opFailed {
		inst.post(so, pkt, st == opReturnedOK)
	}
}

// post queues a completion packet to so's port, unless immediateSuccess and
// the handle skips the port on success.
func (inst *instance) post(so *socketObj, pkt winobj.Packet, immediateSuccess bool) {
	a := so.port.Load()
	if a == nil {
		return
	}
	if immediateSuccess && so.modes.Load()&wsa.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS != 0 {
		return
	}
	pkt.Key = a.key
	_ = a.port.Post(pkt) // a closed port drops it, as in Windows
}

// win32Status is the status of a completion packet for a WSAE* result: the
// Win32 code of the NTSTATUS the Windows base provider completes the IRP
// with. A WSAECONNRESET on a datagram socket is an ICMP port unreachable.
func (inst *instance) win32Status(so *socketObj, e wsa.Errno) wsa.Errno {
	if e == wsa.WSAECONNRESET {
		if ent, ok := inst.catalog.ByID(so.catalogID.Load()); ok && ent.Info.SocketType == wsa.SOCK_DGRAM {
			return wsa.ERROR_PORT_UNREACHABLE
		}
	}
	return Win32Error(e)
}

// Win32 codes of failed operations in completion packets that package wsa
// does not name (the RtlNtStatusToDosError results of the NTSTATUS values
// AFD completes with), and WAIT_IO_COMPLETION.
const (
	ERROR_ACCESS_DENIED       wsa.Errno = 5
	ERROR_INVALID_HANDLE      wsa.Errno = 6
	ERROR_NOT_READY           wsa.Errno = 21
	ERROR_NOT_SUPPORTED       wsa.Errno = 50
	ERROR_DUP_NAME            wsa.Errno = 52
	ERROR_UNEXP_NET_ERR       wsa.Errno = 59
	ERROR_INVALID_PARAMETER   wsa.Errno = 87
	WAIT_IO_COMPLETION        wsa.Errno = 0xC0
	ERROR_PIPE_NOT_CONNECTED  wsa.Errno = 233
	ERROR_NOACCESS            wsa.Errno = 998
	ERROR_INVALID_NETNAME     wsa.Errno = 1214
	ERROR_GRACEFUL_DISCONNECT wsa.Errno = 1226
	ERROR_CONNECTION_INVALID  wsa.Errno = 1229
	ERROR_NO_SYSTEM_RESOURCES wsa.Errno = 1450
)

// win32Errors maps the WSAE* result of an operation to the Win32 code a
// completion port reports for it (spec §5.5 item 4): the code
// RtlNtStatusToDosError gives for the NTSTATUS the Windows base provider
// completes with (the inverse of AFD's NTSTATUS → WSAE* mapping, as libuv
// spells it out in uv_ntstatus_to_winsock_error).
var win32Errors = map[wsa.Errno]wsa.Errno{
	wsa.WSA_OPERATION_ABORTED: wsa.ERROR_OPERATION_ABORTED,   // STATUS_CANCELLED
	wsa.WSAEINTR:              wsa.ERROR_OPERATION_ABORTED,   // STATUS_CANCELLED
	wsa.WSAECONNRESET:         wsa.ERROR_NETNAME_DELETED,     // STATUS_CONNECTION_RESET
	wsa.WSAECONNABORTED:       wsa.ERROR_CONNECTION_ABORTED,  // STATUS_CONNECTION_ABORTED
	wsa.WSAECONNREFUSED:       wsa.ERROR_CONNECTION_REFUSED,  // STATUS_CONNECTION_REFUSED
	wsa.WSAETIMEDOUT:          wsa.ERROR_SEM_TIMEOUT,         // STATUS_IO_TIMEOUT
	wsa.WSAEMSGSIZE:           wsa.ERROR_MORE_DATA,           // STATUS_BUFFER_OVERFLOW
	wsa.WSAENETUNREACH:        wsa.ERROR_NETWORK_UNREACHABLE, // STATUS_NETWORK_UNREACHABLE
	wsa.WSAEHOSTUNREACH:       wsa.ERROR_HOST_UNREACHABLE,    // STATUS_HOST_UNREACHABLE
	wsa.WSAENETRESET:          wsa.ERROR_NETNAME_DELETED,     // STATUS_CONNECTION_RESET (keep-alive)
	wsa.WSAEDISCON:            ERROR_GRACEFUL_DISCONNECT,     // STATUS_GRACEFUL_DISCONNECT
	wsa.WSAENOTCONN:           ERROR_CONNECTION_INVALID,      // STATUS_INVALID_CONNECTION
	wsa.WSAESHUTDOWN:          ERROR_PIPE_NOT_CONNECTED,      // STATUS_PIPE_DISCONNECTED
	wsa.WSAEADDRINUSE:         ERROR_DUP_NAME,                // STATUS_ADDRESS_ALREADY_EXISTS
	wsa.WSAEADDRNOTAVAIL:      ERROR_INVALID_NETNAME,         // STATUS_INVALID_ADDRESS_COMPONENT
	wsa.WSAENOBUFS:            ERROR_NO_SYSTEM_RESOURCES,     // STATUS_INSUFFICIENT_RESOURCES
	wsa.WSAENETDOWN:           ERROR_UNEXP_NET_ERR,           // STATUS_UNEXPECTED_NETWORK_ERROR
	wsa.WSAEFAULT:             ERROR_NOACCESS,                // STATUS_ACCESS_VIOLATION
	wsa.WSAEINVAL:             ERROR_INVALID_PARAMETER,       // STATUS_INVALID_PARAMETER
	wsa.WSAENOTSOCK:           ERROR_INVALID_HANDLE,          // STATUS_INVALID_HANDLE
	wsa.WSAEACCES:             ERROR_ACCESS_DENIED,           // STATUS_ACCESS_DENIED
	wsa.WSAEOPNOTSUPP:         ERROR_NOT_SUPPORTED,           // STATUS_NOT_SUPPORTED
	wsa.WSAEWOULDBLOCK:        ERROR_NOT_READY,               // STATUS_DEVICE_NOT_READY
}

// Win32Error returns the Win32 code GetQueuedCompletionStatus reports for an
// operation that failed with the WSAE* code e (spec §5.5 item 4): 0 for 0,
// ERROR_OPERATION_ABORTED (995) for WSA_OPERATION_ABORTED,
// ERROR_NETNAME_DELETED (64) for WSAECONNRESET, ERROR_CONNECTION_ABORTED
// (1236) for WSAECONNABORTED, ERROR_CONNECTION_REFUSED (1225),
// ERROR_SEM_TIMEOUT (121) for WSAETIMEDOUT, ERROR_MORE_DATA (234) for
// WSAEMSGSIZE, ERROR_NETWORK_UNREACHABLE (1231), ERROR_HOST_UNREACHABLE
// (1232), and so on; a code with no NTSTATUS of its own comes back
// unchanged, as Windows passes such codes through. (A WSAECONNRESET on a
// datagram socket, an ICMP port unreachable, is ERROR_PORT_UNREACHABLE
// (1234) in a packet; this function, which sees no socket, gives 64.)
func Win32Error(e wsa.Errno) wsa.Errno {
	if w, ok := win32Errors[e]; ok {
		return w
	}
	return e
}

// WSAGetOverlappedResult is WSAGetOverlappedResult: the result of the
// overlapped operation ov issued on socket h. When the operation has
// completed, *transferred gets the bytes transferred (InternalHigh) and
// *flags its flags (Offset, e.g. MSG_PARTIAL), and the error is the
// operation's WSAE* code (WSAECONNRESET, WSA_OPERATION_ABORTED, …), nil for
// success. (A completion port reports the Win32 code for the same failure;
// see Win32Error.)
//
// While the operation is pending it fails with WSA_IO_INCOMPLETE if wait is
// false; with wait it waits on ov.HEvent (low bit ignored), or, when HEvent
// is 0, on the socket handle itself, which is signalled at the completion of
// every operation on the socket that has no HEvent (unless
// FILE_SKIP_SET_EVENT_ON_HANDLE), as in Windows. When several operations
// share that handle or an event, the wait can end for another operation's
// completion: the call then fails with WSA_IO_INCOMPLETE (Windows' result
// there is unreliable; give each operation its own event). A wait is not alertable and holds no lock; it
// ends with WSANOTINITIALISED when WSACleanup runs and with
// WSA_INVALID_HANDLE when its event is closed.
//
// The api reads the result from ov itself, where WPUCompleteOverlappedRequest
// and provider.CompleteOverlapped record it; WSPGetOverlappedResult is not
// called (the provider has no way to wait on the api's events). A nil ov,
// transferred or flags is WSAEFAULT; an HEvent that is not an event of the
// Session is WSA_INVALID_HANDLE.
func (s *Session) WSAGetOverlappedResult(h wsa.Socket, ov *wsa.Overlapped, transferred *uint32, wait bool, flags *uint32) error {
	// The checks of every call on a socket, without holding the gate: a
	// wait must not hold up closesocket or WSACleanup.
	inst, so, err := s.sockObj(h)
	switch {
	case err != nil:
		return err
	case so.gate.closed():
		return inst.closedErr()
	case inst.dead.Load():
		return wsa.WSANOTINITIALISED
	case inst.dispatch(so) == nil:
		return wsa.WSAENOTSOCK
	}
	if ov == nil || transferred == nil || flags == nil {
		return wsa.WSAEFAULT
	}
	if !wsa.HasOverlappedIoCompleted(ov) {
		if !wait {
			return wsa.WSA_IO_INCOMPLETE
		}
		obj := so.ioEvent()
		if h := ov.HEvent &^ 1; h != 0 {
			e := inst.table.object(h, kindEvent)
			if e == nil {
				return wsa.WSA_INVALID_HANDLE
			}
			obj = e.event
		}
		r, err := winobj.Wait([]*winobj.Event{obj, inst.doneEv}, false, winobj.Infinite, nil)
		switch {
		case inst.dead.Load() || r == wsa.WSA_WAIT_EVENT_0+1:
			return wsa.WSANOTINITIALISED
		case err != nil:
			return wsa.WSA_INVALID_HANDLE
		case !wsa.HasOverlappedIoCompleted(ov):
			return wsa.WSA_IO_INCOMPLETE
		}
	}
	status := wsa.Errno(atomic.LoadUintptr(&ov.Internal))
	*transferred = uint32(atomic.LoadUintptr(&ov.InternalHigh))
	*flags = ov.Offset
	if status != 0 {
		return status
	}
	return nil
}

// SetFileCompletionNotificationModes is SetFileCompletionNotificationModes
// for a socket handle: FILE_SKIP_COMPLETION_PORT_ON_SUCCESS (no completion
// packet for an operation whose call returned nil; pending operations still
// post) and FILE_SKIP_SET_EVENT_ON_HANDLE (the socket handle is not
// signalled at completions of operations without an hEvent; an explicit
// ov.HEvent still is). The modes cannot be turned
// off again: a later call adds to them. A handle that is not a socket of the
// Session is WSA_INVALID_HANDLE (ERROR_INVALID_HANDLE), other flag bits
// WSA_INVALID_PARAMETER.
//
// The api applies the modes itself for every provider, since all
// completions pass through it; the IFS restriction of Windows (spec §3.4)
// does not arise.
func (s *Session) SetFileCompletionNotificationModes(h wsa.Handle, flags uint8) error {
	inst, err := s.started()
	if err != nil {
		return err
	}
	so := inst.table.socket(wsa.Socket(h))
	if so == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	if flags&^(wsa.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS|wsa.FILE_SKIP_SET_EVENT_ON_HANDLE) != 0 {
		return wsa.WSA_INVALID_PARAMETER
	}
	so.modes.Or(uint32(flags))
	return nil
}

// CancelIo is CancelIo: it cancels every pending overlapped operation on
// socket h. Each completes through its usual mechanism with
// WSA_OPERATION_ABORTED (ERROR_OPERATION_ABORTED in a completion packet).
// Windows cancels only the calling thread's operations; a Session is one
// thread (see the package doc), so here that is all of them. It succeeds
// when nothing is pending.
//
// The provider does the cancelling, through provider.Canceler; one that
// does not implement it fails with WSAEOPNOTSUPP. A handle that is not a
// socket of the Session is WSA_INVALID_HANDLE.
func (s *Session) CancelIo(h wsa.Socket) error {
	err := s.cancel(h, nil)
	if err == wsa.ERROR_NOT_FOUND {
		return nil
	}
	return err
}

// CancelIoEx is CancelIoEx: it cancels the pending overlapped operation ov
// on socket h, or all of them when ov is nil, as CancelIo does. When nothing
// matched it fails with ERROR_NOT_FOUND.
func (s *Session) CancelIoEx(h wsa.Socket, ov *wsa.Overlapped) error {
	return s.cancel(h, ov)
}

func (s *Session) cancel(h wsa.Socket, ov *wsa.Overlapped) error {
	_, so, p, err := s.sock(h)
	if err == wsa.WSAENOTSOCK {
		return wsa.WSA_INVALID_HANDLE
	}
	if err != nil {
		return err
	}
	defer so.gate.leave()
	c, ok := p.procs.(provider.Canceler)
	if !ok {
		return wsa.WSAEOPNOTSUPP
	}
	return providerErr(c.WSPCancelIo(h, ov))
}

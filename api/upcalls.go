package api

import (
	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// upcalls is a Session's provider.UpcallTable (WSPUPCALLTABLE plus
// WPUCompleteOverlappedRequest). Each started life of a Session has its own,
// given to every provider it starts. Upcalls never block and never call back
// into a provider: a provider may call them while holding its own locks
// (WPUResetEvent inside WSPEnumNetworkEvents, WPUSetEvent while recording an
// event, WPUCompleteOverlappedRequest while completing).
//
// Socket handles (create, modify, query, close), event objects
// (manual-reset, in the handle table), the Session's APC queue
// (WPUOpenCurrentThread, WPUQueueApc, WPUCloseThread), message queues
// (WPUPostMessage), WPUCompleteOverlappedRequest with the completion-port
// rules, WPUFDIsSet, WPUGetProviderPath and WPUQueryBlockingCallback (no
// hook in Winsock 2).
type upcalls struct{ inst *instance }

var _ provider.UpcallTable = (*upcalls)(nil)

// WPUCloseEvent implements provider.UpcallTable: it frees the event's handle
// (WSACloseEvent). A handle that is not an event is WSA_INVALID_HANDLE.
func (u *upcalls) WPUCloseEvent(h wsa.Handle) error {
	return u.inst.closeHandle(h, kindEvent)
}

// WPUCloseSocketHandle implements provider.UpcallTable: the handle is freed
// (its value may be reused at once); calls in progress on it finish, and new
// ones fail with WSAENOTSOCK. An unknown handle is WSAENOTSOCK.
func (u *upcalls) WPUCloseSocketHandle(s wsa.Socket) error {
	so := u.inst.table.socket(s)
	if so == nil {
		return wsa.WSAENOTSOCK
	}
	u.inst.forget(so)
	return nil
}

// WPUCreateEvent implements provider.UpcallTable: a manual-reset,
// non-signalled event in the Session's handle table.
func (u *upcalls) WPUCreateEvent() (wsa.Handle, error) {
	h, err := u.inst.newEvent()
	if err != nil {
		return wsa.WSA_INVALID_EVENT, tableErr(err)
	}
	return h, nil
}

// tableErr maps a full handle table to WSAENOBUFS, the upcalls' error for it.
func tableErr(err error) error {
	if err == wsa.WSAEMFILE {
		return wsa.WSAENOBUFS
	}
	return err
}

// WPUCreateSocketHandle implements provider.UpcallTable: a new socket handle
// for catalog entry catalogEntryID, carrying context. Calls on it go to the
// provider that returns it to the api (WSPSocket, WSPAccept, WSPJoinLeaf).
// An id not in the catalog is WSAEINVAL; a full table WSAENOBUFS.
func (u *upcalls) WPUCreateSocketHandle(catalogEntryID uint32, context any) (wsa.Socket, error) {
	if _, ok := u.inst.catalog.ByID(catalogEntryID); !ok {
		return wsa.INVALID_SOCKET, wsa.WSAEINVAL
	}
	so, err := u.inst.newSocketObj(catalogEntryID, context)
	if err != nil {
		return wsa.INVALID_SOCKET, tableErr(err)
	}
	return so.handle(), nil
}

// WPUFDIsSet implements provider.UpcallTable.
func (u *upcalls) WPUFDIsSet(s wsa.Socket, set *wsa.FdSet) bool { return set.IsSet(s) }

// WPUGetProviderPath implements provider.UpcallTable (WSCGetProviderPath on
// the Session's catalog).
func (u *upcalls) WPUGetProviderPath(providerID wsa.GUID) (string, error) {
	return u.inst.catalog.WSCGetProviderPath(providerID)
}

// WPUModifyIFSHandle implements provider.UpcallTable. Handles are values of
// the api's table, so:
//   - a proposed value that is already a live socket handle of the Session is
//     the layered pass-through case: the caller (catalogEntryID) claims the
//     handle, which stays the same; calls on it go to the caller's provider
//     once that provider returns it to the api;
//   - any other value gets a new handle, which is returned; its context (for
//     WPUQuerySocketHandleContext) is the proposed value, a wsa.Socket.
//
// 0 and INVALID_SOCKET are WSAEINVAL, as is an id not in the catalog.
func (u *upcalls) WPUModifyIFSHandle(catalogEntryID uint32, proposed wsa.Socket) (wsa.Socket, error) {
	if proposed == 0 || proposed == wsa.INVALID_SOCKET {
		return wsa.INVALID_SOCKET, wsa.WSAEINVAL
	}
	if _, ok := u.inst.catalog.ByID(catalogEntryID); !ok {
		return wsa.INVALID_SOCKET, wsa.WSAEINVAL
	}
	if so := u.inst.table.socket(proposed); so != nil {
		so.catalogID.Store(catalogEntryID)
		return proposed, nil
	}
	so, err := u.inst.newSocketObj(catalogEntryID, proposed)
	if err != nil {
		return wsa.INVALID_SOCKET, tableErr(err)
	}
	return so.handle(), nil
}

// WPUPostMessage implements provider.UpcallTable: the message is appended to
// the message queue hwnd names (see Session.CreateMessageQueue). A handle
// that is not a message queue of the Session, or one destroyed, is
// WSA_INVALID_HANDLE (PostMessage's invalid-window failure; MSL gives
// WPUPostMessage no code of its own); a full queue fails with
// ERROR_NOT_ENOUGH_QUOTA (1816), as PostMessage does.
func (u *upcalls) WPUPostMessage(hwnd wsa.Handle, msg uint32, wParam, lParam uintptr) error {
	e := u.inst.table.object(hwnd, kindMsgQueue)
	if e == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	return e.mq.Post(winobj.Msg{HWnd: hwnd, Message: msg, WParam: wParam, LParam: lParam})
}

// WPUQueryBlockingCallback implements provider.UpcallTable: Winsock 2 has no
// blocking hook, so it returns nil (the provider blocks normally).
func (u *upcalls) WPUQueryBlockingCallback(catalogEntryID uint32) (func() bool, uintptr, error) {
	return nil, 0, nil
}

// WPUQuerySocketHandleContext implements provider.UpcallTable; an unknown
// handle is WSAENOTSOCK.
func (u *upcalls) WPUQuerySocketHandleContext(s wsa.Socket) (any, error) {
	so := u.inst.table.socket(s)
	if so == nil {
		return nil, wsa.WSAENOTSOCK
	}
	return so.context, nil
}

// apcQueueOf returns the APC queue tid names.
func (u *upcalls) apcQueueOf(tid *provider.ThreadID) (*winobj.APCQueue, error) {
	if tid == nil {
		return nil, wsa.WSAEFAULT
	}
	if e := u.inst.table.lookup(uintptr(tid.ThreadHandle)); e != nil && e.kind == kindAPCQueue {
		return e.apc, nil
	}
	return nil, wsa.WSAEINVAL
}

// WPUQueueApc implements provider.UpcallTable: fn(context) is queued to the
// Session's APC queue and runs in an alertable wait on the Session (see
// "Completion routines" in the package doc). A nil tid or fn is WSAEFAULT; a
// tid that names no APC queue of this Session WSAEINVAL; after WSACleanup
// has begun the queue is closed and the call fails with WSA_INVALID_HANDLE.
func (u *upcalls) WPUQueueApc(tid *provider.ThreadID, fn provider.APCFunc, context uintptr) error {
	q, err := u.apcQueueOf(tid)
	if err != nil {
		return err
	}
	if fn == nil {
		return wsa.WSAEFAULT
	}
	return q.Queue(func() { fn(context) })
}

// WPUResetEvent implements provider.UpcallTable; a handle that is not an
// event is WSA_INVALID_HANDLE.
func (u *upcalls) WPUResetEvent(h wsa.Handle) error {
	ev := u.inst.event(h)
	if ev == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	return ev.Reset()
}

// WPUSetEvent implements provider.UpcallTable; a handle that is not an event
// is WSA_INVALID_HANDLE.
func (u *upcalls) WPUSetEvent(h wsa.Handle) error {
	ev := u.inst.event(h)
	if ev == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	return ev.Set()
}

// WPUAssist is an upcall of ws2's own, beyond WSPUPCALLTABLE, that a
// provider finds by a type assertion on its provider.UpcallTable: it hands
// fn, a provider's completion step, to a goroutine blocked in a wait-any on
// event h (WSAWaitForMultipleEvents, WSAGetOverlappedResult), which runs it
// before it goes on waiting (winobj.Event.Assist), and reports whether one
// took it; if not (nobody waits, or h is not an event) the provider runs fn
// itself. A provider that calls it when work is ready for an operation
// whose OVERLAPPED has event h lets the completion be made, and seen, by
// the goroutine waiting for it, without a hand-off through a goroutine of
// its own. fn must not block; it runs with none of the provider's locks
// held (unless fn takes them), in a goroutine of the application that may
// hold its own locks, so it must never call application code (completion
// routines are queued as APCs, as always).
func (u *upcalls) WPUAssist(h wsa.Handle, fn func()) bool {
	ev := u.inst.event(h)
	return ev != nil && ev.Assist(fn)
}

// WPUOpenCurrentThread implements provider.UpcallTable. Go has no thread
// identity: every goroutine of a Session is "the current thread" of its one
// APC queue, so this returns the ThreadID of that queue, the same the api
// passes to every overlapped-capable WSP call.
func (u *upcalls) WPUOpenCurrentThread() (provider.ThreadID, error) {
	return u.inst.tid, nil
}

// WPUCloseThread implements provider.UpcallTable. Nothing is held per
// ThreadID; it only checks that tid names the Session's queue (nil is
// WSAEFAULT, another value WSAEINVAL).
func (u *upcalls) WPUCloseThread(tid *provider.ThreadID) error {
	_, err := u.apcQueueOf(tid)
	return err
}

// WPUCompleteOverlappedRequest implements provider.UpcallTable: it completes
// an overlapped operation on s without a completion routine, by the
// mechanisms the caller chose (spec §5.5):
//
//  1. it records the result in ov: OffsetHigh = dwError, InternalHigh =
//     cbTransferred, then Internal = dwError (atomically, last, so
//     Internal leaves WSS_OPERATION_IN_PROGRESS only once the rest is
//     there); dwError is the WSAE* code, 0 for success, and the provider
//     has stored the flags in ov.Offset before (provider.CompleteOverlapped
//     does);
//  2. it signals ov.HEvent, with its low bit cleared, if that is an event of
//     the Session;
//  3. when HEvent is 0, it signals the socket handle instead, unless
//     FILE_SKIP_SET_EVENT_ON_HANDLE (the I/O manager's rule);
//  4. if the socket is associated with a completion port, it posts the
//     packet (cbTransferred, key, ov, Win32 status — see Win32Error) unless
//     ov.HEvent has its low bit set, or the socket has
//     FILE_SKIP_COMPLETION_PORT_ON_SUCCESS and the issuing call returned nil
//     (decided race-free with the issuing call: see overlapped.go).
//
// The socket is the one the operation was issued on (the api keeps it from
// the issuing call), so completions that arrive after closesocket
// (WSA_OPERATION_ABORTED) still reach its port; for an operation the api did
// not issue, s is looked up, and a value that is no socket any more gets
// steps 1 and 2 only. (HEvent is read before Internal is written: from then
// on ov belongs to the caller again.) After WSACleanup has begun only step 1 is done (spec
// §2.1: no event, no completion routine). A nil ov is WSAEFAULT.
func (u *upcalls) WPUCompleteOverlappedRequest(s wsa.Socket, ov *wsa.Overlapped, dwError uint32, cbTransferred uint32) error {
	if ov == nil {
		return wsa.WSAEFAULT
	}
	u.inst.complete(s, ov, dwError, cbTransferred)
	return nil
}

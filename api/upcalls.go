package api

import (
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// upcalls is a Session's provider.UpcallTable (WSPUPCALLTABLE plus
// WPUCompleteOverlappedRequest). Each started life of a Session has its own,
// given to every provider it starts. Upcalls never block and never call back
// into a provider.
//
// What is complete now: socket handles (create, modify, query, close), event
// objects (manual-reset, in the handle table), the Session's APC queue
// (WPUOpenCurrentThread, WPUQueueApc, WPUCloseThread), WPUFDIsSet,
// WPUGetProviderPath, WPUQueryBlockingCallback (no hook in Winsock 2), and
// WPUCompleteOverlappedRequest for the event path. What comes with the event
// and overlapped models of the next issue: message queues standing for
// windows (WPUPostMessage is WSAEOPNOTSUPP until then), completion ports, and
// the alertable waits that run queued APCs.
type upcalls struct{ inst *instance }

var _ provider.UpcallTable = (*upcalls)(nil)

// event returns the event object of h, or nil.
func (u *upcalls) event(h wsa.Handle) *eventObj {
	if e := u.inst.table.lookup(uintptr(h)); e != nil && e.kind == kindEvent {
		return e.event
	}
	return nil
}

// WPUCloseEvent implements provider.UpcallTable: it frees the event's handle.
// A handle that is not an event is WSA_INVALID_HANDLE.
func (u *upcalls) WPUCloseEvent(h wsa.Handle) error {
	ev := u.event(h)
	if ev == nil || !u.inst.table.remove(&ev.ent) {
		return wsa.WSA_INVALID_HANDLE
	}
	return nil
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
	ev := newEvent()
	ev.ent = handleEntry{kind: kindEvent, event: ev}
	h, err := u.inst.table.insert(&ev.ent)
	if err != nil {
		return wsa.WSA_INVALID_EVENT, tableErr(err)
	}
	return wsa.Handle(h), nil
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

// WPUPostMessage implements provider.UpcallTable. Message queues standing for
// windows come with WSAAsyncSelect in the next issue; until then it is
// WSAEOPNOTSUPP.
func (u *upcalls) WPUPostMessage(hwnd wsa.Handle, msg uint32, wParam, lParam uintptr) error {
	return wsa.WSAEOPNOTSUPP
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
func (u *upcalls) apcQueueOf(tid *provider.ThreadID) (*apcQueue, error) {
	if tid == nil {
		return nil, wsa.WSAEFAULT
	}
	if e := u.inst.table.lookup(uintptr(tid.ThreadHandle)); e != nil && e.kind == kindAPCQueue {
		return e.apc, nil
	}
	return nil, wsa.WSAEINVAL
}

// WPUQueueApc implements provider.UpcallTable: fn(context) is queued to the
// Session's APC queue and runs in an alertable wait on the Session (next
// issue). A nil tid or fn is WSAEFAULT; a tid that names no APC queue of
// this Session WSAEINVAL.
func (u *upcalls) WPUQueueApc(tid *provider.ThreadID, fn provider.APCFunc, context uintptr) error {
	q, err := u.apcQueueOf(tid)
	if err != nil {
		return err
	}
	if fn == nil {
		return wsa.WSAEFAULT
	}
	return q.push(fn, context)
}

// WPUResetEvent implements provider.UpcallTable; a handle that is not an
// event is WSA_INVALID_HANDLE.
func (u *upcalls) WPUResetEvent(h wsa.Handle) error {
	ev := u.event(h)
	if ev == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	ev.reset()
	return nil
}

// WPUSetEvent implements provider.UpcallTable; a handle that is not an event
// is WSA_INVALID_HANDLE.
func (u *upcalls) WPUSetEvent(h wsa.Handle) error {
	ev := u.event(h)
	if ev == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	ev.signal()
	return nil
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

// WPUCompleteOverlappedRequest implements provider.UpcallTable, for the part
// that exists now: it records cbTransferred in ov.InternalHigh, then dwError
// in ov.Internal (so Internal leaves WSS_OPERATION_IN_PROGRESS), then
// signals ov.HEvent if it is an event of the Session. Completion ports, for
// which the socket's association matters, come in the next issue; s is not
// checked, so that a completion for a socket closed meanwhile (with
// WSA_OPERATION_ABORTED) is still delivered. A nil ov is WSAEFAULT.
//
// The provider keeps its own copy of the WSAE* code and flags in
// ov.OffsetHigh and ov.Offset (MSAFD's convention) before calling this.
func (u *upcalls) WPUCompleteOverlappedRequest(s wsa.Socket, ov *wsa.Overlapped, dwError uint32, cbTransferred uint32) error {
	if ov == nil {
		return wsa.WSAEFAULT
	}
	ov.InternalHigh = uintptr(cbTransferred)
	ov.Internal = uintptr(dwError)
	if ov.HEvent != wsa.WSA_INVALID_EVENT {
		if ev := u.event(ov.HEvent); ev != nil {
			ev.signal()
		}
	}
	return nil
}

package providertest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Upcalls is a complete, in-memory provider.UpcallTable for providers' unit
// tests: the part of ws2_32 a provider talks to, without the api package.
//
// It keeps a handle table (sockets with their catalog entry and context,
// events, thread ids; all handles share one counter and never share a
// value), manual-reset events, a queue of APCs (run by RunAPCs), a queue of
// posted messages and a record of completed overlapped requests. Every
// method is safe for concurrent use and none blocks, except the Wait
// helpers.
//
// The zero value is not usable; call NewUpcalls.
type Upcalls struct {
	mu          sync.Mutex
	next        uintptr
	sockets     map[wsa.Socket]SocketHandle
	events      map[wsa.Handle]*Event
	threads     map[wsa.Handle]bool
	paths       map[wsa.GUID]string
	apcs        []APC
	messages    []Message
	completions []Completion
	changed     chan struct{} // closed and replaced on every APC, message or completion
}

// SocketHandle is a socket in the handle table.
type SocketHandle struct {
	CatalogEntryID uint32
	Context        any  // as given to WPUCreateSocketHandle; nil for IFS handles
	IFS            bool // registered with WPUModifyIFSHandle
}

// APC is a queued asynchronous procedure call.
type APC struct {
	Thread  provider.ThreadID
	Fn      provider.APCFunc
	Context uintptr
}

// Message is a message posted with WPUPostMessage.
type Message struct {
	HWnd           wsa.Handle
	Msg            uint32
	WParam, LParam uintptr
}

// Completion records one WPUCompleteOverlappedRequest.
type Completion struct {
	Socket      wsa.Socket
	Overlapped  *wsa.Overlapped
	Error       uint32
	Transferred uint32
}

// Event is a manual-reset event object.
type Event struct {
	mu       sync.Mutex
	signaled bool
	ch       chan struct{} // closed while signaled
}

func newEvent() *Event { return &Event{ch: make(chan struct{})} }

// Set signals the event.
func (e *Event) Set() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.signaled {
		e.signaled = true
		close(e.ch)
	}
}

// Reset clears the event.
func (e *Event) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.signaled {
		e.signaled = false
		e.ch = make(chan struct{})
	}
}

// Signaled reports whether the event is set.
func (e *Event) Signaled() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.signaled
}

// Wait waits up to d for the event to be set and reports whether it was.
func (e *Event) Wait(d time.Duration) bool {
	e.mu.Lock()
	ch, set := e.ch, e.signaled
	e.mu.Unlock()
	if set {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// NewUpcalls returns an empty upcall table.
func NewUpcalls() *Upcalls {
	return &Upcalls{
		next:    0x100,
		sockets: make(map[wsa.Socket]SocketHandle),
		events:  make(map[wsa.Handle]*Event),
		threads: make(map[wsa.Handle]bool),
		paths:   make(map[wsa.GUID]string),
		changed: make(chan struct{}),
	}
}

var _ provider.UpcallTable = (*Upcalls)(nil)

// alloc returns a new handle value; u.mu must be held.
func (u *Upcalls) alloc() uintptr {
	h := u.next
	u.next += 4
	return h
}

// notify wakes WaitChange callers; u.mu must be held.
func (u *Upcalls) notify() {
	close(u.changed)
	u.changed = make(chan struct{})
}

// WPUCloseEvent implements provider.UpcallTable.
func (u *Upcalls) WPUCloseEvent(h wsa.Handle) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.events[h]; !ok {
		return wsa.WSA_INVALID_HANDLE
	}
	delete(u.events, h)
	return nil
}

// WPUCloseSocketHandle implements provider.UpcallTable.
func (u *Upcalls) WPUCloseSocketHandle(s wsa.Socket) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.sockets[s]; !ok {
		return wsa.WSAENOTSOCK
	}
	delete(u.sockets, s)
	return nil
}

// WPUCreateEvent implements provider.UpcallTable.
func (u *Upcalls) WPUCreateEvent() (wsa.Handle, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h := wsa.Handle(u.alloc())
	u.events[h] = newEvent()
	return h, nil
}

// WPUCreateSocketHandle implements provider.UpcallTable.
func (u *Upcalls) WPUCreateSocketHandle(catalogEntryID uint32, context any) (wsa.Socket, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := wsa.Socket(u.alloc())
	u.sockets[s] = SocketHandle{CatalogEntryID: catalogEntryID, Context: context}
	return s, nil
}

// WPUFDIsSet implements provider.UpcallTable.
func (u *Upcalls) WPUFDIsSet(s wsa.Socket, set *wsa.FdSet) bool { return set.IsSet(s) }

// SetProviderPath makes WPUGetProviderPath answer path for id.
func (u *Upcalls) SetProviderPath(id wsa.GUID, path string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.paths[id] = path
}

// WPUGetProviderPath implements provider.UpcallTable: the path set with
// SetProviderPath, else WSAEINVAL.
func (u *Upcalls) WPUGetProviderPath(providerID wsa.GUID) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.paths[providerID]
	if !ok {
		return "", wsa.WSAEINVAL
	}
	return p, nil
}

// WPUModifyIFSHandle implements provider.UpcallTable as the api does: a
// proposed value that is a live socket handle is the layered pass-through
// case, and is re-tagged for catalogEntryID (context and IFS mark kept);
// any other value is registered as an IFS handle. Either way proposed is
// returned. 0 and INVALID_SOCKET are WSAEINVAL.
func (u *Upcalls) WPUModifyIFSHandle(catalogEntryID uint32, proposed wsa.Socket) (wsa.Socket, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if proposed == 0 || proposed == wsa.INVALID_SOCKET {
		return wsa.INVALID_SOCKET, wsa.WSAEINVAL
	}
	if h, ok := u.sockets[proposed]; ok {
		h.CatalogEntryID = catalogEntryID
		u.sockets[proposed] = h
		return proposed, nil
	}
	u.sockets[proposed] = SocketHandle{CatalogEntryID: catalogEntryID, IFS: true}
	return proposed, nil
}

// WPUPostMessage implements provider.UpcallTable: the message is queued
// (see Messages).
func (u *Upcalls) WPUPostMessage(hwnd wsa.Handle, msg uint32, wParam, lParam uintptr) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.messages = append(u.messages, Message{hwnd, msg, wParam, lParam})
	u.notify()
	return nil
}

// WPUQueryBlockingCallback implements provider.UpcallTable: no hook.
func (u *Upcalls) WPUQueryBlockingCallback(catalogEntryID uint32) (func() bool, uintptr, error) {
	return nil, 0, nil
}

// WPUQuerySocketHandleContext implements provider.UpcallTable.
func (u *Upcalls) WPUQuerySocketHandleContext(s wsa.Socket) (any, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h, ok := u.sockets[s]
	if !ok {
		return nil, wsa.WSAENOTSOCK
	}
	return h.Context, nil
}

// WPUQueueApc implements provider.UpcallTable: the APC waits for RunAPCs.
func (u *Upcalls) WPUQueueApc(tid *provider.ThreadID, fn provider.APCFunc, context uintptr) error {
	if tid == nil || fn == nil {
		return wsa.WSAEFAULT
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.apcs = append(u.apcs, APC{Thread: *tid, Fn: fn, Context: context})
	u.notify()
	return nil
}

// WPUResetEvent implements provider.UpcallTable.
func (u *Upcalls) WPUResetEvent(h wsa.Handle) error {
	e := u.Event(h)
	if e == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	e.Reset()
	return nil
}

// WPUSetEvent implements provider.UpcallTable.
func (u *Upcalls) WPUSetEvent(h wsa.Handle) error {
	e := u.Event(h)
	if e == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	e.Set()
	return nil
}

// WPUOpenCurrentThread implements provider.UpcallTable: every call makes a
// new thread id.
func (u *Upcalls) WPUOpenCurrentThread() (provider.ThreadID, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h := wsa.Handle(u.alloc())
	u.threads[h] = true
	return provider.ThreadID{ThreadHandle: h}, nil
}

// WPUCloseThread implements provider.UpcallTable.
func (u *Upcalls) WPUCloseThread(tid *provider.ThreadID) error {
	if tid == nil {
		return wsa.WSAEFAULT
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.threads[tid.ThreadHandle] {
		return wsa.WSA_INVALID_HANDLE
	}
	delete(u.threads, tid.ThreadHandle)
	return nil
}

// WPUCompleteOverlappedRequest implements provider.UpcallTable: for a
// handle made by WPUCreateSocketHandle (else WSAEINVAL) it sets
// InternalHigh to the bytes, OffsetHigh to the error, Internal to the error
// (no longer WSS_OPERATION_IN_PROGRESS; InternalHigh and Internal
// atomically, Internal last, as the api does: wsa.HasOverlappedIoCompleted
// may be polling), records the completion and signals ov.HEvent if it is
// an event.
func (u *Upcalls) WPUCompleteOverlappedRequest(s wsa.Socket, ov *wsa.Overlapped, dwError uint32, cbTransferred uint32) error {
	if ov == nil {
		return wsa.WSAEFAULT
	}
	u.mu.Lock()
	h, ok := u.sockets[s]
	if !ok || h.IFS {
		u.mu.Unlock()
		return wsa.WSAEINVAL
	}
	ev := u.events[ov.HEvent] // read before Internal: ov is the caller's after that
	ov.OffsetHigh = dwError
	atomic.StoreUintptr(&ov.InternalHigh, uintptr(cbTransferred))
	atomic.StoreUintptr(&ov.Internal, uintptr(dwError))
	u.completions = append(u.completions, Completion{s, ov, dwError, cbTransferred})
	u.notify()
	u.mu.Unlock()
	if ev != nil {
		ev.Set()
	}
	return nil
}

// Event returns the event object of h, or nil.
func (u *Upcalls) Event(h wsa.Handle) *Event {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.events[h]
}

// Socket returns the handle-table entry of s.
func (u *Upcalls) Socket(s wsa.Socket) (SocketHandle, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h, ok := u.sockets[s]
	return h, ok
}

// Sockets returns how many socket handles are open.
func (u *Upcalls) Sockets() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.sockets)
}

// RunAPCs runs the queued APCs in order (those queued while running too) and
// returns how many ran: an alertable wait, in short.
func (u *Upcalls) RunAPCs() int {
	n := 0
	for {
		u.mu.Lock()
		if len(u.apcs) == 0 {
			u.mu.Unlock()
			return n
		}
		a := u.apcs[0]
		u.apcs = u.apcs[1:]
		u.mu.Unlock()
		a.Fn(a.Context)
		n++
	}
}

// Messages returns and removes the posted messages.
func (u *Upcalls) Messages() []Message {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.messages
	u.messages = nil
	return m
}

// WaitMessage removes and returns the oldest posted message, waiting up to
// d for one to be posted; false if none came.
func (u *Upcalls) WaitMessage(d time.Duration) (Message, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		u.mu.Lock()
		if len(u.messages) > 0 {
			m := u.messages[0]
			u.messages = u.messages[1:]
			u.mu.Unlock()
			return m, true
		}
		ch := u.changed
		u.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			return Message{}, false
		}
	}
}

// Completions returns and removes the recorded completions.
func (u *Upcalls) Completions() []Completion {
	u.mu.Lock()
	defer u.mu.Unlock()
	c := u.completions
	u.completions = nil
	return c
}

// WaitChange waits up to d for the next APC, message or completion and
// reports whether one came.
func (u *Upcalls) WaitChange(d time.Duration) bool {
	u.mu.Lock()
	ch := u.changed
	u.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

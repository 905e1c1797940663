package api

import (
	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

// WSACreateEvent is WSACreateEvent: a manual-reset, non-signalled event
// object in the Session's handle table. A full table is
// WSA_NOT_ENOUGH_MEMORY.
func (s *Session) WSACreateEvent() (wsa.Handle, error) {
	inst, err := s.started()
	if err != nil {
		return wsa.WSA_INVALID_EVENT, err
	}
	h, err := inst.newEvent()
	if err == wsa.WSAEMFILE {
		err = wsa.WSA_NOT_ENOUGH_MEMORY
	}
	return h, err
}

func (inst *instance) newEvent() (wsa.Handle, error) {
	h, err := inst.table.insert(&handleEntry{kind: kindEvent, event: winobj.NewEvent(true, false)})
	if err != nil {
		return wsa.WSA_INVALID_EVENT, err
	}
	return wsa.Handle(h), nil
}

// event returns the event object of h, or nil.
func (inst *instance) event(h wsa.Handle) *winobj.Event {
	if e := inst.table.object(h, kindEvent); e != nil {
		return e.event
	}
	return nil
}

// WSACloseEvent is WSACloseEvent: the handle is freed (its value may be
// reused at once), and waits blocked on the event fail with
// WSA_INVALID_HANDLE. A handle that is not an event of the Session is
// WSA_INVALID_HANDLE.
func (s *Session) WSACloseEvent(h wsa.Handle) error {
	inst, err := s.started()
	if err != nil {
		return err
	}
	return inst.closeHandle(h, kindEvent)
}

// closeHandle closes h if it is a live handle of kind k (any object kind
// when k is 0); else WSA_INVALID_HANDLE.
func (inst *instance) closeHandle(h wsa.Handle, k handleKind) error {
	e := inst.table.lookup(uintptr(h))
	if e == nil || (k != 0 && e.kind != k) || !closable(e.kind) || !inst.table.remove(e) {
		return wsa.WSA_INVALID_HANDLE
	}
	closeObject(e)
	return nil
}

func closable(k handleKind) bool { return k == kindEvent || k == kindPort || k == kindMsgQueue }

// closeObject ends the object of a freed handle, waking its waiters.
func closeObject(e *handleEntry) {
	switch e.kind {
	case kindEvent:
		_ = e.event.Close()
	case kindPort:
		_ = e.port.Close()
	case kindMsgQueue:
		_ = e.mq.Close()
	}
}

// WSASetEvent is WSASetEvent; a handle that is not an event of the Session is
// WSA_INVALID_HANDLE.
func (s *Session) WSASetEvent(h wsa.Handle) error {
	inst, err := s.started()
	if err != nil {
		return err
	}
	ev := inst.event(h)
	if ev == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	return ev.Set()
}

// WSAResetEvent is WSAResetEvent; a handle that is not an event of the
// Session is WSA_INVALID_HANDLE.
func (s *Session) WSAResetEvent(h wsa.Handle) error {
	inst, err := s.started()
	if err != nil {
		return err
	}
	ev := inst.event(h)
	if ev == nil {
		return wsa.WSA_INVALID_HANDLE
	}
	return ev.Reset()
}

// WSAWaitForMultipleEvents is WSAWaitForMultipleEvents
// (WaitForMultipleObjectsEx): it waits until one of events is signalled
// (waitAll false) or all of them are (waitAll true), for timeout
// milliseconds (WSA_INFINITE: no limit; 0: test and return). The result is
// WSA_WAIT_EVENT_0+i (the lowest signalled index for wait-any),
// WSA_WAIT_TIMEOUT, or WSA_WAIT_IO_COMPLETION when alertable is true and the
// wait ran completion routines queued to the Session (see "Completion
// routines" in the package doc). The events stay signalled: they are
// manual-reset.
//
// events may hold event objects and socket handles (a socket is signalled,
// as a file handle is in Windows, when an overlapped operation on it that
// has no hEvent completes, and reset when one starts).
//
// On failure the result is WSA_WAIT_FAILED with the reason:
// WSA_INVALID_PARAMETER for no events, more than WSA_MAXIMUM_WAIT_EVENTS
// (64), or one event twice in a wait-all; WSA_INVALID_HANDLE for a handle
// that is neither an event nor a socket of the Session, or an event closed
// during the wait; WSANOTINITIALISED when WSACleanup ends the wait.
func (s *Session) WSAWaitForMultipleEvents(events []wsa.Handle, waitAll bool, timeout uint32, alertable bool) (uint32, error) {
	inst, err := s.started()
	if err != nil {
		return wsa.WSA_WAIT_FAILED, err
	}
	if len(events) == 0 || len(events) > wsa.WSA_MAXIMUM_WAIT_EVENTS {
		return wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_PARAMETER
	}
	var buf [4]*winobj.Event // the usual few, without an allocation
	objs := buf[:0]
	if len(events) > len(buf) {
		objs = make([]*winobj.Event, 0, len(events))
	}
	objs = objs[:len(events)]
	for i, h := range events {
		switch e := inst.table.lookup(uintptr(h)); {
		case e == nil:
			return wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_HANDLE
		case e.kind == kindEvent:
			objs[i] = e.event
		case e.kind == kindSocket:
			objs[i] = e.sock.ioEvent()
		default:
			return wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_HANDLE
		}
	}
	var apc *winobj.APCQueue
	if alertable {
		apc = inst.apc
	}
	r, err := winobj.Wait(objs, waitAll, winobj.Millis(timeout), apc)
	if err != nil && inst.dead.Load() {
		err = wsa.WSANOTINITIALISED
	}
	return r, err
}

// SleepEx is SleepEx: it suspends the calling goroutine for ms milliseconds
// (WSA_INFINITE: forever) and returns 0. With alertable true the sleep is an
// alertable wait on the Session's APC queue: queued completion routines run
// in the calling goroutine at once, or when they are queued during the
// sleep, and SleepEx then returns WSA_WAIT_IO_COMPLETION. On a Session that
// is not started the sleep is not alertable. SleepEx(0, false) yields.
func (s *Session) SleepEx(ms uint32, alertable bool) uint32 {
	var apc *winobj.APCQueue
	if inst, err := s.started(); err == nil && alertable {
		apc = inst.apc
	}
	return winobj.SleepEx(winobj.Millis(ms), apc)
}

// CloseHandle is CloseHandle for the Session's kernel objects: an event
// object, a completion port (its blocked GetQueuedCompletionStatus calls
// return ERROR_ABANDONED_WAIT_0) or a message queue (as
// DestroyMessageQueue). Sockets are closed with Closesocket, as MSL asks:
// a socket handle, like any handle that is not such an object, is
// WSA_INVALID_HANDLE.
func (s *Session) CloseHandle(h wsa.Handle) error {
	inst, err := s.started()
	if err != nil {
		return err
	}
	return inst.closeHandle(h, 0)
}

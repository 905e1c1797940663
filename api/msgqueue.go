package api

import (
	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

// Msg is MSG as GetMessage and PeekMessage fill it, for the messages
// WSAAsyncSelect posts: Message is the wMsg given to WSAAsyncSelect, WParam
// the socket, LParam WSAMAKESELECTREPLY(event, error) (read it with
// wsa.WSAGETSELECTEVENT and wsa.WSAGETSELECTERROR).
type Msg struct {
	HWnd    wsa.Handle
	Message uint32
	WParam  uintptr
	LParam  uintptr
}

// PeekMessage's wRemoveMsg (winuser.h).
const (
	PM_NOREMOVE = 0x0000
	PM_REMOVE   = 0x0001
)

// CreateMessageQueue makes a message queue that stands for a window (an
// HWND) for WSAAsyncSelect: the message-only window a Windows program
// creates with CreateWindowEx(…, HWND_MESSAGE, …) to receive socket
// notifications, without the window. It holds up to 10,000 messages
// (Windows' default posted-message quota); a post to a full queue fails in
// the provider, as PostMessage does. Destroy it with DestroyMessageQueue (or
// CloseHandle). A full handle table is WSA_NOT_ENOUGH_MEMORY.
func (s *Session) CreateMessageQueue() (wsa.Handle, error) {
	inst, err := s.started()
	if err != nil {
		return 0, err
	}
	h, err := inst.table.insert(&handleEntry{kind: kindMsgQueue, mq: winobj.NewMessageQueue()})
	if err == wsa.WSAEMFILE {
		err = wsa.WSA_NOT_ENOUGH_MEMORY
	}
	if err != nil {
		return 0, err
	}
	return wsa.Handle(h), nil
}

// DestroyMessageQueue is DestroyWindow for a queue of CreateMessageQueue:
// queued messages are discarded and a blocked GetMessage returns
// WSA_INVALID_HANDLE. Sockets still registered with WSAAsyncSelect for it
// post no more (their posts fail). A handle that is not a message queue of
// the Session is WSA_INVALID_HANDLE.
func (s *Session) DestroyMessageQueue(hwnd wsa.Handle) error {
	inst, err := s.started()
	if err != nil {
		return err
	}
	return inst.closeHandle(hwnd, kindMsgQueue)
}

func (s *Session) msgQueue(hwnd wsa.Handle) (*instance, *winobj.MessageQueue, error) {
	inst, err := s.started()
	if err != nil {
		return nil, nil, err
	}
	e := inst.table.object(hwnd, kindMsgQueue)
	if e == nil {
		return nil, nil, wsa.WSA_INVALID_HANDLE
	}
	return inst, e.mq, nil
}

// GetMessage is GetMessage for one queue: it removes the oldest message of
// hwnd, waiting for one up to timeout milliseconds (WSA_INFINITE: the
// GetMessage wait; a finite timeout is what MsgWaitForMultipleObjects adds).
// Errors: WAIT_TIMEOUT when the time passed; WSA_INVALID_HANDLE for a handle
// that is not a message queue of the Session or one destroyed during the
// wait (GetMessage's -1); WSANOTINITIALISED when WSACleanup ends the wait.
func (s *Session) GetMessage(hwnd wsa.Handle, timeout uint32) (Msg, error) {
	inst, q, err := s.msgQueue(hwnd)
	if err != nil {
		return Msg{}, err
	}
	m, err := q.Get(winobj.Millis(timeout), inst.done)
	switch {
	case err == nil:
		return Msg(m), nil
	case inst.dead.Load() || err == wsa.WSAEINTR:
		return Msg{}, wsa.WSANOTINITIALISED
	case err == wsa.ERROR_ABANDONED_WAIT_0:
		return Msg{}, wsa.WSA_INVALID_HANDLE
	}
	return Msg{}, err
}

// PeekMessage is PeekMessage for one queue: the oldest message of hwnd
// without waiting, removed with PM_REMOVE and left queued with PM_NOREMOVE
// (other bits of removeMsg, such as PM_NOYIELD, are ignored). ok is false
// when the queue is empty. A handle that is not a message queue of the
// Session is WSA_INVALID_HANDLE.
func (s *Session) PeekMessage(hwnd wsa.Handle, removeMsg uint32) (m Msg, ok bool, err error) {
	_, q, err := s.msgQueue(hwnd)
	if err != nil {
		return Msg{}, false, err
	}
	wm, ok := q.Peek(removeMsg&PM_REMOVE != 0)
	return Msg(wm), ok, nil
}

package winobj

import (
	"sync"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// Msg is a posted window message (the MSG fields WSAAsyncSelect fills):
// wParam is the socket, lParam MAKELONG(event, error).
type Msg struct {
	HWnd    wsa.Handle
	Message uint32
	WParam  uintptr
	LParam  uintptr
}

// MaxPostedMessages is how many messages a [MessageQueue] holds before Post
// fails, Windows' default USERPostMessageLimit.
const MaxPostedMessages = 10000

// ErrNotEnoughQuota is the error of a Post to a full [MessageQueue]: the
// Win32 code ERROR_NOT_ENOUGH_QUOTA (1816) that PostMessage fails with.
const ErrNotEnoughQuota wsa.Errno = 1816

// MessageQueue stands for a window's (a thread's) posted-message queue, the
// one WSAAsyncSelect notifications go to. Messages come out in the order
// they were posted. It is meant to have one reader, like a thread's message
// loop; several readers work, but each new message wakes all of them.
//
// The zero MessageQueue is not usable; make one with [NewMessageQueue]. All
// methods are safe for concurrent use.
type MessageQueue struct {
	mu     sync.Mutex
	msgs   fifo[Msg]
	closed bool
	// ready is closed while messages are queued or the queue is closed.
	ready chan struct{}
}

// NewMessageQueue makes an empty message queue.
func NewMessageQueue() *MessageQueue { return &MessageQueue{ready: make(chan struct{})} }

// Post appends m (PostMessage). It fails with [ErrNotEnoughQuota] when
// [MaxPostedMessages] are queued, and with WSA_INVALID_HANDLE after
// [MessageQueue.Close].
func (q *MessageQueue) Post(m Msg) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return wsa.WSA_INVALID_HANDLE
	}
	if q.msgs.len() >= MaxPostedMessages {
		return ErrNotEnoughQuota
	}
	q.msgs.push(m)
	if q.msgs.len() == 1 {
		close(q.ready)
	}
	return nil
}

// Get removes the oldest message, blocking until there is one (GetMessage).
// It gives up when timeout passes ([Infinite] or negative: never; 0: poll)
// with wsa.WAIT_TIMEOUT, when cancel is closed (nil: never) with
// wsa.WSAEINTR, and when the queue is closed, before or during the call,
// with wsa.ERROR_ABANDONED_WAIT_0.
func (q *MessageQueue) Get(timeout time.Duration, cancel <-chan struct{}) (Msg, error) {
	dl := newDeadline(timeout)
	defer dl.stop()
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return Msg{}, wsa.ERROR_ABANDONED_WAIT_0
		}
		if q.msgs.len() > 0 {
			m := q.popLocked()
			q.mu.Unlock()
			return m, nil
		}
		ready := q.ready
		q.mu.Unlock()
		if timeout == 0 {
			return Msg{}, wsa.WAIT_TIMEOUT
		}
		select {
		case <-ready:
		case <-dl.C():
			return Msg{}, wsa.WAIT_TIMEOUT
		case <-cancel:
			return Msg{}, wsa.WSAEINTR
		}
	}
}

// Peek returns the oldest message without waiting (PeekMessage), removing
// it if remove is true (PM_REMOVE) or leaving it queued (PM_NOREMOVE). ok is
// false if the queue is empty or closed.
func (q *MessageQueue) Peek(remove bool) (m Msg, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.msgs.len() == 0 {
		return Msg{}, false
	}
	if !remove {
		return q.msgs.peek(), true
	}
	return q.popLocked(), true
}

// Len returns the number of queued messages.
func (q *MessageQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.msgs.len()
}

// Close ends the queue, as destroying its window does: queued messages are
// discarded, blocked and later Get calls return wsa.ERROR_ABANDONED_WAIT_0,
// and Post fails with WSA_INVALID_HANDLE. Closing twice fails with
// WSA_INVALID_HANDLE.
func (q *MessageQueue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return wsa.WSA_INVALID_HANDLE
	}
	q.closed = true
	if q.msgs.len() == 0 {
		close(q.ready)
	}
	q.msgs.clear()
	return nil
}

func (q *MessageQueue) popLocked() Msg {
	m := q.msgs.pop()
	if q.msgs.len() == 0 {
		q.ready = make(chan struct{})
	}
	return m
}

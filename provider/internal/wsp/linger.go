package wsp

import (
	"sync"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// LingerTransport is the transport side of a lingering closesocket (spec
// §5.6) on a connected stream socket, for LingerClose. Its methods are
// called with the socket's lock held.
type LingerTransport interface {
	// SendFINLocked shuts the sending side (after the queued data).
	SendFINLocked()
	// GraceLocked is how long a non-blocking close waits for its FIN to be
	// acknowledged before failing WSAEWOULDBLOCK.
	GraceLocked(linger time.Duration) time.Duration
	// FinAckedLocked reports whether everything sent, FIN included, is
	// acknowledged (or there is nothing left to wait for).
	FinAckedLocked() bool
	// FinAckedFunc is FinAckedLocked as a function to call without the lock.
	FinAckedFunc() func() bool
	// AbortLocked makes the close abortive (RST).
	AbortLocked()
	// FinishCloseLocked closes the socket.
	FinishCloseLocked()
}

// LingerClose carries out a lingering close with l_linger timeout > 0 on
// a connected stream socket: mu (held on entry, released on return) is the
// socket's lock, rd its readiness, closing set while the lock is released
// to wait, lingering and lingerEnd the state of a non-blocking close
// across calls. A blocking socket sends its FIN and waits up to timeout
// for it to be acknowledged, resetting the connection if it is not. A
// non-blocking one starts that on the first call and waits up to
// GraceLocked; it fails WSAEWOULDBLOCK (leaving the socket open) while the
// FIN is unacknowledged and timeout has not passed since the first call,
// and resets the connection once it has. A socket closed meanwhile
// (WSPCleanup) is left as it is.
func LingerClose(mu sync.Locker, rd *Readiness, closing, lingering *bool, lingerEnd *time.Time, nonblocking bool, timeout time.Duration, t LingerTransport) error {
	if nonblocking {
		if !*lingering {
			*lingering = true
			*lingerEnd = time.Now().Add(timeout)
			t.SendFINLocked()
			// "Immediately" is a round trip: with nothing outstanding the
			// FIN is acknowledged within it.
			acked, grace := t.FinAckedFunc(), t.GraceLocked(timeout)
			*closing = true
			mu.Unlock()
			rd.WaitFor(time.Now().Add(grace), acked)
			mu.Lock()
			*closing = false
			if rd.IsClosed() {
				mu.Unlock()
				return nil
			}
		}
		switch {
		case t.FinAckedLocked():
		case time.Now().After(*lingerEnd):
			t.AbortLocked()
		default:
			mu.Unlock()
			return wsa.WSAEWOULDBLOCK
		}
		t.FinishCloseLocked()
		mu.Unlock()
		return nil
	}
	// Blocking: send FIN after the queued data, wait until it is all
	// acknowledged or the time is up.
	t.SendFINLocked()
	acked := t.FinAckedFunc()
	*closing = true
	mu.Unlock()
	done := rd.WaitFor(time.Now().Add(timeout), acked)
	mu.Lock()
	defer mu.Unlock()
	*closing = false
	if rd.IsClosed() {
		return nil // closed meanwhile (WSPCleanup)
	}
	if !done {
		t.AbortLocked()
	}
	t.FinishCloseLocked()
	return nil
}

// CloseSocket is the frame of WSPCloseSocket once h is resolved and up
// obtained: close (the provider's linger rules) runs first, and its error
// (WSAEWOULDBLOCK, say) leaves the socket open; then the socket's pending
// overlapped operations (qs) complete with WSA_OPERATION_ABORTED and the
// handle is released with WPUCloseSocketHandle.
func CloseSocket(up provider.UpcallTable, h wsa.Socket, qs *Queues, close func() error) error {
	if err := close(); err != nil {
		return err
	}
	qs.Abort() // pending overlapped work: WSA_OPERATION_ABORTED
	_ = up.WPUCloseSocketHandle(h)
	return nil
}

// Disconnect is WSPSendDisconnect and WSPRecvDisconnect once the socket is
// resolved: TCP/IP has no disconnect data, so non-empty data fails
// WSAENOPROTOOPT; otherwise shutdown runs.
func Disconnect(data []byte, shutdown func() error) error {
	if len(data) != 0 {
		return wsa.WSAENOPROTOOPT
	}
	return shutdown()
}

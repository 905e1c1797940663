package netstack

import (
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Overlapped I/O (spec §2.6, §5.5): the queue engine is wsp's (wsp.Queues:
// ordered per-socket queues, tried at once and then by the socket's pump
// when the readiness core reports an event; cancellation; completion
// through provider.CompleteOverlapped). This provider supplies the
// operations' non-blocking try steps, built from the steps the blocking
// calls use (tryRecvStream, trySendStream, tryRecvDgram, trySendDgram, ...;
// overlapped_data.go, ext_*.go).

// WSPCancelIo implements provider.Canceler: CancelIo (ov nil: every
// pending overlapped operation issued on the socket) and CancelIoEx (the
// one of ov). Each completes with WSA_OPERATION_ABORTED through its usual
// mechanism; nothing pending is wsa.ERROR_NOT_FOUND. Operations already
// completing are not cancelled (they complete with their result).
func (ss *session) WSPCancelIo(h wsa.Socket, ov *wsa.Overlapped) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	return s.ovq.CancelIo(ov)
}

var _ provider.Canceler = (*session)(nil)

// WSPGetOverlappedResult is WSAGetOverlappedResult for an operation issued
// on this provider: the bytes transferred and flags, and nil or the
// operation's WSAE* error (see wsp.Queues.GetOverlappedResult). ov nil is
// WSAEFAULT; a pending operation WSA_IO_INCOMPLETE unless wait, which
// blocks until it completes, without polling. The api waits on ov.HEvent
// before calling with wait true, as Windows does.
func (ss *session) WSPGetOverlappedResult(h wsa.Socket, ov *wsa.Overlapped, wait bool) (uint32, uint32, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return 0, 0, err
	}
	return s.ovq.GetOverlappedResult(ov, wait)
}

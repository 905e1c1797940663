package host

import (
	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// Overlapped WSPRecv/WSPRecvFrom and WSPSend/WSPSendTo: operations of the
// socket's receive and send queues (wsp.Queues), tried at once and then
// by the socket's pump when the epoll goroutine reports an event.
//
// An overlapped call (ov != nil on a socket made with WSA_FLAG_OVERLAPPED;
// on another socket ov is ignored and the call blocks, as MSL says) makes
// the same checks as the ordinary call and fails at once with the same
// errors. It ignores FIONBIO (never WSAEWOULDBLOCK) and
// SO_RCVTIMEO/SO_SNDTIMEO.
//
//   - Stream receive: completes when data (or the FIN: 0 bytes) is there,
//     with what the buffers took; MSG_WAITALL holds it until the buffers are
//     full, the connection closes or fails (allowed on a non-blocking
//     socket; WSAEOPNOTSUPP with MSG_PEEK); MSG_PEEK copies without
//     consuming. Zero-length buffers make a readiness probe: it completes
//     with 0 bytes when data or the FIN arrives (or the connection fails,
//     with that error) and consumes nothing.
//   - Datagram receive: one datagram; one larger than the buffers fills
//     them and completes with WSAEMSGSIZE and bytes = the buffers' size (the
//     rest is discarded); *from is written at completion. When that happens
//     at once, the completion is delivered all the same and the call
//     returns WSAEMSGSIZE with the bytes (the SPI's one exception to "an
//     error at once did not start").
//   - Send: completes when all the data is buffered (stream) or the
//     datagram is sent.

// overlappedRecv is WSPRecvFrom with an OVERLAPPED.
func (s *socket) overlappedRecv(up provider.UpcallTable, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	var f uint32
	if flags != nil {
		f = *flags
		*flags = 0
	}
	defer s.rd.Events.Reenable(wsa.FD_READ | wsa.FD_OOB)
	op := s.ovq.NewOp(up, ov, cr, tid)
	var err error
	if s.stream {
		err = s.streamRecvOp(op, bufs, f)
	} else {
		err = s.dgramRecvOp(op, bufs, f, from)
	}
	if err != nil {
		return 0, err
	}
	n, _, err := s.ovq.Submit(&s.ovq.Recv, op)
	return n, err
}

func (s *socket) streamRecvOp(op *wsp.Op, bufs [][]byte, f uint32) error {
	if _, err := s.checkRecvStream(f, true); err != nil {
		return err
	}
	if wsp.BufLen(bufs) == 0 {
		op.Try = func() (uint32, uint32, error) { return 0, 0, s.probeStream() }
		return nil
	}
	w := &scatter{bufs: bufs}
	op.Try = func() (uint32, uint32, error) {
		err := s.tryRecvStream(w, f)
		return uint32(w.n), 0, err
	}
	op.Partial = func() uint32 { return uint32(w.n) }
	return nil
}

// probeStream is the try step of a zero-byte stream receive: nil when data
// or the FIN is there (nothing is consumed), the connection's error if it
// failed, WSAEWOULDBLOCK otherwise.
func (s *socket) probeStream() error {
	s.mu.Lock()
	shut, connErr := s.shutRecv, s.connErr
	s.mu.Unlock()
	switch {
	case shut:
		return wsa.WSAESHUTDOWN
	case connErr != nil:
		return connErr
	}
	var rev int16
	if err := s.sysFD(func(fd int) error { rev = revents(fd); return nil }); err != nil {
		return err
	}
	if rev&(unix.POLLIN|unix.POLLHUP|unix.POLLERR|unix.POLLRDHUP) == 0 {
		return wsa.WSAEWOULDBLOCK
	}
	// Data, the FIN or an error: a one-byte peek tells which.
	var b [1]byte
	return s.tryRecvStream(&scatter{bufs: [][]byte{b[:]}}, wsa.MSG_PEEK)
}

func (s *socket) dgramRecvOp(op *wsp.Op, bufs [][]byte, f uint32, from *wsa.Sockaddr) error {
	if err := s.checkRecvDgram(f); err != nil {
		return err
	}
	peek := f&wsa.MSG_PEEK != 0
	op.Try = func() (uint32, uint32, error) {
		n, src, err := s.tryRecvDgram(bufs, peek, nil)
		if err != nil && err != wsa.WSAEMSGSIZE {
			return 0, 0, err
		}
		if from != nil {
			*from = src
		}
		return uint32(n), 0, err
	}
	return nil
}

// overlappedSend is WSPSendTo with an OVERLAPPED.
func (s *socket) overlappedSend(up provider.UpcallTable, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	op := s.ovq.NewOp(up, ov, cr, tid)
	if s.stream {
		if err := s.checkSendStream(flags); err != nil {
			return 0, err
		}
		total, sent := wsp.BufLen(bufs), 0
		op.Try = func() (uint32, uint32, error) {
			for sent < total {
				n, err := s.trySendStream(bufs, sent, flags)
				sent += n
				if err != nil {
					return uint32(sent), 0, err
				}
			}
			return uint32(sent), 0, nil
		}
		op.Partial = func() uint32 { return uint32(sent) }
	} else {
		dst, total, err := s.prepSendDgram(bufs, flags, to)
		if err != nil {
			return 0, err
		}
		op.Try = func() (uint32, uint32, error) {
			if err := s.trySendDgram(bufs, dst, nil); err != nil {
				return 0, 0, err
			}
			return uint32(total), 0, nil
		}
	}
	n, _, err := s.ovq.Submit(&s.ovq.Send, op)
	return n, err
}

// WSPCancelIo implements provider.Canceler: CancelIo (ov nil: every
// pending overlapped operation issued on the socket) and CancelIoEx (the
// one of ov). Each completes with WSA_OPERATION_ABORTED through its usual
// mechanism; nothing pending is wsa.ERROR_NOT_FOUND.
func (ss *session) WSPCancelIo(h wsa.Socket, ov *wsa.Overlapped) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	return s.ovq.CancelIo(ov)
}

// WSPGetOverlappedResult is WSAGetOverlappedResult for an operation issued
// on this provider: the bytes transferred and flags, and nil or the
// operation's WSAE* error (see wsp.Queues.GetOverlappedResult). ov nil is
// WSAEFAULT; a pending operation WSA_IO_INCOMPLETE unless wait, which
// blocks until it completes.
func (ss *session) WSPGetOverlappedResult(h wsa.Socket, ov *wsa.Overlapped, wait bool) (uint32, uint32, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return 0, 0, err
	}
	return s.ovq.GetOverlappedResult(ov, wait)
}

package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// Overlapped WSPRecv/WSPRecvFrom, WSPSend/WSPSendTo and WSPIoctl.
//
// An overlapped call (ov != nil on a socket made with WSA_FLAG_OVERLAPPED;
// on another socket ov is ignored and the call blocks, as MSL says) makes
// the same checks as the ordinary call and fails at once with the same
// errors; then it is an operation of the socket's receive or send queue (see
// overlapped.go). It ignores FIONBIO (never WSAEWOULDBLOCK) and
// SO_RCVTIMEO/SO_SNDTIMEO.
//
//   - Stream receive: completes when data (or the FIN: 0 bytes) is there,
//     with what the buffers took; MSG_WAITALL holds it until the buffers are
//     full, the connection closes or fails (allowed on a non-blocking
//     socket; WSAEOPNOTSUPP with MSG_PEEK); MSG_PEEK copies without
//     consuming. Zero-length buffers make a readiness probe: it completes
//     with 0 bytes when data or the FIN arrives (or the connection fails,
//     with that error) and consumes nothing.
//   - Datagram receive: one datagram; one larger than the buffers fills them
//     and completes with WSAEMSGSIZE and bytes = the buffers' size (the rest
//     is discarded); *from is written at completion. When that happens at
//     once, the completion is delivered all the same (event, completion
//     port packet, completion routine) and the call returns WSAEMSGSIZE
//     with the bytes: Windows completes the request with the warning
//     STATUS_BUFFER_OVERFLOW, and the SPI makes WSAEMSGSIZE from an
//     overlapped receive the one error that means "completed" (see
//     provider.ProcTable).
//   - Send: completes when all the data is buffered (stream) or the
//     datagram is sent.
//
// A pending receive or send completes with the error the ordinary call would
// return (WSAECONNRESET, WSAESHUTDOWN, ...) when the connection fails or is
// shut down meanwhile.

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

// checkRecvStream makes the checks of a stream receive with flags f, for
// an overlapped call (non-blocking mode does not matter); it returns peek
// and waitall.
func (s *socket) checkRecvStream(f uint32) (peek, waitall bool, err error) {
	if f&^recvFlags != 0 {
		return false, false, wsa.WSAEINVAL
	}
	s.mu.Lock()
	oobInline := s.opts.OOBInline
	st := s.pollConnectLocked()
	shut, connErr, listening := s.shutRecv, s.connErr, s.listening
	s.mu.Unlock()
	peek, waitall = f&wsa.MSG_PEEK != 0, f&wsa.MSG_WAITALL != 0
	switch {
	case f&wsa.MSG_OOB != 0 && oobInline:
		return false, false, wsa.WSAEINVAL
	case f&wsa.MSG_OOB != 0:
		return false, false, wsa.WSAEOPNOTSUPP
	case waitall && peek:
		return false, false, wsa.WSAEOPNOTSUPP
	case listening || st != connDone:
		return false, false, wsa.WSAENOTCONN
	case shut:
		return false, false, wsa.WSAESHUTDOWN
	case connErr != nil:
		return false, false, connErr
	}
	return peek, waitall, nil
}

func (s *socket) streamRecvOp(op *wsp.Op, bufs [][]byte, f uint32) error {
	peek, waitall, err := s.checkRecvStream(f)
	if err != nil {
		return err
	}
	if bufLen(bufs) == 0 {
		op.Try = func() (uint32, uint32, error) { return 0, 0, s.probeStream() }
		return nil
	}
	w := &scatterWriter{bufs: bufs}
	op.Try = func() (uint32, uint32, error) {
		err := s.tryRecvStream(w, peek, waitall)
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
	ep, shut, connErr := s.ep, s.shutRecv, s.connErr
	s.mu.Unlock()
	switch {
	case shut:
		return wsa.WSAESHUTDOWN
	case connErr != nil:
		return connErr
	case ep.Readiness(waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr) == 0:
		return wsa.WSAEWOULDBLOCK
	}
	// Data, the FIN or an error: a one-byte peek tells which.
	var b [1]byte
	return s.tryRecvStream(&scatterWriter{bufs: [][]byte{b[:]}}, true, false)
}

func (s *socket) dgramRecvOp(op *wsp.Op, bufs [][]byte, f uint32, from *wsa.Sockaddr) error {
	if f&^recvFlags != 0 {
		return wsa.WSAEINVAL
	}
	if f&(wsa.MSG_OOB|wsa.MSG_WAITALL) != 0 {
		return wsa.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	bound, shut := s.bound, s.shutRecv
	s.mu.Unlock()
	switch {
	case !bound:
		return wsa.WSAEINVAL
	case shut:
		return wsa.WSAESHUTDOWN
	}
	peek := f&wsa.MSG_PEEK != 0
	op.Try = func() (uint32, uint32, error) {
		w := &scatterWriter{bufs: bufs, discard: true}
		src, err := s.tryRecvDgram(w, peek)
		if err != nil && err != wsa.WSAEMSGSIZE {
			return 0, 0, err
		}
		if from != nil {
			*from = fromFull(s.af, src)
		}
		return uint32(w.n), 0, err
	}
	return nil
}

// overlappedSend is WSPSendTo with an OVERLAPPED.
func (s *socket) overlappedSend(up provider.UpcallTable, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	op := s.ovq.NewOp(up, ov, cr, tid)
	var err error
	if s.stream {
		err = s.streamSendOp(op, bufs, flags)
	} else {
		var dst *tcpip.FullAddress
		var total int
		dst, total, err = s.prepSendDgram(bufs, flags, to)
		op.Try = func() (uint32, uint32, error) {
			if err := s.trySendDgram(bufs, dst); err != nil {
				return 0, 0, err
			}
			return uint32(total), 0, nil
		}
	}
	if err != nil {
		return 0, err
	}
	n, _, err := s.ovq.Submit(&s.ovq.Send, op)
	return n, err
}

// checkSendStream makes the checks of a stream send with flags f.
func (s *socket) checkSendStream(f uint32) error {
	if f&^sendFlags != 0 {
		return wsa.WSAEINVAL
	}
	s.mu.Lock()
	oobInline := s.opts.OOBInline
	st := s.pollConnectLocked()
	shut, connErr, listening := s.shutSend, s.connErr, s.listening
	s.mu.Unlock()
	switch {
	case f&wsa.MSG_OOB != 0 && oobInline:
		return wsa.WSAEINVAL
	case f&(wsa.MSG_OOB|wsa.MSG_PARTIAL) != 0:
		return wsa.WSAEOPNOTSUPP
	case shut:
		return wsa.WSAESHUTDOWN
	case listening || st != connDone:
		return wsa.WSAENOTCONN
	case connErr != nil:
		return connErr
	}
	return nil
}

func (s *socket) streamSendOp(op *wsp.Op, bufs [][]byte, f uint32) error {
	if err := s.checkSendStream(f); err != nil {
		return err
	}
	total, sent := bufLen(bufs), 0
	op.Try = func() (uint32, uint32, error) {
		if err := s.sendAll(bufs, total, &sent); err != nil {
			return uint32(sent), 0, err
		}
		return uint32(sent), 0, nil
	}
	op.Partial = func() uint32 { return uint32(sent) }
	return nil
}

// sendAll is the try step of sending all of bufs (total bytes) on a stream,
// *sent of them already: WSAEWOULDBLOCK until everything is buffered.
func (s *socket) sendAll(bufs [][]byte, total int, sent *int) error {
	for *sent < total {
		n, err := s.trySendStream(bufs, *sent)
		*sent += n
		if err != nil {
			return err
		}
	}
	return nil
}

// prepSendDgram makes the checks of a datagram send (as sendDgram) and binds
// the socket implicitly; it returns the destination (nil: the connected
// peer) and the datagram's size.
func (s *socket) prepSendDgram(bufs [][]byte, f uint32, to wsa.Sockaddr) (*tcpip.FullAddress, int, error) {
	if s.raw != nil {
		return s.prepSendRaw(bufs, f, to) // raw.go
	}
	if f&^sendFlags != 0 {
		return nil, 0, wsa.WSAEINVAL
	}
	if f&(wsa.MSG_OOB|wsa.MSG_PARTIAL) != 0 {
		return nil, 0, wsa.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutSend {
		return nil, 0, wsa.WSAESHUTDOWN
	}
	v4 := s.af == wsa.AF_INET
	var dst *tcpip.FullAddress
	if to != nil {
		a, err := parseAddr(s.af, to)
		if err == nil {
			err = s.checkPeerLocked(a)
		}
		if err == nil && isBroadcast(a.unmapped()) && !s.opts.Broadcast {
			err = wsa.WSAEACCES
		}
		if err != nil {
			return nil, 0, err
		}
		fa := a.full()
		dst = &fa
		v4 = a.unmapped().Is4()
	} else if !s.udpPeer {
		return nil, 0, wsa.WSAENOTCONN
	} else if fa, terr := s.ep.GetRemoteAddress(); terr == nil {
		v4 = fa.Addr.Len() == 4
	}
	limit := maxUDP6
	if v4 {
		limit = maxUDP4
	}
	total := bufLen(bufs)
	if total > limit {
		return nil, 0, wsa.WSAEMSGSIZE
	}
	if err := s.implicitBindLocked(); err != nil {
		return nil, 0, err
	}
	return dst, total, nil
}

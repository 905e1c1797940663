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
	var op *wsp.Op
	var err error
	if s.stream {
		op, err = s.streamRecvOp(bufs, f)
	} else {
		op, err = s.dgramRecvOp(bufs, f, from)
	}
	if err != nil {
		return 0, err
	}
	s.ovq.InitOp(op, up, ov, cr, tid)
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

// streamRecvOp makes the operation of an overlapped stream receive (its
// Op not yet initialised), after the checks.
func (s *socket) streamRecvOp(bufs [][]byte, f uint32) (*wsp.Op, error) {
	peek, waitall, err := s.checkRecvStream(f)
	if err != nil {
		return nil, err
	}
	if bufLen(bufs) == 0 {
		r := &probeReq{s: s}
		r.op.Step = r
		return &r.op, nil
	}
	r := &streamRecvReq{s: s, w: scatterWriter{bufs: bufs}, peek: peek, waitall: waitall}
	r.op.Step = r
	return &r.op, nil
}

// streamRecvReq is an overlapped stream receive: its Op and its state in
// one allocation.
type streamRecvReq struct {
	op            wsp.Op
	s             *socket
	w             scatterWriter
	peek, waitall bool
}

// Try implements wsp.Step.
func (r *streamRecvReq) Try() (uint32, uint32, error) {
	err := r.s.tryRecvStream(&r.w, r.peek, r.waitall)
	return uint32(r.w.n), 0, err
}

// Partial implements wsp.Step.
func (r *streamRecvReq) Partial() uint32 { return uint32(r.w.n) }

// probeReq is an overlapped zero-byte stream receive (a readiness probe):
// its Op and its state in one allocation.
type probeReq struct {
	op wsp.Op
	s  *socket
}

// Try implements wsp.Step.
func (r *probeReq) Try() (uint32, uint32, error) { return 0, 0, r.s.probeStream() }

// Partial implements wsp.Step: a probe transfers nothing.
func (r *probeReq) Partial() uint32 { return 0 }

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

// dgramRecvOp makes the operation of an overlapped datagram receive (its
// Op not yet initialised), after the checks.
func (s *socket) dgramRecvOp(bufs [][]byte, f uint32, from *wsa.Sockaddr) (*wsp.Op, error) {
	if f&^recvFlags != 0 {
		return nil, wsa.WSAEINVAL
	}
	if f&(wsa.MSG_OOB|wsa.MSG_WAITALL) != 0 {
		return nil, wsa.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	bound, shut := s.bound, s.shutRecv
	s.mu.Unlock()
	switch {
	case !bound:
		return nil, wsa.WSAEINVAL
	case shut:
		return nil, wsa.WSAESHUTDOWN
	}
	r := &dgramRecvReq{s: s, bufs: bufs, from: from, peek: f&wsa.MSG_PEEK != 0}
	r.op.Step = r
	return &r.op, nil
}

// dgramRecvReq is an overlapped datagram receive: its Op and its state in
// one allocation.
type dgramRecvReq struct {
	op   wsp.Op
	s    *socket
	bufs [][]byte
	from *wsa.Sockaddr
	peek bool
	w    scatterWriter
}

// Try implements wsp.Step.
func (r *dgramRecvReq) Try() (uint32, uint32, error) {
	r.w = scatterWriter{bufs: r.bufs, discard: true}
	src, err := r.s.tryRecvDgram(&r.w, r.peek)
	if err != nil && err != wsa.WSAEMSGSIZE {
		return 0, 0, err
	}
	if r.from != nil {
		*r.from = fromFull(r.s.af, src)
	}
	return uint32(r.w.n), 0, err
}

// Partial implements wsp.Step: a datagram is received whole or not at all.
func (r *dgramRecvReq) Partial() uint32 { return 0 }

// overlappedSend is WSPSendTo with an OVERLAPPED.
func (s *socket) overlappedSend(up provider.UpcallTable, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	r := &sendReq{s: s, bufs: bufs}
	r.op.Step = r
	if s.stream {
		if err := s.checkSendStream(flags); err != nil {
			return 0, err
		}
		r.total = bufLen(bufs)
	} else {
		var err error
		if r.dst, r.total, err = s.prepSendDgram(bufs, flags, to); err != nil {
			return 0, err
		}
	}
	s.ovq.InitOp(&r.op, up, ov, cr, tid)
	n, _, err := s.ovq.Submit(&s.ovq.Send, &r.op)
	return n, err
}

// sendReq is an overlapped send: its Op and its state in one allocation.
type sendReq struct {
	op    wsp.Op
	s     *socket
	bufs  [][]byte
	total int
	sent  int                // stream: bytes buffered so far
	dst   *tcpip.FullAddress // datagram: destination, nil for the peer
	g     gatherReader
}

// Try implements wsp.Step: a stream send completes once all of the data is
// buffered, a datagram send once the datagram is sent.
func (r *sendReq) Try() (uint32, uint32, error) {
	if r.s.stream {
		err := r.s.sendAllWith(&r.g, r.bufs, r.total, &r.sent)
		return uint32(r.sent), 0, err
	}
	if err := r.s.trySendDgramOpts(&r.g, r.bufs, tcpip.WriteOptions{To: r.dst}); err != nil {
		return 0, 0, err
	}
	return uint32(r.total), 0, nil
}

// Partial implements wsp.Step.
func (r *sendReq) Partial() uint32 {
	if r.s.stream {
		return uint32(r.sent)
	}
	return 0
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

// sendAll is the try step of sending all of bufs (total bytes) on a stream,
// *sent of them already: WSAEWOULDBLOCK until everything is buffered.
func (s *socket) sendAll(bufs [][]byte, total int, sent *int) error {
	return s.sendAllWith(new(gatherReader), bufs, total, sent)
}

// sendAllWith is sendAll with the caller's reader g.
func (s *socket) sendAllWith(g *gatherReader, bufs [][]byte, total int, sent *int) error {
	for *sent < total {
		n, err := s.trySendStream(g, bufs, *sent)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prepSendDgramLocked(bufs, f, to)
}

// prepSendDgramLocked is prepSendDgram for a UDP socket, s.mu held.
func (s *socket) prepSendDgramLocked(bufs [][]byte, f uint32, to wsa.Sockaddr) (*tcpip.FullAddress, int, error) {
	if f&^sendFlags != 0 {
		return nil, 0, wsa.WSAEINVAL
	}
	if f&(wsa.MSG_OOB|wsa.MSG_PARTIAL) != 0 {
		return nil, 0, wsa.WSAEOPNOTSUPP
	}
	if s.shutSend {
		return nil, 0, wsa.WSAESHUTDOWN
	}
	var v4 bool
	var dst *tcpip.FullAddress
	switch {
	case to != nil:
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
	case !s.udpPeer:
		return nil, 0, wsa.WSAENOTCONN
	default:
		v4 = s.udpPeer4
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

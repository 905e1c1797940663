package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// Flags each direction knows; anything else is WSAEINVAL ("an unknown flag
// was specified").
const (
	recvFlags = wsp.RecvFlags
	sendFlags = wsp.SendFlags
)

// WSPRecv is recv/WSARecv. See WSPRecvFrom.
func (ss *session) WSPRecv(h wsa.Socket, bufs [][]byte, flags *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	return ss.WSPRecvFrom(h, bufs, flags, nil, ov, cr, tid)
}

// WSPRecvFrom is recvfrom/WSARecvFrom, blocking or not; with an OVERLAPPED
// on an overlapped socket see overlappedRecv (overlapped_data.go).
//
// Stream sockets: unconnected WSAENOTCONN; after shutdown(SD_RECEIVE)
// WSAESHUTDOWN; 0 bytes after the peer's FIN; WSAECONNRESET after a reset.
// MSG_PEEK copies without consuming. MSG_WAITALL completes only when the
// buffers are full, the connection closes or fails; it is WSAEOPNOTSUPP on
// a non-blocking socket or with MSG_PEEK or MSG_OOB. MSG_OOB is
// WSAEOPNOTSUPP (no urgent data, see the package documentation), or
// WSAEINVAL with SO_OOBINLINE on.
//
// Datagram sockets: unbound WSAEINVAL; one datagram per call; a datagram
// larger than the buffers fills them, the rest is discarded and the call
// returns the buffer size with WSAEMSGSIZE (MSG_PEEK applies the same rule
// without consuming). MSG_WAITALL and MSG_OOB are WSAEOPNOTSUPP. After an
// ICMP port unreachable on a connected socket the next receive fails
// WSAECONNRESET, unless SIO_UDP_CONNRESET turned that off.
//
// The buffers are filled in order, straight from gVisor. A blocking call
// waits for data, up to SO_RCVTIMEO on an overlapped socket
// (WSAETIMEDOUT); closesocket from another goroutine ends it with WSAEINTR.
// *flags is cleared on return (no MSG_PARTIAL). from, if not nil, receives
// the source of a datagram; it is ignored for a stream socket.
func (ss *session) WSPRecvFrom(h wsa.Socket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	s, up, err := ss.lookupUp(h)
	if err != nil {
		return 0, err
	}
	if ov != nil && s.overlapped {
		return s.overlappedRecv(up, bufs, flags, from, ov, cr, tid)
	}
	var f uint32
	if flags != nil {
		f = *flags
		*flags = 0
	}
	var n int
	if s.stream {
		n, err = s.recvStream(bufs, f, from)
	} else {
		n, err = s.recvDgram(bufs, f, from)
	}
	s.rd.Events.Reenable(wsa.FD_READ | wsa.FD_OOB) // any recv, even a failing one
	return uint32(n), err
}

func (s *socket) recvStream(bufs [][]byte, f uint32, from *wsa.Sockaddr) (int, error) {
	if f&^recvFlags != 0 {
		return 0, wsa.WSAEINVAL
	}
	s.mu.Lock()
	oobInline, nonblocking := s.opts.OOBInline, s.opts.Nonblocking
	st := s.pollConnectLocked()
	shut, connErr, listening := s.shutRecv, s.connErr, s.listening
	s.mu.Unlock()
	peek, waitall := f&wsa.MSG_PEEK != 0, f&wsa.MSG_WAITALL != 0
	switch {
	case f&wsa.MSG_OOB != 0 && oobInline:
		return 0, wsa.WSAEINVAL
	case f&wsa.MSG_OOB != 0:
		return 0, wsa.WSAEOPNOTSUPP
	case waitall && (peek || nonblocking):
		return 0, wsa.WSAEOPNOTSUPP
	case listening || st != connDone:
		return 0, wsa.WSAENOTCONN
	case shut:
		return 0, wsa.WSAESHUTDOWN
	case connErr != nil:
		return 0, connErr
	}
	_ = from // ignored for connection-oriented sockets, as in Winsock
	if bufLen(bufs) == 0 {
		return 0, nil
	}
	w := &scatterWriter{bufs: bufs}
	err := s.rd.Block(nonblocking, s.rcvTimeout(), func() error {
		return s.tryRecvStream(w, peek, waitall)
	})
	return w.n, err
}

// tryRecvStream is the non-blocking step of a stream receive into w:
// WSAEWOULDBLOCK when it must wait (no data; or, with waitall, buffers not
// yet full).
func (s *socket) tryRecvStream(w *scatterWriter, peek, waitall bool) error {
	s.mu.Lock()
	ep, shut, connErr := s.ep, s.shutRecv, s.connErr
	s.mu.Unlock()
	if shut {
		return wsa.WSAESHUTDOWN
	}
	if connErr != nil {
		return connErr
	}
	for {
		res, terr := ep.Read(w, tcpip.ReadOptions{Peek: peek})
		if terr == nil {
			if !peek && res.Count > 0 {
				ep.ModerateRecvBuf(res.Count)
			}
			if waitall && !w.full() {
				continue // more may be queued already, or a FIN
			}
			return nil
		}
		switch terr.(type) {
		case *tcpip.ErrWouldBlock:
			return wsa.WSAEWOULDBLOCK
		case *tcpip.ErrClosedForReceive:
			// The peer's FIN: 0 bytes (or what MSG_WAITALL gathered); or a
			// reset that the readiness core took first (closeErrLocked).
			s.mu.Lock()
			connErr := s.connErr
			s.mu.Unlock()
			if connErr != nil && w.n == 0 {
				return connErr
			}
			return nil
		}
		return s.streamErr(terr, false)
	}
}

func (s *socket) recvDgram(bufs [][]byte, f uint32, from *wsa.Sockaddr) (int, error) {
	if f&^recvFlags != 0 {
		return 0, wsa.WSAEINVAL
	}
	if f&(wsa.MSG_OOB|wsa.MSG_WAITALL) != 0 {
		return 0, wsa.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	bound, shut, nonblocking := s.bound, s.shutRecv, s.opts.Nonblocking
	s.mu.Unlock()
	switch {
	case !bound:
		return 0, wsa.WSAEINVAL
	case shut:
		return 0, wsa.WSAESHUTDOWN
	}
	peek := f&wsa.MSG_PEEK != 0
	var w *scatterWriter
	var src tcpip.FullAddress
	err := s.rd.Block(nonblocking, s.rcvTimeout(), func() error {
		w = &scatterWriter{bufs: bufs, discard: true}
		var err error
		src, err = s.tryRecvDgram(w, peek)
		return err
	})
	if err != nil && err != wsa.WSAEMSGSIZE {
		return 0, err
	}
	if from != nil {
		*from = fromFull(s.af, src)
	}
	return w.n, err
}

// tryRecvDgram is the non-blocking step of a datagram receive into w. A
// truncated datagram is WSAEMSGSIZE with w.n bytes delivered.
func (s *socket) tryRecvDgram(w *scatterWriter, peek bool) (tcpip.FullAddress, error) {
	for {
		s.mu.Lock()
		ep, shut := s.ep, s.shutRecv
		icmp, report := s.icmpErr, s.opts.UDPConnReset
		s.icmpErr = false
		s.mu.Unlock()
		if shut {
			return tcpip.FullAddress{}, wsa.WSAESHUTDOWN
		}
		if icmp && report {
			return tcpip.FullAddress{}, wsa.WSAECONNRESET
		}
		res, terr := ep.Read(w, tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: true})
		switch terr.(type) {
		case nil:
			if w.total > w.n {
				return res.RemoteAddr, wsa.WSAEMSGSIZE
			}
			return res.RemoteAddr, nil
		case *tcpip.ErrWouldBlock:
			return tcpip.FullAddress{}, wsa.WSAEWOULDBLOCK
		case *tcpip.ErrConnectionRefused:
			// ICMP port unreachable (gVisor reports it on connected
			// sockets): WSAECONNRESET unless SIO_UDP_CONNRESET is off.
			if report {
				return tcpip.FullAddress{}, wsa.WSAECONNRESET
			}
			continue
		case *tcpip.ErrClosedForReceive:
			if s.rd.IsClosed() {
				return tcpip.FullAddress{}, wsa.WSAEINTR
			}
			return tcpip.FullAddress{}, wsa.WSAESHUTDOWN
		default:
			return tcpip.FullAddress{}, translate(terr)
		}
	}
}

// WSPSend is send/WSASend. See WSPSendTo.
func (ss *session) WSPSend(h wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	return ss.WSPSendTo(h, bufs, flags, nil, ov, cr, tid)
}

// WSPSendTo is sendto/WSASendTo, blocking or not; with an OVERLAPPED on an
// overlapped socket see overlappedSend (overlapped_data.go).
//
// Stream sockets: to is ignored; unconnected WSAENOTCONN; after
// shutdown(SD_SEND) WSAESHUTDOWN; after the peer reset the connection
// WSAECONNRESET. A blocking call returns when everything is buffered
// (waiting for room, up to SO_SNDTIMEO on an overlapped socket); a
// non-blocking call buffers what fits and fails WSAEWOULDBLOCK only when
// nothing does. MSG_OOB is WSAEOPNOTSUPP (WSAEINVAL with SO_OOBINLINE),
// MSG_PARTIAL WSAEOPNOTSUPP.
//
// Datagram sockets: to (or the connected peer; neither is WSAENOTCONN)
// receives one datagram of all the buffers. More than 65507 bytes (IPv4) or
// 65527 (IPv6) is WSAEMSGSIZE; the unspecified address or port 0
// WSAEADDRNOTAVAIL; the broadcast address without SO_BROADCAST WSAEACCES.
// An unbound socket is bound implicitly.
//
// The buffers are read in order, straight into gVisor's packet buffers.
func (ss *session) WSPSendTo(h wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	s, up, err := ss.lookupUp(h)
	if err != nil {
		return 0, err
	}
	if ov != nil && s.overlapped {
		return s.overlappedSend(up, bufs, flags, to, ov, cr, tid)
	}
	var n int
	if s.stream {
		n, err = s.sendStream(bufs, flags)
	} else {
		n, err = s.sendDgram(bufs, flags, to)
	}
	if err == wsa.WSAEWOULDBLOCK {
		s.rd.Events.Reenable(wsa.FD_WRITE) // FD_WRITE again once there is room
	}
	return uint32(n), err
}

func (s *socket) sendStream(bufs [][]byte, f uint32) (int, error) {
	if f&^sendFlags != 0 {
		return 0, wsa.WSAEINVAL
	}
	s.mu.Lock()
	oobInline, nonblocking := s.opts.OOBInline, s.opts.Nonblocking
	st := s.pollConnectLocked()
	shut, connErr, listening := s.shutSend, s.connErr, s.listening
	s.mu.Unlock()
	switch {
	case f&wsa.MSG_OOB != 0 && oobInline:
		return 0, wsa.WSAEINVAL
	case f&(wsa.MSG_OOB|wsa.MSG_PARTIAL) != 0:
		return 0, wsa.WSAEOPNOTSUPP
	case shut:
		return 0, wsa.WSAESHUTDOWN
	case listening || st != connDone:
		return 0, wsa.WSAENOTCONN
	case connErr != nil:
		return 0, connErr
	}
	total := bufLen(bufs)
	if total == 0 {
		return 0, nil
	}
	sent := 0
	g := new(gatherReader)
	err := s.rd.Block(nonblocking, s.sndTimeout(), func() error {
		n, err := s.trySendStream(g, bufs, sent)
		sent += n
		switch {
		case err == wsa.WSAEWOULDBLOCK && nonblocking && sent > 0:
			return nil // partial send
		case err != nil:
			return err
		case sent < total && !nonblocking:
			return wsa.WSAEWOULDBLOCK // wait for room for the rest
		}
		return nil
	})
	return sent, err
}

// trySendStream is the non-blocking step of a stream send: it buffers what
// fits of bufs from byte offset skip, returning the bytes taken
// (WSAEWOULDBLOCK when none fit). g is the caller's reader, reset here.
func (s *socket) trySendStream(g *gatherReader, bufs [][]byte, skip int) (int, error) {
	s.mu.Lock()
	ep, shut, connErr := s.ep, s.shutSend, s.connErr
	s.mu.Unlock()
	if shut {
		return 0, wsa.WSAESHUTDOWN
	}
	if connErr != nil {
		return 0, connErr
	}
	g.reset(bufs, skip)
	n, terr := ep.Write(g, tcpip.WriteOptions{})
	if terr != nil {
		if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
			return int(n), wsa.WSAEWOULDBLOCK
		}
		return int(n), s.streamErr(terr, true)
	}
	if n == 0 {
		return 0, wsa.WSAEWOULDBLOCK
	}
	return int(n), nil
}

func (s *socket) sendDgram(bufs [][]byte, f uint32, to wsa.Sockaddr) (int, error) {
	if s.raw != nil {
		return s.sendRaw(bufs, f, to) // raw.go
	}
	s.mu.Lock()
	dst, total, err := s.prepSendDgramLocked(bufs, f, to)
	nonblocking := s.opts.Nonblocking
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	err = s.rd.Block(nonblocking, s.sndTimeout(), func() error {
		return s.trySendDgram(bufs, dst)
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// trySendDgram is the non-blocking step of a datagram send to dst (nil:
// the connected peer).
func (s *socket) trySendDgram(bufs [][]byte, dst *tcpip.FullAddress) error {
	return s.trySendDgramOpts(nil, bufs, tcpip.WriteOptions{To: dst})
}

// trySendDgramOpts is trySendDgram with gVisor write options (a
// destination and control messages); g, if not nil, is the caller's reader
// (reset here), else one is made.
func (s *socket) trySendDgramOpts(g *gatherReader, bufs [][]byte, opts tcpip.WriteOptions) error {
	if g == nil {
		g = new(gatherReader)
	}
	ep := s.endpoint()
	for range 2 {
		// gVisor reports an ICMP error on the next read or write; keep it
		// for the next receive, where Winsock reports it.
		if terr := ep.LastError(); terr != nil {
			s.noteICMP(terr)
		}
		g.reset(bufs, 0)
		_, terr := ep.Write(g, opts)
		switch terr.(type) {
		case nil:
			return nil
		case *tcpip.ErrWouldBlock:
			return wsa.WSAEWOULDBLOCK
		case *tcpip.ErrConnectionRefused:
			s.noteICMP(terr)
			continue
		case *tcpip.ErrClosedForSend:
			if s.rd.IsClosed() {
				return wsa.WSAEINTR
			}
			return wsa.WSAESHUTDOWN
		default:
			return translate(terr)
		}
	}
	return wsa.WSAEWOULDBLOCK
}

// noteICMP records an ICMP error gVisor reported on a UDP endpoint, for the
// next receive.
func (s *socket) noteICMP(terr tcpip.Error) {
	if _, ok := terr.(*tcpip.ErrConnectionRefused); ok {
		s.mu.Lock()
		s.icmpErr = true
		s.mu.Unlock()
	}
}

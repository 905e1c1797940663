package host

import (
	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// scatter is a receive's progress into the caller's buffers: the kernel
// writes into them directly (recvmsg's iovecs), no copy of ours.
type scatter struct {
	bufs [][]byte
	n    int // bytes received so far
}

// rest returns the buffers after the first n bytes.
func rest(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if n == 0 || len(bufs) == 0 {
		return bufs
	}
	out := make([][]byte, len(bufs))
	copy(out, bufs)
	out[0] = out[0][n:]
	return out
}

func (w *scatter) full() bool { return w.n >= wsp.BufLen(w.bufs) }

// WSPRecv is recv/WSARecv. See WSPRecvFrom.
func (ss *session) WSPRecv(h wsa.Socket, bufs [][]byte, flags *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	return ss.WSPRecvFrom(h, bufs, flags, nil, ov, cr, tid)
}

// WSPRecvFrom is recvfrom/WSARecvFrom, blocking or not; with an OVERLAPPED
// on an overlapped socket see overlappedRecv.
//
// Stream sockets: unconnected WSAENOTCONN; after shutdown(SD_RECEIVE)
// WSAESHUTDOWN; 0 bytes after the peer's FIN; WSAECONNRESET after a reset.
// MSG_PEEK copies without consuming. MSG_WAITALL completes only when the
// buffers are full, the connection closes or fails; it is WSAEOPNOTSUPP on
// a non-blocking socket or with MSG_PEEK or MSG_OOB. MSG_OOB receives the
// urgent byte (BSD semantics, one byte; a normal receive stops at the mark
// and never returns it); WSAEINVAL with SO_OOBINLINE on; without urgent
// data it waits (WSAEWOULDBLOCK when non-blocking).
//
// Datagram sockets: unbound WSAEINVAL; one datagram per call; a datagram
// larger than the buffers fills them, the rest is discarded and the call
// returns the buffer size with WSAEMSGSIZE (MSG_PEEK applies the same rule
// without consuming). MSG_WAITALL and MSG_OOB are WSAEOPNOTSUPP. After an
// ICMP port unreachable (on any UDP socket, connected or not) the next
// receive fails WSAECONNRESET, unless SIO_UDP_CONNRESET turned that off.
//
// A blocking call waits for data, up to SO_RCVTIMEO on an overlapped
// socket (WSAETIMEDOUT); closesocket from another goroutine ends it with
// WSAEINTR. *flags is cleared on return (no MSG_PARTIAL). from, if not nil,
// receives the source of a datagram; it is ignored for a stream socket.
func (ss *session) WSPRecvFrom(h wsa.Socket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return 0, err
	}
	if ov != nil && s.overlapped {
		up, err := ss.upcalls()
		if err != nil {
			return 0, err
		}
		return s.overlappedRecv(up, bufs, flags, from, ov, cr, tid)
	}
	var f uint32
	if flags != nil {
		f = *flags
		*flags = 0
	}
	var n int
	if s.stream {
		n, err = s.recvStream(bufs, f)
	} else {
		n, err = s.recvDgram(bufs, f, from)
	}
	s.rd.Events.Reenable(wsa.FD_READ | wsa.FD_OOB) // any recv, even a failing one
	return uint32(n), err
}

// checkRecvStream makes the checks of a stream receive with flags f;
// blocking tells whether the call will wait (MSG_WAITALL is refused on a
// non-blocking socket, allowed for an overlapped receive).
func (s *socket) checkRecvStream(f uint32, overlapped bool) (nonblocking bool, err error) {
	if f&^wsp.RecvFlags != 0 {
		return false, wsa.WSAEINVAL
	}
	s.mu.Lock()
	oobInline, nonblocking := s.opts.OOBInline, s.opts.Nonblocking
	st := s.pollConnectLocked()
	shut, connErr, listening := s.shutRecv, s.connErr, s.listening
	s.mu.Unlock()
	oob, peek, waitall := f&wsa.MSG_OOB != 0, f&wsa.MSG_PEEK != 0, f&wsa.MSG_WAITALL != 0
	switch {
	case oob && oobInline:
		return false, wsa.WSAEINVAL
	case waitall && (peek || oob || nonblocking && !overlapped):
		return false, wsa.WSAEOPNOTSUPP
	case listening || st != connDone:
		return false, wsa.WSAENOTCONN
	case shut:
		return false, wsa.WSAESHUTDOWN
	case connErr != nil:
		return false, connErr
	}
	return nonblocking, nil
}

func (s *socket) recvStream(bufs [][]byte, f uint32) (int, error) {
	nonblocking, err := s.checkRecvStream(f, false)
	if err != nil {
		return 0, err
	}
	if wsp.BufLen(bufs) == 0 {
		return 0, nil
	}
	w := &scatter{bufs: bufs}
	err = s.rd.Block(nonblocking, s.rcvTimeout(), func() error {
		return s.tryRecvStream(w, f)
	})
	return w.n, err
}

// tryRecvStream is the non-blocking step of a stream receive into w with
// flags f (MSG_PEEK, MSG_WAITALL, MSG_OOB): WSAEWOULDBLOCK when it must
// wait (no data; or, with MSG_WAITALL, buffers not yet full; or no urgent
// data for MSG_OOB).
func (s *socket) tryRecvStream(w *scatter, f uint32) error {
	s.mu.Lock()
	shut, connErr := s.shutRecv, s.connErr
	s.mu.Unlock()
	if shut {
		return wsa.WSAESHUTDOWN
	}
	if connErr != nil {
		return connErr
	}
	kf := 0
	if f&wsa.MSG_PEEK != 0 {
		kf |= unix.MSG_PEEK
	}
	if f&wsa.MSG_OOB != 0 {
		kf |= unix.MSG_OOB
	}
	for {
		var n int
		err := s.sysFD(func(fd int) error {
			var err error
			n, _, _, err = recvmsg(fd, rest(w.bufs, w.n), nil, kf, nil)
			return err
		})
		switch {
		case err == nil && n == 0:
			// The peer's FIN: 0 bytes (or what MSG_WAITALL gathered); or a
			// reset that the readiness core took first.
			s.mu.Lock()
			connErr := s.connErr
			s.mu.Unlock()
			if connErr != nil && w.n == 0 {
				return connErr
			}
			return nil
		case err == nil:
			w.n += n
			if f&wsa.MSG_WAITALL != 0 && !w.full() {
				continue // more may be queued already, or a FIN
			}
			return nil
		case err == unix.EAGAIN:
			return wsa.WSAEWOULDBLOCK
		case err == unix.EINVAL && kf&unix.MSG_OOB != 0:
			return wsa.WSAEWOULDBLOCK // no urgent data (yet)
		case err == wsa.WSAEINTR:
			return err
		}
		return s.streamErr(err, false)
	}
}

func (s *socket) recvDgram(bufs [][]byte, f uint32, from *wsa.Sockaddr) (int, error) {
	if err := s.checkRecvDgram(f); err != nil {
		return 0, err
	}
	s.mu.Lock()
	nonblocking := s.opts.Nonblocking
	s.mu.Unlock()
	var n int
	var src wsa.Sockaddr
	err := s.rd.Block(nonblocking, s.rcvTimeout(), func() error {
		var err error
		n, src, err = s.tryRecvDgram(bufs, f&wsa.MSG_PEEK != 0, nil)
		return err
	})
	if err != nil && err != wsa.WSAEMSGSIZE {
		return 0, err
	}
	if from != nil {
		*from = src
	}
	return n, err
}

// checkRecvDgram makes the checks of a datagram receive with flags f.
func (s *socket) checkRecvDgram(f uint32) error {
	if f&^wsp.RecvFlags != 0 {
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
	return nil
}

// dgramResult is what one datagram receive got beyond its bytes.
type dgramResult struct {
	flags int // recvmsg's message flags
	oobn  int // control bytes
}

// tryRecvDgram is the non-blocking step of a datagram receive into bufs
// (control data into oob, if any). A truncated datagram is WSAEMSGSIZE with
// the bytes delivered. ICMP errors the kernel queued for the socket
// (IP_RECVERR) are consumed here: a port unreachable is WSAECONNRESET
// unless SIO_UDP_CONNRESET is off; the others are not reported (Windows
// reports none of them by default).
func (s *socket) tryRecvDgram(bufs [][]byte, peek bool, oob []byte) (int, wsa.Sockaddr, error) {
	n, src, _, err := s.tryRecvDgramMsg(bufs, peek, oob)
	return n, src, err
}

func (s *socket) tryRecvDgramMsg(bufs [][]byte, peek bool, oob []byte) (int, wsa.Sockaddr, dgramResult, error) {
	kf := 0
	if peek {
		kf = unix.MSG_PEEK
	}
	for {
		s.mu.Lock()
		shut := s.shutRecv
		icmp, report := s.icmpErr, s.opts.UDPConnReset
		s.icmpErr = false
		s.mu.Unlock()
		if shut {
			return 0, nil, dgramResult{}, wsa.WSAESHUTDOWN
		}
		if icmp && report {
			return 0, nil, dgramResult{}, wsa.WSAECONNRESET
		}
		var rsa unix.RawSockaddrAny
		var n int
		var res dgramResult
		err := s.sysFD(func(fd int) error {
			var err error
			n, res.oobn, res.flags, err = recvmsg(fd, bufs, oob, kf, &rsa)
			if err != nil && isICMPErrno(err) {
				drainErrQueue(fd)
			}
			return err
		})
		switch {
		case err == nil:
			src := fromRaw(s.af, &rsa)
			if res.flags&unix.MSG_TRUNC != 0 {
				return n, src, res, wsa.WSAEMSGSIZE
			}
			return n, src, res, nil
		case err == unix.EAGAIN:
			return 0, nil, res, wsa.WSAEWOULDBLOCK
		case err == unix.ECONNREFUSED:
			if report {
				return 0, nil, res, wsa.WSAECONNRESET
			}
			continue
		case isICMPErrno(err):
			continue
		}
		return 0, nil, res, translate(err)
	}
}

// isICMPErrno reports the errors an ICMP message leaves on a UDP socket.
func isICMPErrno(err error) bool {
	switch err {
	case unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EHOSTDOWN, unix.ENETDOWN,
		unix.EMSGSIZE, unix.EPROTO, unix.ENOPROTOOPT, unix.ETIMEDOUT:
		return true
	}
	return false
}

// WSPSend is send/WSASend. See WSPSendTo.
func (ss *session) WSPSend(h wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	return ss.WSPSendTo(h, bufs, flags, nil, ov, cr, tid)
}

// WSPSendTo is sendto/WSASendTo, blocking or not; with an OVERLAPPED on an
// overlapped socket see overlappedSend.
//
// Stream sockets: to is ignored; unconnected WSAENOTCONN; after
// shutdown(SD_SEND) WSAESHUTDOWN; after the peer reset the connection
// WSAECONNRESET. A blocking call returns when everything is buffered
// (waiting for room, up to SO_SNDTIMEO on an overlapped socket); a
// non-blocking call buffers what fits and fails WSAEWOULDBLOCK only when
// nothing does. MSG_OOB sends the data as urgent (its last byte is the
// urgent byte, BSD style); MSG_PARTIAL is WSAEOPNOTSUPP.
//
// Datagram sockets: to (or the connected peer; neither is WSAENOTCONN)
// receives one datagram of all the buffers. More than 65507 bytes (IPv4) or
// 65527 (IPv6) is WSAEMSGSIZE; the unspecified address or port 0
// WSAEADDRNOTAVAIL; the broadcast address without SO_BROADCAST WSAEACCES.
// An unbound socket is bound implicitly.
//
// The buffers go to the kernel as they are (sendmsg's iovecs).
func (ss *session) WSPSendTo(h wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return 0, err
	}
	if ov != nil && s.overlapped {
		up, err := ss.upcalls()
		if err != nil {
			return 0, err
		}
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

// checkSendStream makes the checks of a stream send with flags f.
func (s *socket) checkSendStream(f uint32) error {
	if f&^wsp.SendFlags != 0 {
		return wsa.WSAEINVAL
	}
	s.mu.Lock()
	st := s.pollConnectLocked()
	shut, connErr, listening := s.shutSend, s.connErr, s.listening
	s.mu.Unlock()
	switch {
	case f&wsa.MSG_PARTIAL != 0:
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

func (s *socket) sendStream(bufs [][]byte, f uint32) (int, error) {
	if err := s.checkSendStream(f); err != nil {
		return 0, err
	}
	s.mu.Lock()
	nonblocking := s.opts.Nonblocking
	s.mu.Unlock()
	total := wsp.BufLen(bufs)
	if total == 0 {
		return 0, nil
	}
	sent := 0
	err := s.rd.Block(nonblocking, s.sndTimeout(), func() error {
		n, err := s.trySendStream(bufs, sent, f)
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
// (WSAEWOULDBLOCK when none fit).
func (s *socket) trySendStream(bufs [][]byte, skip int, f uint32) (int, error) {
	s.mu.Lock()
	shut, connErr := s.shutSend, s.connErr
	s.mu.Unlock()
	if shut {
		return 0, wsa.WSAESHUTDOWN
	}
	if connErr != nil {
		return 0, connErr
	}
	kf := 0
	if f&wsa.MSG_OOB != 0 {
		kf |= unix.MSG_OOB
	}
	if f&wsa.MSG_DONTROUTE != 0 {
		kf |= unix.MSG_DONTROUTE
	}
	var n int
	err := s.sysFD(func(fd int) error {
		var err error
		n, err = sendmsg(fd, rest(bufs, skip), nil, kf, nil)
		return err
	})
	switch {
	case err == unix.EAGAIN:
		return 0, wsa.WSAEWOULDBLOCK
	case err == wsa.WSAEINTR:
		return 0, err
	case err != nil:
		return 0, s.streamErr(err, true)
	case n == 0:
		return 0, wsa.WSAEWOULDBLOCK
	}
	return n, nil
}

// sendAll is the try step of sending all of bufs (total bytes) on a stream,
// *sent of them already: WSAEWOULDBLOCK until everything is buffered.
func (s *socket) sendAll(bufs [][]byte, total int, sent *int) error {
	for *sent < total {
		n, err := s.trySendStream(bufs, *sent, 0)
		*sent += n
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *socket) sendDgram(bufs [][]byte, f uint32, to wsa.Sockaddr) (int, error) {
	dst, total, err := s.prepSendDgram(bufs, f, to)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	nonblocking := s.opts.Nonblocking
	s.mu.Unlock()
	err = s.rd.Block(nonblocking, s.sndTimeout(), func() error {
		return s.trySendDgram(bufs, dst, nil)
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// prepSendDgram makes the checks of a datagram send and binds the socket
// implicitly; it returns the destination (nil: the connected peer) and the
// datagram's size.
func (s *socket) prepSendDgram(bufs [][]byte, f uint32, to wsa.Sockaddr) (*rawAddr, int, error) {
	if f&^wsp.SendFlags != 0 {
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
	var v4 bool // the datagram's size limit is IPv4's
	var dst *rawAddr
	if to != nil {
		a, err := wsp.ParseAddr(s.af, to)
		if err == nil {
			err = s.checkPeerLocked(a)
		}
		if err == nil && wsp.IsLimitedBroadcast(a.Unmapped()) && !s.opts.Broadcast {
			err = wsa.WSAEACCES
		}
		if err != nil {
			return nil, 0, err
		}
		dst = new(rawAddr)
		dst.set(s.af, a)
		v4 = a.Unmapped().Is4()
	} else if !s.udpPeer {
		return nil, 0, wsa.WSAENOTCONN
	} else {
		v4 = s.udpPeer4 // recorded by connect: no getpeername per datagram
	}
	total := wsp.BufLen(bufs)
	if total > wsp.MaxUDP(v4) {
		return nil, 0, wsa.WSAEMSGSIZE
	}
	if err := s.implicitBindLocked(); err != nil {
		return nil, 0, err
	}
	return dst, total, nil
}

// trySendDgram is the non-blocking step of a datagram send (with control
// data oob, if any). An ICMP error the kernel reports on the send is kept
// for the next receive, where Winsock reports it, and the send retried.
func (s *socket) trySendDgram(bufs [][]byte, dst *rawAddr, oob []byte) error {
	var err error
	for range 4 {
		err = s.sysFD(func(fd int) error {
			_, err := sendmsg(fd, bufs, oob, 0, dst)
			if err != nil && isICMPErrno(err) && err != unix.EMSGSIZE {
				drainErrQueue(fd)
			}
			return err
		})
		switch {
		case err == nil:
			return nil
		case err == unix.EAGAIN:
			return wsa.WSAEWOULDBLOCK
		case err == unix.ECONNREFUSED:
			s.mu.Lock()
			s.icmpErr = true
			s.mu.Unlock()
			continue
		case isICMPErrno(err) && err != unix.EMSGSIZE:
			continue
		}
		return translate(err)
	}
	return translate(err)
}

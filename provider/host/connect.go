package host

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSPConnect is connect/WSAConnect.
//
// Stream sockets: a blocking call returns nil or the error (WSAECONNREFUSED
// for a RST, WSAETIMEDOUT when the handshake does not complete within the
// provider's connect timeout, WSAENETUNREACH or WSAEHOSTUNREACH with no
// route, WSAEADDRNOTAVAIL for the unspecified address or port 0,
// WSAEISCONN, WSAEINVAL on a listening socket). A non-blocking call fails
// WSAEWOULDBLOCK when the attempt starts (the kernel's EINPROGRESS),
// WSAEALREADY while it is pending and WSAEISCONN after it succeeded; a
// failed attempt leaves its error in SO_ERROR and connect may be called
// again (the kernel socket is disconnected first, keeping its binding). An
// unbound socket is bound implicitly to an ephemeral port.
//
// Datagram sockets: connect sets the default peer and filters receives to
// it; the unspecified address dissolves the association.
//
// Connect and disconnect data and QoS are not supported by TCP/IP:
// non-empty data or a QoS fails WSAEOPNOTSUPP.
func (ss *session) WSPConnect(h wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	if len(callerData) != 0 || len(calleeData) != 0 || sqos != nil || gqos != nil {
		return wsa.WSAEOPNOTSUPP
	}
	a, err := wsp.ParseAddr(s.af, name)
	if err != nil {
		return err
	}
	if s.stream {
		err := s.connectStream(a)
		s.rd.Events.UpdateAll() // FD_CONNECT if it completed at once
		return err
	}
	return s.connectDgram(a)
}

// checkPeerLocked applies Winsock's rules to a destination: the
// unspecified address and port 0 are WSAEADDRNOTAVAIL, a v4-mapped
// address on an IPV6_V6ONLY socket is WSAEAFNOSUPPORT.
func (s *socket) checkPeerLocked(a wsp.Addr) error {
	if a.IsUnspecified() || a.Port() == 0 {
		return wsa.WSAEADDRNOTAVAIL
	}
	if s.af == wsa.AF_INET6 && a.AP.Addr().Is4In6() && s.opts.V6Only {
		return wsa.WSAEAFNOSUPPORT
	}
	return nil
}

func (s *socket) connectStream(a wsp.Addr) error {
	s.mu.Lock()
	if s.listening {
		s.mu.Unlock()
		return wsa.WSAEINVAL
	}
	if err := s.startConnectLocked(a, true); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.conn == connDone {
		s.mu.Unlock()
		return nil
	}
	nonblocking := s.opts.Nonblocking
	s.mu.Unlock()
	if nonblocking {
		return wsa.WSAEWOULDBLOCK
	}
	// Blocking: wait for the outcome. SO_SNDTIMEO does not apply; the
	// connect timer bounds the wait.
	return s.rd.Block(false, 0, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch s.pollConnectLocked() {
		case connPending:
			return wsa.WSAEWOULDBLOCK
		case connFailed:
			err := s.soError
			s.soError = 0 // reported by the call itself
			return err
		}
		return nil
	})
}

// startConnectLocked starts a stream connection to a: connect's first
// half, shared with ConnectEx (which asks for no implicit bind: an unbound
// socket is WSAEINVAL there). It leaves s.conn connPending, or connDone
// when the kernel connected at once.
func (s *socket) startConnectLocked(a wsp.Addr, implicitBind bool) error {
	switch s.pollConnectLocked() {
	case connDone:
		return wsa.WSAEISCONN
	case connPending:
		return wsa.WSAEALREADY
	case connFailed:
		// The kernel keeps a failed socket "connecting" until told:
		// disconnect it (its binding stays) so it may connect again.
		_ = disconnect(s.fd)
		s.conn, s.connTimeout, s.connErr = connNone, false, nil
	}
	if err := s.checkPeerLocked(a); err != nil {
		return err
	}
	if !implicitBind && !s.bound {
		return wsa.WSAEINVAL
	}
	if err := s.implicitBindLocked(); err != nil {
		return err
	}
	s.soError = 0
	s.rd.Events.Arm(wsa.FD_CONNECT | wsa.FD_WRITE) // for this attempt
	err := unix.Connect(s.fd, kernelAddr(s.af, a))
	switch err {
	case nil:
		s.conn = connDone
		s.connectedAt = time.Now()
		return nil
	case unix.EINPROGRESS, unix.EINTR:
		s.conn = connPending
		s.startConnTimerLocked()
		return nil
	}
	if tcpState(s.fd) == tcpClose {
		_ = disconnect(s.fd)
	}
	s.rd.Events.Disarm(wsa.FD_CONNECT) // the call reports the failure
	return translate(err)
}

// startConnTimerLocked bounds the handshake by the provider's connect
// timeout: when it fires with the handshake still pending, the attempt is
// aborted (disconnected) and fails WSAETIMEDOUT.
func (s *socket) startConnTimerLocked() {
	s.stopConnTimerLocked()
	d := time.Duration(s.ss.p.connectTimeout.Load())
	s.connGen++
	gen := s.connGen
	s.connTimer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.connGen != gen || s.conn != connPending || s.rd.IsClosed() {
			return
		}
		if st := tcpState(s.fd); st == tcpSynSent || st == tcpSynRecv {
			s.connTimeout = true
			_ = disconnect(s.fd)
			s.rd.Notify(wsp.EventAll)
		}
	})
}

func (s *socket) connectDgram(a wsp.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.IsUnspecified() {
		// connect to the all-zero address dissolves the association.
		if s.udpPeer {
			if err := disconnect(s.fd); err != nil {
				return translate(err)
			}
			s.udpPeer = false
		}
		return nil
	}
	if err := s.checkPeerLocked(a); err != nil {
		return err
	}
	if wsp.IsLimitedBroadcast(a.Unmapped()) && !s.opts.Broadcast {
		return wsa.WSAEACCES
	}
	if err := s.implicitBindLocked(); err != nil {
		return err
	}
	if err := unix.Connect(s.fd, kernelAddr(s.af, a)); err != nil {
		return translate(err)
	}
	s.udpPeer, s.udpPeer4 = true, a.Unmapped().Is4()
	s.icmpErr = false
	return nil
}

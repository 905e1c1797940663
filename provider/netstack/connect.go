package netstack

import (
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/ports"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSPConnect is connect/WSAConnect.
//
// Stream sockets: a blocking call returns nil or the error (WSAECONNREFUSED
// for a RST, WSAETIMEDOUT when the handshake does not complete within the
// provider's connect timeout, WSAENETUNREACH with no route,
// WSAEADDRNOTAVAIL for the unspecified address or port 0, WSAEADDRINUSE
// when the local address and port are already connected to that peer (a
// closed connection in TIME_WAIT; an ephemeral port never is), WSAEISCONN,
// WSAEINVAL on a listening socket). A non-blocking call fails
// WSAEWOULDBLOCK when the attempt starts, WSAEALREADY while it is pending
// and WSAEISCONN after it succeeded; a failed attempt leaves its error in
// SO_ERROR and connect may be called again. An unbound socket is bound
// implicitly to an ephemeral port.
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
	a, err := parseAddr(s.af, name)
	if err != nil {
		return err
	}
	if s.stream {
		err := s.connectStream(a)
		s.rd.Events.UpdateAll() // FD_CONNECT if it completed at once
		return err
	}
	if s.raw != nil {
		return s.connectRaw(a) // raw.go
	}
	return s.connectDgram(a)
}

// checkPeer applies Winsock's rules to a destination: the unspecified
// address and port 0 are WSAEADDRNOTAVAIL, a v4-mapped address on an
// IPV6_V6ONLY socket is WSAEAFNOSUPPORT.
func (s *socket) checkPeerLocked(a sockAddr) error {
	if a.isUnspecified() || a.AP.Port() == 0 {
		return wsa.WSAEADDRNOTAVAIL
	}
	if s.af == wsa.AF_INET6 && a.AP.Addr().Is4In6() && s.opts.V6Only {
		return wsa.WSAEAFNOSUPPORT
	}
	return nil
}

func (s *socket) connectStream(a sockAddr) error {
	s.mu.Lock()
	if s.listening {
		s.mu.Unlock()
		return wsa.WSAEINVAL
	}
	switch s.pollConnectLocked() {
	case connDone:
		s.mu.Unlock()
		return wsa.WSAEISCONN
	case connPending:
		s.mu.Unlock()
		return wsa.WSAEALREADY
	case connFailed:
		if err := s.renewLocked(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	if err := s.checkPeerLocked(a); err != nil {
		s.mu.Unlock()
		return err
	}
	if err := s.implicitBindLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.soError = 0
	s.rd.Events.Arm(wsa.FD_CONNECT | wsa.FD_WRITE) // for this attempt
	terr := s.ep.Connect(a.full())
	switch terr.(type) {
	case nil:
		s.conn = connDone
		s.connectedAt = time.Now()
		s.mu.Unlock()
		return nil
	case *tcpip.ErrConnectStarted:
		s.conn = connPending
		s.startConnTimerLocked()
	default:
		if st := tcp.EndpointState(s.ep.State()); st == tcp.StateError || st == tcp.StateClose {
			s.conn = connFailed
		}
		s.rd.Events.Disarm(wsa.FD_CONNECT) // the call reports the failure
		err := s.connectErrLocked(terr)
		s.mu.Unlock()
		return err
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

// connectErrLocked is the Winsock error of a stream endpoint's Connect that
// failed at once. gVisor reports a 4-tuple (local address and port, peer
// address and port) that another endpoint still holds, typically a closed
// connection in TIME_WAIT, as *tcpip.ErrBadLocalAddress, the error it also
// gives for a local address the route cannot use; Winsock reports the
// former WSAEADDRINUSE. gVisor fills in the endpoint's 4-tuple before it
// registers it, so a failed Connect whose endpoint has the peer's port and
// whose 4-tuple is held failed for that reason; everything else goes
// through translate.
func (s *socket) connectErrLocked(terr tcpip.Error) error {
	if _, ok := terr.(*tcpip.ErrBadLocalAddress); ok && s.tupleHeldLocked() {
		return wsa.WSAEADDRINUSE
	}
	return translate(terr)
}

// tupleHeldLocked reports whether another endpoint of the stack is
// registered under the 4-tuple s's endpoint was given by its last Connect.
func (s *socket) tupleHeldLocked() bool {
	info, ok := s.ep.Info().(*gvstack.TransportEndpointInfo)
	if !ok || info.ID.LocalPort == 0 || info.ID.RemotePort == 0 {
		return false // Connect failed before choosing a route
	}
	netProto := ipv6.ProtocolNumber
	if info.ID.LocalAddress.Len() == 4 {
		netProto = ipv4.ProtocolNumber
	}
	err := s.ss.p.gs.CheckRegisterTransportEndpoint([]tcpip.NetworkProtocolNumber{netProto}, s.transProto, info.ID, ports.Flags{}, 0)
	return err != nil
}

// startConnTimerLocked bounds the handshake by the provider's connect
// timeout: when it fires with the handshake still pending, the attempt is
// aborted and fails WSAETIMEDOUT.
func (s *socket) startConnTimerLocked() {
	s.stopConnTimerLocked()
	d := time.Duration(s.ss.p.connectTimeout.Load())
	ep := s.ep
	s.connTimer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ep != ep || s.conn != connPending || s.rd.IsClosed() {
			return
		}
		if tcpConnecting(tcp.EndpointState(ep.State())) {
			s.connTimeout = true
			// Shutdown of a connecting endpoint fails the handshake
			// (and wakes the waiters) without closing the endpoint.
			_ = ep.Shutdown(tcpip.ShutdownWrite | tcpip.ShutdownRead)
		}
	})
}

func (s *socket) connectDgram(a sockAddr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.isUnspecified() {
		// connect to the all-zero address dissolves the association.
		if s.udpPeer {
			if terr := s.ep.Disconnect(); terr != nil {
				return translate(terr)
			}
			s.udpPeer = false
		}
		return nil
	}
	if err := s.checkPeerLocked(a); err != nil {
		return err
	}
	if isBroadcast(a.unmapped()) && !s.opts.Broadcast {
		return wsa.WSAEACCES
	}
	if err := s.implicitBindLocked(); err != nil {
		return err
	}
	if terr := s.ep.Connect(a.full()); terr != nil {
		return translate(terr)
	}
	s.udpPeer, s.udpPeer4 = true, a.unmapped().Is4()
	s.icmpErr = false
	return nil
}

// isBroadcast reports the limited broadcast address 255.255.255.255 (gVisor
// itself refuses subnet broadcasts without SO_BROADCAST).
func isBroadcast(a netip.Addr) bool { return wsp.IsLimitedBroadcast(a) }

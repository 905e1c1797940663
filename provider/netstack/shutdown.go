package netstack

import (
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSPShutdown is shutdown. how other than SD_RECEIVE, SD_SEND or SD_BOTH is
// WSAEINVAL; an unconnected stream socket WSAENOTCONN.
//
// SD_SEND: later sends fail WSAESHUTDOWN; a stream sends its FIN after the
// queued data. SD_RECEIVE: later receives fail WSAESHUTDOWN; on a stream,
// data already queued or arriving later resets the connection (the peer
// sees WSAECONNRESET), as on Windows; on a datagram socket datagrams are
// still queued. Calls blocked in recv (SD_RECEIVE) or send (SD_SEND) on the
// socket end with WSAESHUTDOWN.
func (ss *session) WSPShutdown(h wsa.Socket, how int32) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	return s.shutdown(how)
}

func (s *socket) shutdown(how int32) error {
	if how < wsa.SD_RECEIVE || how > wsa.SD_BOTH {
		return wsa.WSAEINVAL
	}
	rcv := how == wsa.SD_RECEIVE || how == wsa.SD_BOTH
	snd := how == wsa.SD_SEND || how == wsa.SD_BOTH
	s.mu.Lock()
	if s.stream {
		if s.listening || s.pollConnectLocked() != connDone {
			s.mu.Unlock()
			return wsa.WSAENOTCONN
		}
		if rcv {
			s.shutRecv = true
			s.rstOnData.Store(true)
			s.watchResetLocked()
			if n, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); err == nil && n > 0 {
				// Unread data: reset now (no FIN first).
				s.ep.Abort()
				if s.connErr == nil {
					s.connErr = wsa.WSAECONNABORTED
				}
				snd = false
				s.shutSend = s.shutSend || how == wsa.SD_BOTH
			}
		}
		if snd && !s.shutSend {
			s.shutSend = true
			_ = s.ep.Shutdown(tcpip.ShutdownWrite)
		}
	} else {
		s.shutRecv = s.shutRecv || rcv
		s.shutSend = s.shutSend || snd
	}
	s.mu.Unlock()
	// Wake blocked calls so they see the new state.
	s.rd.Notify(wsp.EventIn | wsp.EventOut)
	return nil
}

// WSPSendDisconnect is WSASendDisconnect: shutdown(SD_SEND). TCP/IP has no
// disconnect data: non-empty data fails WSAENOPROTOOPT, as MSL documents.
func (ss *session) WSPSendDisconnect(h wsa.Socket, disconnectData []byte) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	return wsp.Disconnect(disconnectData, func() error { return s.shutdown(wsa.SD_SEND) })
}

// WSPRecvDisconnect is WSARecvDisconnect: shutdown(SD_RECEIVE). TCP/IP has
// no disconnect data: a non-empty buffer for it fails WSAENOPROTOOPT.
func (ss *session) WSPRecvDisconnect(h wsa.Socket, disconnectData []byte) error {
	s, err := ss.lookup(h)
	if err != nil {
		return err
	}
	return wsp.Disconnect(disconnectData, func() error { return s.shutdown(wsa.SD_RECEIVE) })
}

// WSPCloseSocket is closesocket. Calls blocked on the socket in other
// goroutines end with WSAEINTR. The handle is released with
// WPUCloseSocketHandle, unless the call fails.
//
// Linger (spec §5.6): by default the close is graceful and completes in the
// background (queued data is sent, then FIN). With l_onoff set and
// l_linger 0 it is abortive: a RST, and the peer sees WSAECONNRESET. With
// l_linger > 0 a blocking socket waits up to l_linger seconds for its data
// and FIN to be sent and acknowledged, and resets the connection if they
// are not; a non-blocking socket fails WSAEWOULDBLOCK while that has not
// happened (the handle stays valid; call closesocket again), and resets once
// l_linger seconds have passed since the first call. Unlike Windows, the
// first such call already starts the graceful disconnect and waits up to a
// round trip for its acknowledgement (gVisor does not tell how much sent
// data is unacknowledged), so "cannot complete immediately" means "not
// acknowledged within about a round trip".
func (ss *session) WSPCloseSocket(h wsa.Socket) error {
	s, up, err := ss.lookupLazyUp(h)
	if err != nil {
		return err
	}
	return wsp.CloseSocket(up, h, &s.ovq, s.close)
}

// close carries out closesocket's linger rules; WSAEWOULDBLOCK leaves the
// socket open.
func (s *socket) close() error {
	s.mu.Lock()
	if s.rd.IsClosed() || s.closing {
		s.mu.Unlock()
		return wsa.WSAENOTSOCK
	}
	l := s.opts.Linger
	lingers := s.stream && l.Onoff != 0 && !s.listening && s.connErr == nil && s.pollConnectLocked() == connDone
	if lingers && l.Linger == 0 {
		s.ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true}) // RST on close
		s.finishCloseLocked()
		s.mu.Unlock()
		return nil
	}
	if !lingers || !tcpConnected(tcp.EndpointState(s.ep.State())) {
		s.finishCloseLocked()
		s.mu.Unlock()
		return nil
	}
	timeout := time.Duration(l.Linger) * time.Second
	return wsp.LingerClose(&s.mu, &s.rd.Readiness, &s.closing, &s.lingering, &s.lingerEnd, s.opts.Nonblocking, timeout, (*lingerOps)(s))
}

// lingerOps is a socket as wsp.LingerTransport, for its lingering close.
type lingerOps socket

func (o *lingerOps) SendFINLocked() {
	o.shutSend = true
	_ = o.ep.Shutdown(tcpip.ShutdownWrite)
}

func (o *lingerOps) GraceLocked(linger time.Duration) time.Duration {
	return (*socket)(o).graceLocked(linger)
}

func (o *lingerOps) FinAckedLocked() bool { return finAcked(o.ep) }

func (o *lingerOps) FinAckedFunc() func() bool {
	ep := o.ep
	return func() bool { return finAcked(ep) }
}

func (o *lingerOps) AbortLocked() {
	o.ep.SocketOptions().SetLinger(tcpip.LingerOption{Enabled: true})
}

func (o *lingerOps) FinishCloseLocked() { (*socket)(o).finishCloseLocked() }

// graceLocked is how long a non-blocking lingering close waits for its FIN
// to be acknowledged before failing WSAEWOULDBLOCK: twice the smoothed RTT
// plus 5 ms, at least 10 ms, at most 200 ms and the linger time.
func (s *socket) graceLocked(linger time.Duration) time.Duration {
	var info tcpip.TCPInfoOption
	d := 10 * time.Millisecond
	if s.ep.GetSockOpt(&info) == nil {
		d = max(d, 2*info.RTT+5*time.Millisecond)
	}
	return min(d, 200*time.Millisecond, linger)
}

// finAcked reports whether everything sent on ep, FIN included, is
// acknowledged (or the connection is gone, so there is nothing to wait for).
func finAcked(ep tcpip.Endpoint) bool {
	switch tcp.EndpointState(ep.State()) {
	case tcp.StateEstablished, tcp.StateCloseWait, tcp.StateFinWait1, tcp.StateClosing, tcp.StateLastAck:
		return false
	}
	return true
}

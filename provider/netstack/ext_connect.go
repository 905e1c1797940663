package netstack

import (
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// ConnectEx and DisconnectEx (spec §5.10).
//
// ConnectEx is ConnectEx. The socket must be a stream socket (a datagram
// socket is WSAEOPNOTSUPP: MSL only says ConnectEx is for connection-
// oriented sockets), bound (else WSAEINVAL), not listening (WSAEINVAL), not
// connected (WSAEISCONN) or connecting (WSAEALREADY); the address is checked
// as connect checks it. The operation completes when the connection is
// established and sendBuf (if any) is entirely buffered, with bytes = the
// bytes of sendBuf sent; or with the connect error (WSAECONNREFUSED,
// WSAETIMEDOUT, WSAENETUNREACH, ...), after which ConnectEx or connect may
// be called again. *sent is set only when it completes at once. The socket
// is fully usable after completion; SO_UPDATE_CONNECT_CONTEXT is accepted.
// Without an OVERLAPPED the call blocks.
func (ss *session) ConnectEx(h wsa.Socket, name wsa.Sockaddr, sendBuf []byte, sent *uint32, ov *wsa.Overlapped) error {
	s, up, err := ss.extSocket(h)
	if err != nil {
		return err
	}
	if !s.stream {
		return wsa.WSAEOPNOTSUPP
	}
	a, err := parseAddr(s.af, name)
	if err != nil {
		return err
	}
	if err := s.startConnect(a); err != nil {
		return err
	}
	s.rd.Events.UpdateAll() // FD_CONNECT, if registered, for this attempt
	r := &connectExReq{s: s}
	r.op.Step = r
	r.buf[0] = sendBuf
	s.ovq.InitOp(&r.op, up, ov, nil, nil)
	n, err := extCall(s, &s.ovq.Conn, &r.op)
	if err == nil && sent != nil {
		*sent = n
	}
	return err
}

// connectExReq is a ConnectEx: its Op and its state in one allocation.
type connectExReq struct {
	op   wsp.Op
	s    *socket
	buf  [1][]byte // sendBuf
	done int       // bytes of it buffered so far
	g    gatherReader
}

// Try implements wsp.Step: it waits for the handshake, then completes once
// all of sendBuf is buffered.
func (r *connectExReq) Try() (uint32, uint32, error) {
	s := r.s
	s.mu.Lock()
	st := s.pollConnectLocked()
	code := s.soError
	if st == connFailed {
		s.soError = 0 // reported by the operation
	}
	s.mu.Unlock()
	switch st {
	case connPending:
		return 0, 0, wsa.WSAEWOULDBLOCK
	case connFailed:
		return 0, 0, code
	}
	err := s.sendAllWith(&r.g, r.buf[:], len(r.buf[0]), &r.done)
	return uint32(r.done), 0, err
}

// Partial implements wsp.Step.
func (r *connectExReq) Partial() uint32 { return uint32(r.done) }

// startConnect starts a stream connection to a for ConnectEx: connect's
// first half, without the implicit bind (an unbound socket is WSAEINVAL).
func (s *socket) startConnect(a sockAddr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listening || !s.bound {
		return wsa.WSAEINVAL
	}
	switch s.pollConnectLocked() {
	case connDone:
		return wsa.WSAEISCONN
	case connPending:
		return wsa.WSAEALREADY
	case connFailed:
		if err := s.renewLocked(); err != nil {
			return err
		}
	}
	if err := s.checkPeerLocked(a); err != nil {
		return err
	}
	s.soError = 0
	s.rd.Events.Arm(wsa.FD_CONNECT | wsa.FD_WRITE)
	terr := s.ep.Connect(a.full())
	switch terr.(type) {
	case nil:
		s.conn = connDone
		s.connectedAt = time.Now()
	case *tcpip.ErrConnectStarted:
		s.conn = connPending
		s.startConnTimerLocked()
	default:
		if st := tcp.EndpointState(s.ep.State()); st == tcp.StateError || st == tcp.StateClose {
			s.conn = connFailed
		}
		return s.connectErrLocked(terr)
	}
	return nil
}

// DisconnectEx is DisconnectEx: a graceful disconnect of a connected stream
// socket (a datagram socket is WSAEOPNOTSUPP, an unconnected one
// WSAENOTCONN; flags other than TF_REUSE_SOCKET or a non-zero reserved
// WSAEINVAL). It is an operation of the send queue, so it starts after the
// sends issued before it: it shuts down sending (our FIN after the queued
// data) and completes when the peer's FIN has arrived or the connection has
// ended (a reset completes it without error). With TF_REUSE_SOCKET the
// socket is then back to a fresh, unbound, unconnected state, with its
// options, ready to be the accept socket of AcceptEx or to be bound and
// used with ConnectEx (the old connection lingers in TIME_WAIT inside
// gVisor, so rebinding its very port may fail for a while). Without an
// OVERLAPPED the call blocks.
func (ss *session) DisconnectEx(h wsa.Socket, ov *wsa.Overlapped, flags, reserved uint32) error {
	s, up, err := ss.extSocket(h)
	if err != nil {
		return err
	}
	if flags&^wsa.TF_REUSE_SOCKET != 0 || reserved != 0 {
		return wsa.WSAEINVAL
	}
	if !s.stream {
		return wsa.WSAEOPNOTSUPP
	}
	s.mu.Lock()
	connected := !s.listening && s.pollConnectLocked() == connDone
	s.mu.Unlock()
	if !connected {
		return wsa.WSAENOTCONN
	}
	op := s.ovq.NewOp(up, ov, nil, nil)
	d := &disconnector{s: s, reuse: flags&wsa.TF_REUSE_SOCKET != 0}
	op.Try = func() (uint32, uint32, error) { return 0, 0, d.try() }
	_, err = extCall(s, &s.ovq.Send, op)
	return err
}

// disconnector is the tail of DisconnectEx, and of TransmitFile and
// TransmitPackets with TF_DISCONNECT.
type disconnector struct {
	s      *socket
	reuse  bool
	noWait bool // TransmitFile TF_DISCONNECT alone: done once shut down
	shut   bool
}

// try shuts down sending once, then (unless noWait) waits for the peer's
// FIN or the end of the connection, then resets the socket for reuse if
// asked.
func (d *disconnector) try() error {
	s := d.s
	if !d.shut {
		s.mu.Lock()
		if !s.shutSend && s.conn == connDone {
			s.shutSend = true
			_ = s.ep.Shutdown(tcpip.ShutdownWrite)
		}
		s.mu.Unlock()
		d.shut = true
	}
	if d.noWait {
		return nil
	}
	s.mu.Lock()
	st := tcp.EndpointState(s.ep.State())
	s.mu.Unlock()
	switch st {
	case tcp.StateTimeWait, tcp.StateClosing, tcp.StateLastAck, tcp.StateClose, tcp.StateError, tcp.StateCloseWait:
	default:
		return wsa.WSAEWOULDBLOCK
	}
	if d.reuse {
		return s.resetForReuse()
	}
	return nil
}

// resetForReuse puts a disconnected socket back in its fresh state (a new
// endpoint with the socket's options, no binding, no connection), for
// TF_REUSE_SOCKET. Pending receives then fail WSAENOTCONN.
func (s *socket) resetForReuse() error {
	ep, wq, err := s.newEndpoint()
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.rd.IsClosed() {
		s.mu.Unlock()
		ep.Close()
		return wsa.WSA_OPERATION_ABORTED
	}
	s.applyOpts(ep, &s.opts)
	old := s.ep
	s.ep = ep
	if s.bindE != nil {
		s.ss.p.binds.release(s.bindK, s.bindE)
	}
	s.bound, s.bindK, s.bindE, s.bindAddr = false, bindKey{}, nil, tcpip.FullAddress{}
	s.listening = false
	s.stopConnTimerLocked()
	s.conn, s.connTimeout, s.connErr, s.soError = connNone, false, nil, 0
	s.connectedAt = time.Time{}
	s.shutRecv, s.shutSend = false, false
	s.udpPeer, s.icmpErr = false, false
	s.rstOnData.Store(false)
	s.hideNames.Store(false)
	s.mu.Unlock()
	old.Close()
	s.rd.attach(wq)
	return nil
}

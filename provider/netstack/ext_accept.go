package netstack

import (
	"encoding/binary"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// AcceptEx, GetAcceptExSockaddrs, SO_UPDATE_ACCEPT_CONTEXT and
// SO_UPDATE_CONNECT_CONTEXT (spec §5.10).
//
// AcceptEx is AcceptEx. listen must be a listening socket (else WSAEINVAL);
// accept a socket of the same family and type that is neither bound,
// connected nor listening, and not the accept socket of another pending
// AcceptEx (else WSAEINVAL). Each address length must be at least the
// family's sockaddr size + 16 (32 for IPv4, 44 for IPv6), and buf must hold
// receiveDataLength + both lengths (else WSAEFAULT; Windows accepts a short
// local length and fails the operation later with ERROR_INSUFFICIENT_BUFFER,
// here it does not start).
//
// Pending AcceptEx operations take connections in the order they were
// issued. The connection is attached to the accept socket (its handle stays
// the same). buf receives, in order: the first data (receiveDataLength
// bytes; 0 completes at once on the connection, else the operation waits
// for the first data or the peer's FIN), then the local and the remote
// address blocks, each an int32 length followed by the sockaddr (Wine's
// layout), which GetAcceptExSockaddrs parses. The completion (bytes = the
// first data's length) is delivered on the listening socket's handle, as on
// Windows; *received is set only when it completes at once. Every completion
// re-enables FD_ACCEPT on the listener.
//
// Until setsockopt(accept, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, listen
// handle as 8 bytes), getsockname on the accept socket fails WSAEINVAL and
// getpeername WSAENOTCONN, as if unbound and unconnected; data calls work.
// The update gives it the listener's options and its WSAEventSelect or
// WSAAsyncSelect registration, as accept does (see updateContext).
//
// Without an OVERLAPPED (Windows requires one) the call blocks like accept,
// whatever FIONBIO says; closing either socket ends it with WSAEINTR.
func (ss *session) AcceptEx(lh, ah wsa.Socket, buf []byte, rxLen, localLen, remoteLen uint32, received *uint32, ov *wsa.Overlapped) error {
	l, up, err := ss.extSocket(lh)
	if err != nil {
		return err
	}
	a, err := ss.lookupLazy(ah) // its endpoint would be replaced: none is made
	if err != nil {
		return err
	}
	l.mu.Lock()
	listening := l.listening
	l.mu.Unlock()
	if !listening || !l.stream || a == l || a.af != l.af || a.typ != l.typ {
		return wsa.WSAEINVAL
	}
	a.mu.Lock()
	fresh := !a.bound && a.conn == connNone && !a.listening
	a.mu.Unlock()
	if !fresh {
		return wsa.WSAEINVAL
	}
	if err := wsp.CheckAcceptExLengths(buf, rxLen, localLen, remoteLen, l.info.MaxSockAddr); err != nil {
		return err
	}
	st := &acceptExReq{l: l, a: a, buf: buf, rxLen: rxLen, localLen: localLen, remoteLen: remoteLen}
	op := &st.op
	op.Step = st
	l.ovq.InitOp(op, up, ov, nil, nil)
	if !a.ovq.AcceptOp.CompareAndSwap(nil, op) {
		return wsa.WSAEINVAL
	}
	op.Finish = func(error) {
		a.ovq.AcceptOp.CompareAndSwap(op, nil)
		l.rd.Events.Reenable(wsa.FD_ACCEPT)
	}
	n, err := extCall(l, &l.ovq.Accept, op)
	if err == nil && received != nil {
		*received = n
	}
	return err
}

// acceptExReq is an AcceptEx: its Op and its state in one allocation.
type acceptExReq struct {
	op                         wsp.Op
	l, a                       *socket
	buf                        []byte
	rxLen, localLen, remoteLen uint32

	attached      bool
	local, remote wsa.Sockaddr
	w             *scatterWriter // the first data
}

// Try implements wsp.Step: it takes a connection (on the listener's accept
// queue), attaches it to the accept socket and, when first data is wanted,
// moves the operation to the accept socket's receive queue, where it waits
// for the data.
func (st *acceptExReq) Try() (uint32, uint32, error) {
	if !st.attached {
		c, err := st.l.takeConn()
		if err != nil {
			return 0, 0, err
		}
		local, _ := c.ep.GetLocalAddress()
		if err := st.a.attachAccepted(c); err != nil {
			st.l.requeue(c) // for the next accept
			return 0, 0, err
		}
		st.attached = true
		st.local, st.remote = fromFull(st.l.af, local), fromFull(st.l.af, c.peer)
		if st.rxLen == 0 {
			st.writeAddrs()
			return 0, 0, nil
		}
		st.w = &scatterWriter{bufs: [][]byte{st.buf[:st.rxLen]}}
		return 0, 0, st.op.MoveTo(&st.a.ovq, &st.a.ovq.Recv)
	}
	err := st.a.tryRecvStream(st.w, false, false)
	if err != nil {
		return uint32(st.w.n), 0, err
	}
	st.writeAddrs()
	return uint32(st.w.n), 0, nil
}

// Partial implements wsp.Step: the first data received so far.
func (st *acceptExReq) Partial() uint32 {
	if st.w == nil {
		return 0
	}
	return uint32(st.w.n)
}

// writeAddrs writes the local and remote address blocks
// (wsp.PutAcceptExAddrs: Wine's layout, which GetAcceptExSockaddrs
// parses).
func (st *acceptExReq) writeAddrs() {
	wsp.PutAcceptExAddrs(st.buf, st.rxLen, st.localLen, st.remoteLen, st.local, st.remote)
}

// takeConn takes the next connection of a listener: a deferred one first,
// then gVisor's queue. WSAEWOULDBLOCK when there is none.
func (l *socket) takeConn() (accepted, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.listening {
		return accepted{}, wsa.WSAEINVAL
	}
	if len(l.deferred) > 0 {
		c := l.deferred[0]
		l.deferred = l.deferred[1:]
		return c, nil
	}
	ep, wq, terr := l.ep.Accept(&l.acceptPeer)
	if terr != nil {
		if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
			return accepted{}, wsa.WSAEWOULDBLOCK
		}
		return accepted{}, translate(terr)
	}
	return accepted{ep: ep, wq: wq, peer: l.acceptPeer}, nil
}

// attachAccepted gives the accept socket of an AcceptEx the connection c in
// place of its unused endpoint, if it has one (noEP), with its own options.
func (a *socket) attachAccepted(c accepted) error {
	a.mu.Lock()
	if a.rd.IsClosed() {
		a.mu.Unlock()
		return wsa.WSA_OPERATION_ABORTED
	}
	if a.bound || a.conn != connNone || a.listening {
		a.mu.Unlock()
		return wsa.WSAEINVAL // bound or connected meanwhile
	}
	old := a.ep
	a.ep = c.ep
	a.noEP.Store(false)
	a.bound = true
	a.bindAddr, _ = c.ep.GetLocalAddress()
	a.conn = connDone
	a.connectedAt = time.Now()
	a.applyOpts(c.ep, &a.opts)
	a.hideNames.Store(true)
	a.mu.Unlock()
	if old != nil {
		old.Close()
	}
	a.rd.attach(c.wq)
	return nil
}

// updateContext is setsockopt(SO_UPDATE_ACCEPT_CONTEXT or
// SO_UPDATE_CONNECT_CONTEXT).
//
// SO_UPDATE_ACCEPT_CONTEXT takes the listening socket's handle (8 bytes;
// shorter is WSAEFAULT; not a socket WSAENOTSOCK; not listening or of
// another family or type WSAEINVAL) and applies to a connected socket (else
// WSAENOTCONN): it inherits the listener's options and its WSAEventSelect or
// WSAAsyncSelect registration (same event or window and message, same mask,
// replacing one of its own; what already holds, FD_WRITE and FD_READ, is
// recorded at once), and getsockname and getpeername work.
//
// That is when an AcceptEx socket inherits, not at the AcceptEx completion:
// MSL (AcceptEx) says the accept socket "does not inherit the properties of
// the socket associated with sListenSocket parameter until
// SO_UPDATE_ACCEPT_CONTEXT is set on the socket", and MSAFD's
// SO_UPDATE_ACCEPT_CONTEXT runs SockCoreAccept, the routine accept runs,
// which copies the options and calls WSPAsyncSelect or WSPEventSelect on
// the new socket with the listener's registration (MSL WSAEventSelect:
// "Any WSAEventSelect association and network events selection set for the
// listening socket apply to the accepted socket").
//
// SO_UPDATE_CONNECT_CONTEXT (no value) is accepted on a connected stream
// socket (else WSAENOTCONN); the socket's state is already complete after
// ConnectEx.
func (ss *session) updateContext(s *socket, name int32, optval []byte) error {
	if name == wsa.SO_UPDATE_CONNECT_CONTEXT {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.stream || s.listening || s.pollConnectLocked() != connDone {
			return wsa.WSAENOTCONN
		}
		return nil
	}
	if len(optval) < 8 {
		return wsa.WSAEFAULT
	}
	l, err := ss.lookup(wsa.Socket(binary.LittleEndian.Uint64(optval)))
	if err != nil {
		return wsa.WSAENOTSOCK
	}
	l.mu.Lock()
	listening, opts := l.listening, l.opts
	l.mu.Unlock()
	if !listening || l.af != s.af || l.typ != s.typ {
		return wsa.WSAEINVAL
	}
	s.mu.Lock()
	if s.listening || s.conn != connDone {
		s.mu.Unlock()
		return wsa.WSAENOTCONN
	}
	opts.ReuseAddr, opts.Exclusive = false, false
	// A registration of its own keeps it non-blocking (FIONBIO 0 must
	// fail while one exists) if the listener's is not inherited.
	opts.Nonblocking = opts.Nonblocking || s.rd.Events.Registered()
	s.opts = opts
	s.applyOpts(s.ep, &s.opts)
	s.hideNames.Store(false)
	s.mu.Unlock()
	s.inheritEvents(l)
	return nil
}

// namesHidden reports whether getsockname and getpeername must answer as
// for an unbound, unconnected socket (an AcceptEx socket before
// SO_UPDATE_ACCEPT_CONTEXT).
func (s *socket) namesHidden() bool { return s.hideNames.Load() }

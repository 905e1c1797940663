package host

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// AcceptEx is AcceptEx (spec §5.10). listen must be a listening socket
// (else WSAEINVAL); accept a socket of the same family and type that is
// neither bound, connected nor listening, and not the accept socket of
// another pending AcceptEx (else WSAEINVAL). Each address length must be at
// least the family's sockaddr size + 16 (32 for IPv4, 44 for IPv6), and buf
// must hold receiveDataLength + both lengths (else WSAEFAULT).
//
// Pending AcceptEx operations take connections in the order they were
// issued. The kernel's accepted connection replaces the accept socket's
// unused descriptor (its handle stays the same). buf receives the first
// data (receiveDataLength bytes; 0 completes at once on the connection,
// else the operation waits for the first data or the peer's FIN), then the
// local and remote address blocks (wsp.PutAcceptExAddrs). The completion
// (bytes = the first data's length) is delivered on the listening socket's
// handle; *received is set only when it completes at once. Every completion
// re-enables FD_ACCEPT on the listener.
//
// Until setsockopt(accept, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, listen
// handle), getsockname fails WSAEINVAL and getpeername WSAENOTCONN, and the
// listener's options and WSAEventSelect / WSAAsyncSelect registration are
// not inherited (as in MSAFD); data calls work.
//
// Without an OVERLAPPED the call blocks like accept, whatever FIONBIO
// says; closing either socket ends it with WSAEINTR.
func (ss *session) AcceptEx(lh, ah wsa.Socket, buf []byte, rxLen, localLen, remoteLen uint32, received *uint32, ov *wsa.Overlapped) error {
	l, up, err := ss.extSocket(lh)
	if err != nil {
		return err
	}
	a, err := ss.lookup(ah)
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
	op := l.ovq.NewOp(up, ov, nil, nil)
	if !a.ovq.AcceptOp.CompareAndSwap(nil, op) {
		return wsa.WSAEINVAL
	}
	st := &acceptExOp{op: op, l: l, a: a, buf: buf, rxLen: rxLen, localLen: localLen, remoteLen: remoteLen}
	op.Try = st.try
	op.Partial = func() uint32 {
		if st.w == nil {
			return 0
		}
		return uint32(st.w.n)
	}
	op.Finish = func(error) {
		a.ovq.AcceptOp.CompareAndSwap(op, nil)
		l.rd.Events.Reenable(wsa.FD_ACCEPT)
	}
	n, _, err := l.ovq.Submit(&l.ovq.Accept, op)
	if err == nil && received != nil {
		*received = n
	}
	return err
}

// acceptExOp is the state of one AcceptEx.
type acceptExOp struct {
	op                         *wsp.Op
	l, a                       *socket
	buf                        []byte
	rxLen, localLen, remoteLen uint32

	attached      bool
	local, remote wsa.Sockaddr
	w             *scatter // the first data
}

// try takes a connection (on the listener's accept queue), attaches it to
// the accept socket and, when first data is wanted, moves the operation to
// the accept socket's receive queue, where it waits for the data.
func (st *acceptExOp) try() (uint32, uint32, error) {
	if !st.attached {
		c, err := st.l.takeConn()
		if err != nil {
			return 0, 0, err
		}
		local := st.l.localOf(c.fd)
		if err := st.a.attachAccepted(c); err != nil {
			st.l.requeue(c) // for the next accept
			return 0, 0, err
		}
		st.attached = true
		st.local, st.remote = local, c.peer
		if st.rxLen == 0 {
			wsp.PutAcceptExAddrs(st.buf, st.rxLen, st.localLen, st.remoteLen, st.local, st.remote)
			return 0, 0, nil
		}
		st.w = &scatter{bufs: [][]byte{st.buf[:st.rxLen]}}
		return 0, 0, st.op.MoveTo(&st.a.ovq, &st.a.ovq.Recv)
	}
	err := st.a.tryRecvStream(st.w, 0)
	if err != nil {
		return uint32(st.w.n), 0, err
	}
	wsp.PutAcceptExAddrs(st.buf, st.rxLen, st.localLen, st.remoteLen, st.local, st.remote)
	return uint32(st.w.n), 0, nil
}

// localOf is the local address of a connection accepted on l.
func (l *socket) localOf(fd int) wsa.Sockaddr {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return wsp.Sockaddr(l.af, netip.Addr{}, 0, 0)
	}
	return fromKernel(l.af, sa)
}

// attachAccepted gives the accept socket of an AcceptEx the connection c in
// place of its unused descriptor, with its own options.
func (a *socket) attachAccepted(c accepted) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rd.IsClosed() {
		return wsa.WSA_OPERATION_ABORTED
	}
	if a.bound || a.conn != connNone || a.listening {
		return wsa.WSAEINVAL // bound or connected meanwhile
	}
	a.applyOpts(c.fd, &a.opts)
	if err := a.replaceFDLocked(c.fd); err != nil {
		return err
	}
	a.bound = true
	a.conn = connDone
	a.connectedAt = time.Now()
	a.hideNames.Store(true)
	a.rd.Notify(wsp.EventAll) // waiters look at the new connection
	return nil
}

// updateContext is setsockopt(SO_UPDATE_ACCEPT_CONTEXT or
// SO_UPDATE_CONNECT_CONTEXT).
//
// SO_UPDATE_ACCEPT_CONTEXT takes the listening socket's handle (8 bytes;
// shorter is WSAEFAULT; not a socket WSAENOTSOCK; not listening or of
// another family or type WSAEINVAL) and applies to a connected socket (else
// WSAENOTCONN): it inherits the listener's options and its WSAEventSelect
// or WSAAsyncSelect registration (replacing one of its own; what already
// holds is recorded at once), and getsockname and getpeername work, as
// MSAFD's SO_UPDATE_ACCEPT_CONTEXT runs what accept runs.
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
	s.applyOpts(s.fd, &s.opts)
	s.hideNames.Store(false)
	s.mu.Unlock()
	s.inheritEvents(l)
	return nil
}

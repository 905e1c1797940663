package filter

import (
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// table is one started instance of the layer.
type table struct {
	*provider.PassThrough
	f *Filter
}

var (
	_ provider.ProcTable         = (*table)(nil)
	_ provider.AcceptExWrapper   = (*table)(nil)
	_ provider.ConnectExWrapper  = (*table)(nil)
	_ provider.WSASendMsgWrapper = (*table)(nil)
	_ provider.WSARecvMsgWrapper = (*table)(nil)
)

// proto returns the rule protocol of socket s, and whether the layer knows
// the socket (unknown handles pass unfiltered: they are not of its chains).
func (x *table) proto(s wsa.Socket) (Protocol, *provider.LayerSocket, bool) {
	ls, ok := x.Socket(s)
	if !ok {
		return AnyProtocol, nil, false
	}
	return protoOf(ls.Info), ls, true
}

// outDenied reports whether outbound traffic of s to sa is denied.
func (x *table) outDenied(s wsa.Socket, sa wsa.Sockaddr) bool {
	p, _, ok := x.proto(s)
	return ok && sa != nil && x.f.may(Out, p) && !x.f.allowed(Out, p, sa, 0)
}

// localPort is the local port of s when inbound rules look at ports.
func (x *table) localPort(s wsa.Socket) uint16 {
	if !x.f.rules.Load().inPorts {
		return 0
	}
	sa, err := x.PassThrough.WSPGetSockName(s)
	if err != nil {
		return 0
	}
	return portOf(sa)
}

// Outbound: connect, sendto, ConnectEx, WSASendMsg.

func (x *table) WSPConnect(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS) error {
	if x.outDenied(s, name) {
		return wsa.WSAEACCES
	}
	return x.PassThrough.WSPConnect(s, name, callerData, calleeData, sqos, gqos)
}

func (x *table) WSPJoinLeaf(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS, flags uint32) (wsa.Socket, error) {
	if x.outDenied(s, name) {
		return wsa.INVALID_SOCKET, wsa.WSAEACCES
	}
	return x.PassThrough.WSPJoinLeaf(s, name, callerData, calleeData, sqos, gqos, flags)
}

func (x *table) WSPSendTo(s wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	if p, _, ok := x.proto(s); ok && p != TCP && x.outDenied(s, to) {
		return 0, wsa.WSAEACCES
	}
	return x.PassThrough.WSPSendTo(s, bufs, flags, to, ov, cr, tid)
}

func (x *table) WrapConnectEx(lower provider.ConnectExFunc) provider.ConnectExFunc {
	return func(s wsa.Socket, name wsa.Sockaddr, sendBuf []byte, sent *uint32, ov *wsa.Overlapped) error {
		if x.outDenied(s, name) {
			return wsa.WSAEACCES
		}
		return lower(s, name, sendBuf, sent, ov)
	}
}

func (x *table) WrapWSASendMsg(lower provider.WSASendMsgFunc) provider.WSASendMsgFunc {
	return func(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, sent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
		if msg != nil {
			if p, _, ok := x.proto(s); ok && p != TCP && x.outDenied(s, msg.Name) {
				return wsa.WSAEACCES
			}
		}
		return lower(s, msg, flags, sent, ov, cr)
	}
}

// Inbound connections: WSPAccept and AcceptEx.

// WSPAccept refuses denied connections through a condition function of its
// own (CF_REJECT: the connection is reset) and accepts on, so the caller
// never sees them; the application's condition function, if any, is asked
// only about allowed ones.
func (x *table) WSPAccept(s wsa.Socket, cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error) {
	if p, _, ok := x.proto(s); !ok || !x.f.may(In, p) {
		return x.PassThrough.WSPAccept(s, cond, callbackData)
	}
	p, _, _ := x.proto(s)
	for {
		rejected := false
		wrapped := func(callerID wsa.Sockaddr, callerData []byte, sqos, gqos *wsa.QOS, calleeID wsa.Sockaddr, calleeData []byte, g *uint32, data uintptr) int32 {
			if !x.f.allowed(In, p, callerID, portOf(calleeID)) {
				rejected = true
				return wsa.CF_REJECT
			}
			if cond == nil {
				return wsa.CF_ACCEPT
			}
			return cond(callerID, callerData, sqos, gqos, calleeID, calleeData, g, data)
		}
		h, sa, err := x.PassThrough.WSPAccept(s, wrapped, callbackData)
		if err == wsa.WSAECONNREFUSED && rejected {
			continue // refused before the caller saw it: accept the next
		}
		return h, sa, err
	}
}

// WrapAcceptEx checks the peer of each connection AcceptEx accepts before
// the application sees the completion. A denied one is shut down and the
// accept socket, once the connection has closed, is used for the next
// connection (DisconnectEx with TF_REUSE_SOCKET, then AcceptEx again), so
// the application's AcceptEx completes only with an allowed connection.
// If the denied connection does not close within Config.RejectTimeout (its
// peer keeps it open), the AcceptEx fails with WSAECONNRESET instead, as an
// AcceptEx whose client reset does.
func (x *table) WrapAcceptEx(lower provider.AcceptExFunc) provider.AcceptExFunc {
	return func(listen, accept wsa.Socket, buf []byte, rx, ll, rl uint32, n *uint32, ov *wsa.Overlapped) error {
		p, ls, ok := x.proto(listen)
		if !ok || !x.f.may(In, p) {
			return lower(listen, accept, buf, rx, ll, rl, n, ov)
		}
		fn, err := x.LowerExtension(listen, wsa.WSAID_GETACCEPTEXSOCKADDRS)
		if err != nil {
			return err
		}
		sockaddrs, _ := fn.(provider.GetAcceptExSockaddrsFunc)
		allowed := func() bool {
			if sockaddrs == nil || uint64(rx)+uint64(ll)+uint64(rl) > uint64(len(buf)) {
				return true
			}
			local, remote, err := sockaddrs(buf, rx, ll, rl)
			if err != nil {
				return true
			}
			return x.f.allowed(In, p, remote, portOf(local))
		}
		if ov == nil || !ls.Overlapped {
			for {
				if err := lower(listen, accept, buf, rx, ll, rl, n, nil); err != nil || allowed() {
					return err
				}
				if err := x.reject(accept); err != nil {
					return wsa.WSAECONNRESET
				}
			}
		}
		var got uint32
		n2, err := x.Intercept(listen, ov, nil, nil, func(own *wsa.Overlapped) (uint32, error) {
			err := lower(listen, accept, buf, rx, ll, rl, &got, own)
			return got, err
		}, func(op *provider.Intercepted, errno wsa.Errno, bytes, flags uint32) provider.Verdict {
			if errno != 0 || allowed() {
				return provider.Deliver
			}
			go func() {
				if err := x.reject(accept); err != nil {
					op.Complete(wsa.WSAECONNRESET, 0, 0)
					return
				}
				reissue(op)
			}()
			return provider.Retain
		})
		if err == nil && n != nil {
			*n = n2
		}
		return err
	}
}

// reissue issues a retained operation again. The base may still hold what
// the previous operation took (an AcceptEx's accept socket is released just
// after its completion is delivered): WSAEINVAL is retried for a while. An
// operation that cannot be issued again completes aborted, as when its
// socket closes.
func reissue(op *provider.Intercepted) {
	for i := 0; ; i++ {
		switch err := op.Reissue(); err {
		case nil, wsa.WSA_OPERATION_ABORTED:
			return
		case wsa.WSAEINVAL:
			if i < 200 {
				time.Sleep(time.Millisecond)
				continue
			}
		}
		op.Complete(wsa.WSA_OPERATION_ABORTED, 0, 0)
		return
	}
}

// reject closes the denied connection on accept socket a and makes the
// socket fresh again (DisconnectEx, TF_REUSE_SOCKET), waiting at most
// RejectTimeout.
func (x *table) reject(a wsa.Socket) error {
	_ = x.PassThrough.WSPShutdown(a, wsa.SD_BOTH)
	fn, err := x.LowerExtension(a, wsa.WSAID_DISCONNECTEX)
	if err != nil {
		return err
	}
	disconnect, ok := fn.(provider.DisconnectExFunc)
	if !ok {
		return wsa.WSAEOPNOTSUPP
	}
	done := make(chan error, 1)
	go func() { done <- disconnect(a, nil, wsa.TF_REUSE_SOCKET, 0) }()
	t := time.NewTimer(x.f.cfg.RejectTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return wsa.WSAETIMEDOUT
	}
}

// Inbound datagrams: WSPRecvFrom, WSPRecv and WSARecvMsg on datagram
// sockets drop the datagrams of denied sources and receive the next.

// udpIn returns the socket if inbound datagrams on s are filtered.
func (x *table) udpIn(s wsa.Socket) (*provider.LayerSocket, bool) {
	p, ls, ok := x.proto(s)
	if !ok || p != UDP || !x.f.may(In, UDP) {
		return nil, false
	}
	return ls, true
}

func (x *table) WSPRecvFrom(s wsa.Socket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	ls, ok := x.udpIn(s)
	if !ok || flags == nil {
		return x.PassThrough.WSPRecvFrom(s, bufs, flags, from, ov, cr, tid)
	}
	return x.recvFiltered(s, ls, bufs, flags, from, ov, cr, tid)
}

func (x *table) WSPRecv(s wsa.Socket, bufs [][]byte, flags *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	ls, ok := x.udpIn(s)
	if !ok || flags == nil {
		return x.PassThrough.WSPRecv(s, bufs, flags, ov, cr, tid)
	}
	return x.recvFiltered(s, ls, bufs, flags, nil, ov, cr, tid)
}

// discard takes the next datagram off s (after a denied MSG_PEEK).
func (x *table) discard(s wsa.Socket) {
	var fl uint32
	var b [1]byte
	_, _ = x.PassThrough.WSPRecvFrom(s, [][]byte{b[:]}, &fl, nil, nil, nil, nil)
}

func (x *table) recvFiltered(s wsa.Socket, ls *provider.LayerSocket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	in := *flags
	port := x.localPort(s)
	if ov == nil || !ls.Overlapped {
		for {
			fl := in
			var src wsa.Sockaddr
			n, err := x.PassThrough.WSPRecvFrom(s, bufs, &fl, &src, nil, nil, nil)
			if (err != nil && err != wsa.WSAEMSGSIZE) || x.f.allowed(In, UDP, src, port) {
				*flags = fl
				if from != nil && (err == nil || err == wsa.WSAEMSGSIZE) {
					*from = src
				}
				return n, err
			}
			if in&wsa.MSG_PEEK != 0 {
				x.discard(s)
			}
		}
	}
	var (
		fl  uint32
		src wsa.Sockaddr
	)
	n, err := x.Intercept(s, ov, cr, tid, func(own *wsa.Overlapped) (uint32, error) {
		fl, src = in, nil
		return x.PassThrough.WSPRecvFrom(s, bufs, &fl, &src, own, nil, nil)
	}, func(op *provider.Intercepted, errno wsa.Errno, bytes, flags uint32) provider.Verdict {
		if (errno != 0 && errno != wsa.WSAEMSGSIZE) || x.f.allowed(In, UDP, src, port) {
			if from != nil && (errno == 0 || errno == wsa.WSAEMSGSIZE) {
				*from = src
			}
			return provider.Deliver
		}
		go func() {
			if in&wsa.MSG_PEEK != 0 {
				x.discard(s)
			}
			reissue(op)
		}()
		return provider.Retain
	})
	if err == nil || err == wsa.WSAEMSGSIZE {
		*flags = fl
	}
	return n, err
}

func (x *table) WrapWSARecvMsg(lower provider.WSARecvMsgFunc) provider.WSARecvMsgFunc {
	return func(s wsa.Socket, msg *wsa.WSAMsg, n *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
		ls, ok := x.udpIn(s)
		if !ok || msg == nil {
			return lower(s, msg, n, ov, cr)
		}
		port := x.localPort(s)
		ctl, inFlags := msg.Control, msg.Flags
		restore := func() { msg.Control, msg.Flags, msg.Name = ctl, inFlags, nil }
		if ov == nil || !ls.Overlapped {
			for {
				err := lower(s, msg, n, nil, nil)
				if (err != nil && err != wsa.WSAEMSGSIZE) || x.f.allowed(In, UDP, msg.Name, port) {
					return err
				}
				if inFlags&wsa.MSG_PEEK != 0 {
					x.discard(s)
				}
				restore()
			}
		}
		var tid *provider.ThreadID
		if cr != nil { // WSARecvMsg has no thread id: the caller's is the current one
			t, err := x.Upcalls().WPUOpenCurrentThread()
			if err != nil {
				return err
			}
			tid = &t
		}
		var got uint32
		n2, err := x.Intercept(s, ov, cr, tid, func(own *wsa.Overlapped) (uint32, error) {
			err := lower(s, msg, &got, own, nil)
			return got, err
		}, func(op *provider.Intercepted, errno wsa.Errno, bytes, flags uint32) provider.Verdict {
			if (errno != 0 && errno != wsa.WSAEMSGSIZE) || x.f.allowed(In, UDP, msg.Name, port) {
				return provider.Deliver
			}
			go func() {
				if inFlags&wsa.MSG_PEEK != 0 {
					x.discard(s)
				}
				restore()
				reissue(op)
			}()
			return provider.Retain
		})
		if (err == nil || err == wsa.WSAEMSGSIZE) && n != nil {
			*n = n2
		}
		return err
	}
}

package providertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// The extension functions (spec §2.7, §5.10): handed out through
// SIO_GET_EXTENSION_FUNCTION_POINTER and called as the api would.

// ext returns the extension function of GUID g for socket s of h.
func (e *env) ext(h Host, s wsa.Socket, g wsa.GUID) any {
	e.t.Helper()
	in := make([]byte, wsa.SizeofGUID)
	_ = g.Marshal(in)
	out := make([]byte, 8)
	n, err := h.Procs.WSPIoctl(s, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in, out, nil, nil, nil)
	e.check(err, nil, "SIO_GET_EXTENSION_FUNCTION_POINTER "+g.String())
	if n != 8 {
		e.t.Fatalf("SIO_GET_EXTENSION_FUNCTION_POINTER wrote %d bytes", n)
	}
	fn, ok := provider.ExtensionFunction(uintptr(binary.LittleEndian.Uint64(out)))
	if !ok {
		e.t.Fatalf("extension handle of %v unknown", g)
	}
	return fn
}

func (e *env) acceptEx(h Host, s wsa.Socket) provider.AcceptExFunc {
	e.t.Helper()
	return e.ext(h, s, wsa.WSAID_ACCEPTEX).(provider.AcceptExFunc)
}

func (e *env) getAcceptExSockaddrs(h Host, s wsa.Socket) provider.GetAcceptExSockaddrsFunc {
	e.t.Helper()
	return e.ext(h, s, wsa.WSAID_GETACCEPTEXSOCKADDRS).(provider.GetAcceptExSockaddrsFunc)
}

func (e *env) connectEx(h Host, s wsa.Socket) provider.ConnectExFunc {
	e.t.Helper()
	return e.ext(h, s, wsa.WSAID_CONNECTEX).(provider.ConnectExFunc)
}

func (e *env) disconnectEx(h Host, s wsa.Socket) provider.DisconnectExFunc {
	e.t.Helper()
	return e.ext(h, s, wsa.WSAID_DISCONNECTEX).(provider.DisconnectExFunc)
}

func (e *env) transmitFile(h Host, s wsa.Socket) provider.TransmitFileFunc {
	e.t.Helper()
	return e.ext(h, s, wsa.WSAID_TRANSMITFILE).(provider.TransmitFileFunc)
}

func (e *env) transmitPackets(h Host, s wsa.Socket) provider.TransmitPacketsFunc {
	e.t.Helper()
	return e.ext(h, s, wsa.WSAID_TRANSMITPACKETS).(provider.TransmitPacketsFunc)
}

func (e *env) recvMsg(h Host, s wsa.Socket) provider.WSARecvMsgFunc {
	e.t.Helper()
	return e.ext(h, s, wsa.WSAID_WSARECVMSG).(provider.WSARecvMsgFunc)
}

func (e *env) sendMsg(h Host, s wsa.Socket) provider.WSASendMsgFunc {
	e.t.Helper()
	return e.ext(h, s, wsa.WSAID_WSASENDMSG).(provider.WSASendMsgFunc)
}

// addrLen is the AcceptEx address block length of the test's family.
func (e *env) addrLen() uint32 {
	if e.af == wsa.AF_INET {
		return wsa.SizeofSockaddrInet4 + 16
	}
	return wsa.SizeofSockaddrInet6 + 16
}

// dial connects a new client socket to to.
func (e *env) dial(to wsa.Sockaddr) wsa.Socket {
	e.t.Helper()
	c := e.sock(e.cli, wsa.SOCK_STREAM)
	e.check(e.connect(e.cli, c, to), nil, "connect")
	return c
}

// updateAccept sets SO_UPDATE_ACCEPT_CONTEXT on a with listener l.
func (e *env) updateAccept(a, l wsa.Socket) error {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(l))
	return e.srv.Procs.WSPSetSockOpt(a, wsa.SOL_SOCKET, wsa.SO_UPDATE_ACCEPT_CONTEXT, b)
}

// recvAll reads s until the peer's FIN and returns everything.
func (e *env) recvAll(h Host, s wsa.Socket) []byte {
	e.t.Helper()
	e.setTimeout(h, s, wsa.SO_RCVTIMEO, waitFor)
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := e.recv(h, s, buf, 0)
		e.check(err, nil, "recv")
		if n == 0 {
			return got
		}
		got = append(got, buf[:n]...)
	}
}

// tempFile makes a file of n pseudo-random bytes.
func (e *env) tempFile(n int) (*os.File, []byte) {
	e.t.Helper()
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	f, err := os.Create(filepath.Join(e.t.TempDir(), "data"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = f.Close() })
	if _, err := f.Write(data); err != nil {
		e.t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		e.t.Fatal(err)
	}
	return f, data
}

var _ = addGroup("Extensions",
	testCase{name: "FunctionPointer", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_STREAM)
		in := make([]byte, 16)
		_ = wsa.WSAID_ACCEPTEX.Marshal(in)
		out := make([]byte, 8)
		_, err := e.srv.Procs.WSPIoctl(s, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in, out[:4], nil, nil, nil)
		e.check(err, wsa.WSAEFAULT, "4-byte output")
		_, err = e.srv.Procs.WSPIoctl(s, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in[:8], out, nil, nil, nil)
		e.check(err, wsa.WSAEFAULT, "8-byte GUID")
		bad := make([]byte, 16)
		_ = wsa.MSAFD_TCPIP_PROVIDER_ID.Marshal(bad)
		_, err = e.srv.Procs.WSPIoctl(s, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, bad, out, nil, nil, nil)
		e.check(err, wsa.WSAEINVAL, "unknown GUID")
		// One handle per function, whatever the socket.
		_, err = e.srv.Procs.WSPIoctl(s, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in, out, nil, nil, nil)
		e.check(err, nil, "AcceptEx")
		h1 := binary.LittleEndian.Uint64(out)
		u := e.sock(e.srv, wsa.SOCK_DGRAM)
		_, err = e.srv.Procs.WSPIoctl(u, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in, out, nil, nil, nil)
		e.check(err, nil, "AcceptEx on another socket")
		if h2 := binary.LittleEndian.Uint64(out); h2 != h1 {
			e.t.Fatalf("AcceptEx handles %d and %d", h1, h2)
		}
		for _, g := range []wsa.GUID{wsa.WSAID_ACCEPTEX, wsa.WSAID_GETACCEPTEXSOCKADDRS, wsa.WSAID_CONNECTEX,
			wsa.WSAID_DISCONNECTEX, wsa.WSAID_TRANSMITFILE, wsa.WSAID_TRANSMITPACKETS, wsa.WSAID_WSARECVMSG, wsa.WSAID_WSASENDMSG} {
			e.ext(e.srv, s, g)
		}
	}},
	testCase{name: "AcceptEx", fn: func(e *env) {
		l, to := e.listener()
		a := e.sock(e.srv, wsa.SOCK_STREAM)
		acceptEx := e.acceptEx(e.srv, l)
		al := e.addrLen()
		buf := make([]byte, 2*al)
		ov := e.ovEvent(e.srv)
		var rx uint32 = 99
		e.check(acceptEx(l, a, buf, 0, al, al, &rx, ov), wsa.WSA_IO_PENDING, "AcceptEx")
		e.pendingOv(e.srv, l, ov, "AcceptEx before a connection")
		c := e.dial(to)
		e.waitOvOK(e.srv, l, ov, 0, "AcceptEx")
		if rx != 99 {
			e.t.Fatal("AcceptEx wrote *received for a pending operation")
		}
		local, remote, err := e.getAcceptExSockaddrs(e.srv, l)(buf, 0, al, al)
		e.check(err, nil, "GetAcceptExSockaddrs")
		if local.AddrPort() != to.AddrPort() || remote.AddrPort() != e.name(e.cli, c) {
			e.t.Fatalf("GetAcceptExSockaddrs: local %v remote %v; want %v %v", local.AddrPort(), remote.AddrPort(), to.AddrPort(), e.name(e.cli, c))
		}
		// Before SO_UPDATE_ACCEPT_CONTEXT: unbound and unconnected to
		// getsockname and getpeername; data flows.
		_, err = e.srv.Procs.WSPGetSockName(a)
		e.check(err, wsa.WSAEINVAL, "getsockname before SO_UPDATE_ACCEPT_CONTEXT")
		_, err = e.srv.Procs.WSPGetPeerName(a)
		e.check(err, wsa.WSAENOTCONN, "getpeername before SO_UPDATE_ACCEPT_CONTEXT")
		e.send(e.cli, c, []byte("ping"))
		e.recvFull(e.srv, a, []byte("ping"))
		e.check(e.updateAccept(a, a), wsa.WSAEINVAL, "SO_UPDATE_ACCEPT_CONTEXT with a non-listener")
		e.check(e.srv.Procs.WSPSetSockOpt(a, wsa.SOL_SOCKET, wsa.SO_UPDATE_ACCEPT_CONTEXT, make([]byte, 4)), wsa.WSAEFAULT, "short SO_UPDATE_ACCEPT_CONTEXT")
		e.check(e.updateAccept(a, l), nil, "SO_UPDATE_ACCEPT_CONTEXT")
		if e.name(e.srv, a) != to.AddrPort() {
			e.t.Fatalf("getsockname after the update: %v", e.name(e.srv, a))
		}
		peer, err := e.srv.Procs.WSPGetPeerName(a)
		e.check(err, nil, "getpeername after the update")
		if peer.AddrPort() != e.name(e.cli, c) {
			e.t.Fatalf("getpeername: %v", peer.AddrPort())
		}
		e.send(e.srv, a, []byte("pong"))
		e.recvFull(e.cli, c, []byte("pong"))

		// At once, when a connection is queued; *received is set.
		c2 := e.dial(to)
		a2 := e.sock(e.srv, wsa.SOCK_STREAM)
		ov2 := e.ovEvent(e.srv)
		var err2 error
		e.eventually("AcceptEx with a queued connection", func() bool {
			err2 = acceptEx(l, a2, buf, 0, al, al, &rx, ov2)
			if errors.Is(err2, wsa.WSA_IO_PENDING) {
				e.waitOvOK(e.srv, l, ov2, 0, "AcceptEx")
				return true
			}
			return err2 == nil
		})
		if err2 == nil && (rx != 0 || !e.signaled(e.srv, ov2)) {
			e.t.Fatalf("immediate AcceptEx: received %d, signalled %v", rx, e.signaled(e.srv, ov2))
		}
		_, remote, _ = e.getAcceptExSockaddrs(e.srv, l)(buf, 0, al, al)
		if remote.AddrPort() != e.name(e.cli, c2) {
			e.t.Fatalf("second AcceptEx: remote %v", remote.AddrPort())
		}
	}},
	testCase{name: "AcceptExFirstData", fn: func(e *env) {
		l, to := e.listener()
		a := e.sock(e.srv, wsa.SOCK_STREAM)
		al := e.addrLen()
		buf := make([]byte, 16+2*al)
		ov := e.ovEvent(e.srv)
		e.check(e.acceptEx(e.srv, l)(l, a, buf, 16, al, al, nil, ov), wsa.WSA_IO_PENDING, "AcceptEx with data")
		c := e.dial(to)
		e.stillPending(e.srv, l, ov, "AcceptEx connected, no data")
		e.send(e.cli, c, []byte("first"))
		e.waitOvOK(e.srv, l, ov, 5, "AcceptEx with data")
		if string(buf[:5]) != "first" {
			e.t.Fatalf("first data %q", buf[:5])
		}
		local, remote, err := e.getAcceptExSockaddrs(e.srv, l)(buf, 16, al, al)
		e.check(err, nil, "GetAcceptExSockaddrs")
		if local.AddrPort() != to.AddrPort() || remote.AddrPort() != e.name(e.cli, c) {
			e.t.Fatalf("GetAcceptExSockaddrs: %v %v", local.AddrPort(), remote.AddrPort())
		}
		_, _, err = e.getAcceptExSockaddrs(e.srv, l)(buf[:20], 16, al, al)
		e.check(err, wsa.WSAEFAULT, "GetAcceptExSockaddrs on a short buffer")
		// A connection closed before any data completes it with 0 bytes.
		a2 := e.sock(e.srv, wsa.SOCK_STREAM)
		ov = e.ovEvent(e.srv)
		e.check(e.acceptEx(e.srv, l)(l, a2, buf, 16, al, al, nil, ov), wsa.WSA_IO_PENDING, "AcceptEx with data")
		c2 := e.dial(to)
		e.check(e.cli.Procs.WSPShutdown(c2, wsa.SD_SEND), nil, "shutdown")
		e.waitOvOK(e.srv, l, ov, 0, "AcceptEx at FIN")
	}},
	testCase{name: "AcceptExOrder", fn: func(e *env) {
		l, to := e.listener()
		al := e.addrLen()
		acceptEx := e.acceptEx(e.srv, l)
		var ovs []*wsa.Overlapped
		var bufs [][]byte
		for range 3 {
			a := e.sock(e.srv, wsa.SOCK_STREAM)
			buf := make([]byte, 2*al)
			ov := e.ovEvent(e.srv)
			e.check(acceptEx(l, a, buf, 0, al, al, nil, ov), wsa.WSA_IO_PENDING, "AcceptEx")
			ovs, bufs = append(ovs, ov), append(bufs, buf)
		}
		for i := range 3 {
			c := e.dial(to)
			e.waitOvOK(e.srv, l, ovs[i], 0, "AcceptEx")
			_, remote, err := e.getAcceptExSockaddrs(e.srv, l)(bufs[i], 0, al, al)
			e.check(err, nil, "GetAcceptExSockaddrs")
			if remote.AddrPort() != e.name(e.cli, c) {
				e.t.Fatalf("AcceptEx %d got %v, want %v", i, remote.AddrPort(), e.name(e.cli, c))
			}
		}
	}},
	testCase{name: "AcceptExErrors", fn: func(e *env) {
		l, _ := e.listener()
		acceptEx := e.acceptEx(e.srv, l)
		al := e.addrLen()
		buf := make([]byte, 2*al)
		a := e.sock(e.srv, wsa.SOCK_STREAM)
		ov := e.ovEvent(e.srv)
		notListening := e.sock(e.srv, wsa.SOCK_STREAM)
		e.check(acceptEx(notListening, a, buf, 0, al, al, nil, ov), wsa.WSAEINVAL, "AcceptEx on a socket not listening")
		e.check(acceptEx(wsa.Socket(0xdead0), a, buf, 0, al, al, nil, ov), wsa.WSAENOTSOCK, "AcceptEx on a bad listener")
		e.check(acceptEx(l, wsa.Socket(0xdead0), buf, 0, al, al, nil, ov), wsa.WSAENOTSOCK, "AcceptEx with a bad accept socket")
		bound := e.sock(e.srv, wsa.SOCK_STREAM)
		e.bind(e.srv, bound, e.srvA, 0)
		e.check(acceptEx(l, bound, buf, 0, al, al, nil, ov), wsa.WSAEINVAL, "AcceptEx with a bound accept socket")
		other := e.sockOf(e.srv, other(e.af), wsa.SOCK_STREAM)
		e.check(acceptEx(l, other, buf, 0, al, al, nil, ov), wsa.WSAEINVAL, "AcceptEx with an accept socket of the other family")
		udp := e.sock(e.srv, wsa.SOCK_DGRAM)
		e.check(acceptEx(l, udp, buf, 0, al, al, nil, ov), wsa.WSAEINVAL, "AcceptEx with a datagram accept socket")
		e.check(acceptEx(l, a, buf, 0, al-1, al, nil, ov), wsa.WSAEFAULT, "local address length too small")
		e.check(acceptEx(l, a, buf, 0, al, al-1, nil, ov), wsa.WSAEFAULT, "remote address length too small")
		e.check(acceptEx(l, a, buf[:2*al-1], 0, al, al, nil, ov), wsa.WSAEFAULT, "buffer too small")
		e.check(acceptEx(l, a, buf, 0, al, al, nil, ov), wsa.WSA_IO_PENDING, "AcceptEx")
		e.check(acceptEx(l, a, make([]byte, 2*al), 0, al, al, nil, e.ovEvent(e.srv)), wsa.WSAEINVAL, "the same accept socket twice")
		if e.signaled(e.srv, ov) {
			e.t.Fatal("AcceptEx completed without a connection")
		}
		// Closing the listener aborts it.
		e.check(e.srv.Procs.WSPCloseSocket(l), nil, "closesocket")
		if !e.srv.Upcalls.Event(ov.HEvent).Wait(waitFor) || wsa.Errno(ov.OffsetHigh) != wsa.WSA_OPERATION_ABORTED {
			e.t.Fatalf("AcceptEx after closing the listener: %+v", *ov)
		}
	}},
	testCase{name: "AcceptExInheritsEventSelect", fn: func(e *env) {
		// An AcceptEx socket takes the listener's WSAEventSelect
		// registration (same event, same mask) when SO_UPDATE_ACCEPT_CONTEXT
		// is set, not before: MSL AcceptEx ("does not inherit the properties
		// of the socket associated with sListenSocket parameter until
		// SO_UPDATE_ACCEPT_CONTEXT is set"), MSAFD's SockCoreAccept.
		l, to := e.listener()
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, l, ev, wsa.FD_ACCEPT|wsa.FD_READ|wsa.FD_WRITE|wsa.FD_CLOSE)
		a := e.sock(e.srv, wsa.SOCK_STREAM)
		al := e.addrLen()
		ov := e.ovEvent(e.srv)
		e.check(e.acceptEx(e.srv, l)(l, a, make([]byte, 2*al), 0, al, al, nil, ov), wsa.WSA_IO_PENDING, "AcceptEx")
		c := e.dial(to)
		e.waitOvOK(e.srv, l, ov, 0, "AcceptEx")
		e.send(e.cli, c, []byte("x"))
		e.eventually("data on the accept socket", func() bool { return e.fionread(e.srv, a) == 1 })
		n, err := e.srv.Procs.WSPEnumNetworkEvents(a, 0)
		e.check(err, nil, "WSPEnumNetworkEvents")
		if n.NetworkEvents != 0 {
			e.t.Fatalf("before SO_UPDATE_ACCEPT_CONTEXT: recorded %#x", n.NetworkEvents)
		}
		e.check(e.updateAccept(a, l), nil, "SO_UPDATE_ACCEPT_CONTEXT")
		// What already holds is recorded at once: FD_WRITE (a send is
		// possible, as after accept) and FD_READ (the byte queued).
		if !ev.ev.Signaled() {
			e.t.Fatal("SO_UPDATE_ACCEPT_CONTEXT: the listener's event not signalled")
		}
		e.wantRecord(e.enum(e.srv, a, ev), wsa.FD_READ|wsa.FD_WRITE, noCodes, "after SO_UPDATE_ACCEPT_CONTEXT")
		e.check(e.fionbio(e.srv, a, 0), wsa.WSAEINVAL, "FIONBIO 0 on the registered accept socket")
		if got := e.recvSome(e.srv, a, 4, 0); got != 1 {
			e.t.Fatalf("recv %d bytes", got)
		}
		_, err = e.recv(e.srv, a, make([]byte, 4), 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "recv on the accept socket (non-blocking)")
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "close the client")
		e.wantRecord(e.waitEvents(e.srv, a, ev, wsa.FD_CLOSE), wsa.FD_CLOSE, noCodes, "the peer's close")
	}},
	testCase{name: "AcceptExInheritsAsyncSelect", fn: func(e *env) {
		if e.srv.Upcalls == nil {
			e.t.Skip("harness has no fake upcall table")
		}
		u := e.srv.Upcalls
		l, to := e.listener()
		e.check(e.srv.Procs.WSPAsyncSelect(l, msgWindow, msgID, wsa.FD_ACCEPT|wsa.FD_READ|wsa.FD_WRITE|wsa.FD_CLOSE), nil, "WSPAsyncSelect")
		a := e.sock(e.srv, wsa.SOCK_STREAM)
		al := e.addrLen()
		ov := e.ovEvent(e.srv)
		e.check(e.acceptEx(e.srv, l)(l, a, make([]byte, 2*al), 0, al, al, nil, ov), wsa.WSA_IO_PENDING, "AcceptEx")
		c := e.dial(to)
		e.waitOvOK(e.srv, l, ov, 0, "AcceptEx")
		e.send(e.cli, c, []byte("x"))
		e.eventually("data on the accept socket", func() bool { return e.fionread(e.srv, a) == 1 })
		// The listener may have posted FD_ACCEPT; nothing for the accept
		// socket before SO_UPDATE_ACCEPT_CONTEXT.
		time.Sleep(quietFor)
		for _, m := range u.Messages() {
			if m.WParam == uintptr(a) {
				e.t.Fatalf("before SO_UPDATE_ACCEPT_CONTEXT: message %+v", m)
			}
		}
		e.check(e.updateAccept(a, l), nil, "SO_UPDATE_ACCEPT_CONTEXT")
		// FD_READ and FD_WRITE, posted in that order, to the listener's
		// window with its message.
		var got []Message
		for len(got) < 2 {
			m, ok := u.WaitMessage(waitFor)
			if !ok {
				e.t.Fatalf("after SO_UPDATE_ACCEPT_CONTEXT: messages %+v", got)
			}
			if m.WParam == uintptr(a) {
				got = append(got, m)
			}
		}
		for i, ev := range []uint32{wsa.FD_READ, wsa.FD_WRITE} {
			if want := (Message{msgWindow, msgID, uintptr(a), uintptr(wsa.WSAMAKESELECTREPLY(ev, 0))}); got[i] != want {
				e.t.Fatalf("after SO_UPDATE_ACCEPT_CONTEXT: message %d %+v, want %+v", i, got[i], want)
			}
		}
		e.check(e.fionbio(e.srv, a, 0), wsa.WSAEINVAL, "FIONBIO 0 on the registered accept socket")
	}},
	testCase{name: "AcceptExBlocking", fn: func(e *env) {
		l, to := e.listener()
		a := e.sock(e.srv, wsa.SOCK_STREAM)
		al := e.addrLen()
		buf := make([]byte, 4+2*al)
		var rx uint32
		done := async(func() error { return e.acceptEx(e.srv, l)(l, a, buf, 4, al, al, &rx, nil) })
		c := e.dial(to)
		e.send(e.cli, c, []byte("blk!"))
		e.check(e.await(done, "blocking AcceptEx"), nil, "blocking AcceptEx")
		if rx != 4 || string(buf[:4]) != "blk!" {
			e.t.Fatalf("blocking AcceptEx: %d %q", rx, buf[:4])
		}
	}},
	testCase{name: "ConnectEx", fn: func(e *env) {
		l, to := e.listener()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		connectEx := e.connectEx(e.cli, c)
		ov := e.ovEvent(e.cli)
		e.check(connectEx(c, to, nil, nil, ov), wsa.WSAEINVAL, "ConnectEx on an unbound socket")
		u := e.sock(e.cli, wsa.SOCK_DGRAM)
		e.bind(e.cli, u, e.cliA, 0)
		e.check(connectEx(u, to, nil, nil, ov), wsa.WSAEOPNOTSUPP, "ConnectEx on a datagram socket")
		e.bind(e.cli, c, e.anyAddr(), 0)
		var sent uint32 = 99
		err := connectEx(c, to, []byte("hello"), &sent, ov)
		if err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
			e.t.Fatalf("ConnectEx: %v", err)
		}
		e.waitOvOK(e.cli, c, ov, 5, "ConnectEx with data")
		if err != nil && sent != 99 {
			e.t.Fatal("ConnectEx wrote *sent for a pending operation")
		}
		e.check(e.cli.Procs.WSPSetSockOpt(c, wsa.SOL_SOCKET, wsa.SO_UPDATE_CONNECT_CONTEXT, nil), nil, "SO_UPDATE_CONNECT_CONTEXT")
		s := e.accept(l)
		e.recvFull(e.srv, s, []byte("hello"))
		peer, err := e.cli.Procs.WSPGetPeerName(c)
		e.check(err, nil, "getpeername")
		if peer.AddrPort() != to.AddrPort() {
			e.t.Fatalf("getpeername %v", peer.AddrPort())
		}
		e.check(connectEx(c, to, nil, nil, e.ovEvent(e.cli)), wsa.WSAEISCONN, "ConnectEx when connected")

		// Refused: the error completes it; the socket may try again.
		r := e.sock(e.cli, wsa.SOCK_STREAM)
		e.bind(e.cli, r, e.anyAddr(), 0)
		closed := e.sock(e.srv, wsa.SOCK_STREAM)
		e.bind(e.srv, closed, e.srvA, 0)
		ov = e.ovEvent(e.cli)
		err = connectEx(r, sa(e.srvA, e.port(e.srv, closed)), nil, nil, ov)
		if !errors.Is(err, wsa.WSAECONNREFUSED) {
			e.check(err, wsa.WSA_IO_PENDING, "ConnectEx to a closed port")
			_, _, err = e.waitOv(e.cli, r, ov, "ConnectEx to a closed port")
			e.check(err, wsa.WSAECONNREFUSED, "ConnectEx to a closed port")
		}
		ov = e.ovEvent(e.cli)
		err = connectEx(r, to, nil, nil, ov)
		if !errors.Is(err, wsa.WSA_IO_PENDING) {
			e.check(err, nil, "ConnectEx again")
		}
		e.waitOvOK(e.cli, r, ov, 0, "ConnectEx again")
	}},
	testCase{name: "DisconnectExReuse", fn: func(e *env) {
		l, to := e.listener()
		acceptEx := e.acceptEx(e.srv, l)
		disconnectEx := e.disconnectEx(e.srv, l)
		al := e.addrLen()
		buf := make([]byte, 2*al)
		a := e.sock(e.srv, wsa.SOCK_STREAM)
		for round := range 2 {
			ov := e.ovEvent(e.srv)
			err := acceptEx(l, a, buf, 0, al, al, nil, ov)
			if !errors.Is(err, wsa.WSA_IO_PENDING) {
				e.check(err, nil, "AcceptEx")
			}
			c := e.dial(to)
			e.waitOvOK(e.srv, l, ov, 0, "AcceptEx")
			e.check(e.updateAccept(a, l), nil, "SO_UPDATE_ACCEPT_CONTEXT")
			e.send(e.srv, a, []byte{'0' + byte(round)})
			e.recvFull(e.cli, c, []byte{'0' + byte(round)})
			e.check(disconnectEx(a, nil, wsa.TF_DISCONNECT, 0), wsa.WSAEINVAL, "DisconnectEx with TF_DISCONNECT")
			e.check(disconnectEx(a, nil, wsa.TF_REUSE_SOCKET, 1), wsa.WSAEINVAL, "DisconnectEx with reserved set")
			ov = e.ovEvent(e.srv)
			e.check(disconnectEx(a, ov, wsa.TF_REUSE_SOCKET, 0), wsa.WSA_IO_PENDING, "DisconnectEx")
			e.recvEOF(e.cli, c) // our FIN
			e.stillPending(e.srv, a, ov, "DisconnectEx before the peer's FIN")
			e.check(e.cli.Procs.WSPShutdown(c, wsa.SD_SEND), nil, "peer's shutdown")
			e.waitOvOK(e.srv, a, ov, 0, "DisconnectEx")
			_, err = e.srv.Procs.WSPGetSockName(a)
			e.check(err, wsa.WSAEINVAL, "getsockname after TF_REUSE_SOCKET")
		}
		e.check(disconnectEx(a, nil, 0, 0), wsa.WSAENOTCONN, "DisconnectEx unconnected")

		// The client side: ConnectEx, DisconnectEx(TF_REUSE_SOCKET),
		// bind, ConnectEx again.
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		connectEx := e.connectEx(e.cli, c)
		cdisc := e.disconnectEx(e.cli, c)
		for round := range 2 {
			e.bind(e.cli, c, e.anyAddr(), 0)
			ov := e.ovEvent(e.cli)
			err := connectEx(c, to, []byte{'a' + byte(round)}, nil, ov)
			if !errors.Is(err, wsa.WSA_IO_PENDING) {
				e.check(err, nil, "ConnectEx")
			}
			e.waitOvOK(e.cli, c, ov, 1, "ConnectEx")
			s := e.accept(l)
			e.recvFull(e.srv, s, []byte{'a' + byte(round)})
			ov = e.ovEvent(e.cli)
			e.check(cdisc(c, ov, wsa.TF_REUSE_SOCKET, 0), wsa.WSA_IO_PENDING, "DisconnectEx")
			e.recvEOF(e.srv, s)
			e.check(e.srv.Procs.WSPShutdown(s, wsa.SD_SEND), nil, "server shutdown")
			e.waitOvOK(e.cli, c, ov, 0, "DisconnectEx")
		}
	}},
	testCase{name: "TransmitFile", fn: func(e *env) {
		c, s := e.pair()
		f, data := e.tempFile(1<<20 + 12345)
		transmitFile := e.transmitFile(e.cli, c)
		head, tail := []byte("HEAD:"), []byte(":TAIL")
		e.check(transmitFile(c, f, 0, 0, nil, nil, wsa.TF_REUSE_SOCKET), wsa.WSAEINVAL, "TF_REUSE_SOCKET without TF_DISCONNECT")
		ov := e.ovEvent(e.cli)
		err := transmitFile(c, f, 0, 32<<10, ov, &wsa.TransmitFileBuffers{Head: head, Tail: tail}, wsa.TF_DISCONNECT)
		if err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
			e.t.Fatalf("TransmitFile: %v", err)
		}
		got := e.recvAll(e.srv, s)
		want := append(append(append([]byte{}, head...), data...), tail...)
		if sha256.Sum256(got) != sha256.Sum256(want) {
			e.t.Fatalf("TransmitFile: received %d bytes, checksum differs (want %d bytes)", len(got), len(want))
		}
		e.check(e.srv.Procs.WSPShutdown(s, wsa.SD_SEND), nil, "server shutdown")
		e.waitOvOK(e.cli, c, ov, len(want), "TransmitFile with TF_DISCONNECT")
		_, err = e.cli.Procs.WSPSend(c, [][]byte{[]byte("x")}, 0, nil, nil, nil)
		e.check(err, wsa.WSAESHUTDOWN, "send after TF_DISCONNECT")

		// An offset from the OVERLAPPED, a length, and no OVERLAPPED: the
		// file's offset, which advances.
		c2, s2 := e.pair()
		ov = e.ovEvent(e.cli)
		ov.Offset = 1000
		err = transmitFile(c2, f, 500, 0, ov, nil, 0)
		if err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
			e.t.Fatalf("TransmitFile at an offset: %v", err)
		}
		e.waitOvOK(e.cli, c2, ov, 500, "TransmitFile at an offset")
		e.recvFull(e.srv, s2, data[1000:1500])
		if _, err := f.Seek(2000, io.SeekStart); err != nil {
			e.t.Fatal(err)
		}
		e.check(transmitFile(c2, f, 300, 0, nil, &wsa.TransmitFileBuffers{Tail: []byte("!")}, 0), nil, "blocking TransmitFile")
		e.recvFull(e.srv, s2, append(append([]byte{}, data[2000:2300]...), '!'))
		if off, _ := f.Seek(0, io.SeekCurrent); off != 2300 {
			e.t.Fatalf("file offset after a blocking TransmitFile: %d", off)
		}
		e.check(transmitFile(c2, nil, 0, 0, nil, &wsa.TransmitFileBuffers{Head: []byte("only")}, 0), nil, "TransmitFile without a file")
		e.recvFull(e.srv, s2, []byte("only"))
		u := e.sock(e.cli, wsa.SOCK_DGRAM)
		e.check(transmitFile(u, f, 0, 0, nil, nil, 0), wsa.WSAEOPNOTSUPP, "TransmitFile on a datagram socket")

		// TF_DISCONNECT | TF_REUSE_SOCKET: the socket is fresh afterwards.
		l, to := e.listener()
		c3 := e.dial(to)
		s3 := e.accept(l)
		ov = e.ovEvent(e.cli)
		err = transmitFile(c3, nil, 0, 0, ov, &wsa.TransmitFileBuffers{Head: []byte("bye")}, wsa.TF_DISCONNECT|wsa.TF_REUSE_SOCKET)
		if err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
			e.t.Fatalf("TransmitFile TF_REUSE_SOCKET: %v", err)
		}
		if got := e.recvAll(e.srv, s3); string(got) != "bye" {
			e.t.Fatalf("TransmitFile TF_REUSE_SOCKET sent %q", got)
		}
		e.check(e.srv.Procs.WSPShutdown(s3, wsa.SD_SEND), nil, "server shutdown")
		e.waitOvOK(e.cli, c3, ov, 3, "TransmitFile TF_REUSE_SOCKET")
		_, err = e.cli.Procs.WSPGetSockName(c3)
		e.check(err, wsa.WSAEINVAL, "getsockname after TF_REUSE_SOCKET")
		e.check(e.connect(e.cli, c3, to), nil, "connect after TF_REUSE_SOCKET")
		s4 := e.accept(l)
		e.send(e.cli, c3, []byte("again"))
		e.recvFull(e.srv, s4, []byte("again"))
	}},
	testCase{name: "TransmitPackets", fn: func(e *env) {
		c, s := e.pair()
		f, data := e.tempFile(4096)
		tp := e.transmitPackets(e.cli, c)
		els := []wsa.TransmitPacketsElement{
			{Flags: wsa.TP_ELEMENT_MEMORY, Buffer: []byte("mem1|")},
			{Flags: wsa.TP_ELEMENT_FILE, File: f, FileOffset: 100, Length: 50},
			{Flags: wsa.TP_ELEMENT_MEMORY | wsa.TP_ELEMENT_EOP, Buffer: []byte("|mem2xxx"), Length: 5},
			{Flags: wsa.TP_ELEMENT_FILE, File: f, FileOffset: 4000},
		}
		want := append(append(append([]byte("mem1|"), data[100:150]...), "|mem2"...), data[4000:]...)
		ov := e.ovEvent(e.cli)
		err := tp(c, els, 16, ov, 0)
		if err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
			e.t.Fatalf("TransmitPackets: %v", err)
		}
		e.waitOvOK(e.cli, c, ov, len(want), "TransmitPackets")
		e.recvFull(e.srv, s, want)
		e.check(tp(c, []wsa.TransmitPacketsElement{{Flags: wsa.TP_ELEMENT_MEMORY | wsa.TP_ELEMENT_FILE}}, 0, nil, 0), wsa.WSAEINVAL, "an element both memory and file")
		e.check(tp(c, []wsa.TransmitPacketsElement{{Flags: wsa.TP_ELEMENT_FILE}}, 0, nil, 0), wsa.WSAEINVAL, "a file element without a file")
		e.check(tp(c, []wsa.TransmitPacketsElement{{Flags: wsa.TP_ELEMENT_MEMORY, Buffer: []byte("x"), Length: 2}}, 0, nil, 0), wsa.WSAEFAULT, "a length beyond the buffer")

		// Datagrams: elements up to TP_ELEMENT_EOP make one.
		r, rto := e.udp(e.srv)
		w, _ := e.udp(e.cli)
		e.check(tp(w, els[:1], 0, nil, 0), wsa.WSAENOTCONN, "TransmitPackets on an unconnected datagram socket")
		e.check(e.connect(e.cli, w, rto), nil, "connect UDP")
		e.check(tp(w, els[:1], 0, nil, wsa.TF_DISCONNECT), wsa.WSAEINVAL, "TF_DISCONNECT on a datagram socket")
		e.check(tp(w, els, 0, nil, 0), nil, "TransmitPackets on a datagram socket")
		e.setTimeout(e.srv, r, wsa.SO_RCVTIMEO, waitFor)
		for i, dg := range [][]byte{want[:len(want)-96], data[4000:]} {
			buf := make([]byte, 512)
			n, err := e.recv(e.srv, r, buf, 0)
			e.check(err, nil, "recv datagram")
			if !bytes.Equal(buf[:n], dg) {
				e.t.Fatalf("datagram %d: %d bytes, want %d", i, n, len(dg))
			}
		}
	}},
	testCase{name: "WSARecvMsg", fn: func(e *env) {
		r, rto := e.udp(e.srv)
		w, wto := e.udp(e.cli)
		recvMsg := e.recvMsg(e.srv, r)
		level, typ, size := int32(wsa.IPPROTO_IP), int32(wsa.IP_PKTINFO), 8
		if e.af == wsa.AF_INET6 {
			level, typ, size = wsa.IPPROTO_IPV6, wsa.IPV6_PKTINFO, 20
		}
		e.check(e.setInt(e.srv, r, level, typ, 1), nil, "set PKTINFO")
		if e.getInt(e.srv, r, level, typ) != 1 {
			e.t.Fatal("PKTINFO not on")
		}
		tcp := e.sock(e.srv, wsa.SOCK_STREAM)
		e.check(e.setInt(e.srv, tcp, level, typ, 1), wsa.WSAENOPROTOOPT, "PKTINFO on a stream socket")
		e.check(recvMsg(tcp, &wsa.WSAMsg{}, nil, nil, nil), wsa.WSAEOPNOTSUPP, "WSARecvMsg on a stream socket")
		e.check(recvMsg(r, nil, nil, nil, nil), wsa.WSAEFAULT, "WSARecvMsg without a message")

		// Overlapped, pending, then completed by a datagram.
		buf := make([]byte, 32)
		msg := &wsa.WSAMsg{Buffers: [][]byte{buf}, Control: make([]byte, 64)}
		ov := e.ovEvent(e.srv)
		e.check(recvMsg(r, msg, nil, ov, nil), wsa.WSA_IO_PENDING, "overlapped WSARecvMsg")
		e.sendTo(e.cli, w, []byte("pktinfo"), rto)
		n, flags, err := e.waitOv(e.srv, r, ov, "WSARecvMsg")
		e.check(err, nil, "WSARecvMsg")
		if n != 7 || string(buf[:7]) != "pktinfo" || flags != 0 || msg.Flags != 0 {
			e.t.Fatalf("WSARecvMsg: %d %q flags %#x/%#x", n, buf[:n], flags, msg.Flags)
		}
		if msg.Name == nil || msg.Name.AddrPort() != wto.AddrPort() {
			e.t.Fatalf("WSARecvMsg: name %v, want %v", msg.Name, wto)
		}
		cms, err := wsa.ParseControl(msg.Control)
		e.check(err, nil, "ParseControl")
		if len(cms) != 1 || cms[0].Level != level || cms[0].Type != typ || len(cms[0].Data) != size {
			e.t.Fatalf("control data %+v", cms)
		}
		if e.af == wsa.AF_INET {
			p, _ := wsa.UnmarshalInPktinfo(cms[0].Data)
			if p.Addr != e.srvA.As4() || p.Ifindex == 0 {
				e.t.Fatalf("IN_PKTINFO %+v, want %v", p, e.srvA)
			}
		} else {
			p, _ := wsa.UnmarshalIn6Pktinfo(cms[0].Data)
			if p.Addr != e.srvA.As16() || p.Ifindex == 0 {
				e.t.Fatalf("IN6_PKTINFO %+v, want %v", p, e.srvA)
			}
		}

		// At once, truncated: MSG_TRUNC and WSAEMSGSIZE; control buffer
		// too small: MSG_CTRUNC.
		e.sendTo(e.cli, w, []byte("0123456789"), rto)
		e.eventually("a datagram queued", func() bool { return e.fionread(e.srv, r) > 0 })
		small := make([]byte, 4)
		msg = &wsa.WSAMsg{Buffers: [][]byte{small}, Control: make([]byte, 8)}
		var rx uint32
		err = recvMsg(r, msg, &rx, nil, nil)
		e.check(err, wsa.WSAEMSGSIZE, "truncated WSARecvMsg")
		if rx != 4 || string(small) != "0123" || msg.Flags != wsa.MSG_TRUNC|wsa.MSG_CTRUNC || len(msg.Control) != 0 {
			e.t.Fatalf("truncated WSARecvMsg: %d %q flags %#x control %d", rx, small, msg.Flags, len(msg.Control))
		}
		// Overlapped, truncated at once: WSAEMSGSIZE, and the completion is
		// delivered (with MSG_TRUNC in the flags) as for any completion.
		e.sendTo(e.cli, w, []byte("abcdefghij"), rto)
		e.eventually("a datagram queued", func() bool { return e.fionread(e.srv, r) > 0 })
		msg = &wsa.WSAMsg{Buffers: [][]byte{small}, Control: make([]byte, 64)}
		ov = e.ovEvent(e.srv)
		rx = 0
		err = recvMsg(r, msg, &rx, ov, nil)
		e.check(err, wsa.WSAEMSGSIZE, "overlapped WSARecvMsg truncated at once")
		if rx != 4 || string(small) != "abcd" || msg.Flags != wsa.MSG_TRUNC || !e.signaled(e.srv, ov) {
			e.t.Fatalf("overlapped WSARecvMsg truncated at once: %d %q flags %#x signalled %v", rx, small, msg.Flags, e.signaled(e.srv, ov))
		}
		n, flags, err = e.srv.Procs.WSPGetOverlappedResult(r, ov, false)
		e.check(err, wsa.WSAEMSGSIZE, "WSAGetOverlappedResult of a truncated WSARecvMsg")
		if n != 4 || flags != wsa.MSG_TRUNC {
			e.t.Fatalf("WSAGetOverlappedResult of a truncated WSARecvMsg: %d bytes, flags %#x", n, flags)
		}
		// Without the option, no control data; MSG_PEEK leaves the datagram.
		e.check(e.setInt(e.srv, r, level, typ, 0), nil, "clear PKTINFO")
		e.sendTo(e.cli, w, []byte("plain"), rto)
		e.eventually("a datagram queued", func() bool { return e.fionread(e.srv, r) > 0 })
		msg = &wsa.WSAMsg{Buffers: [][]byte{buf}, Control: make([]byte, 64), Flags: wsa.MSG_PEEK}
		e.check(recvMsg(r, msg, &rx, nil, nil), nil, "WSARecvMsg MSG_PEEK")
		if rx != 5 || len(msg.Control) != 0 || msg.Flags != 0 {
			e.t.Fatalf("WSARecvMsg without PKTINFO: %d control %d flags %#x", rx, len(msg.Control), msg.Flags)
		}
		msg = &wsa.WSAMsg{Buffers: [][]byte{buf}}
		e.check(recvMsg(r, msg, &rx, nil, nil), nil, "WSARecvMsg")
		if rx != 5 || string(buf[:5]) != "plain" {
			e.t.Fatalf("WSARecvMsg after MSG_PEEK: %d %q", rx, buf[:rx])
		}
		e.check(recvMsg(r, &wsa.WSAMsg{Flags: wsa.MSG_WAITALL}, nil, nil, nil), wsa.WSAEINVAL, "WSARecvMsg MSG_WAITALL")
		unbound := e.sock(e.srv, wsa.SOCK_DGRAM)
		e.check(recvMsg(unbound, &wsa.WSAMsg{}, nil, nil, nil), wsa.WSAEINVAL, "WSARecvMsg unbound")
	}},
	testCase{name: "WSASendMsg", fn: func(e *env) {
		r, rto := e.udp(e.srv)
		w, wto := e.udp(e.cli)
		sendMsg := e.sendMsg(e.cli, w)
		var sent uint32
		msg := &wsa.WSAMsg{Name: rto, Buffers: [][]byte{[]byte("sm"), []byte("sg")}}
		e.check(sendMsg(w, msg, 0, &sent, nil, nil), nil, "WSASendMsg")
		if sent != 4 {
			e.t.Fatalf("WSASendMsg sent %d", sent)
		}
		e.setTimeout(e.srv, r, wsa.SO_RCVTIMEO, waitFor)
		var from wsa.Sockaddr
		recvFrom := func(want string) {
			e.t.Helper()
			buf := make([]byte, 16)
			flags := uint32(0)
			n, err := e.srv.Procs.WSPRecvFrom(r, [][]byte{buf}, &flags, &from, nil, nil, nil)
			e.check(err, nil, "recvfrom")
			if string(buf[:n]) != want || from.AddrPort() != wto.AddrPort() {
				e.t.Fatalf("recvfrom: %q from %v", buf[:n], from.AddrPort())
			}
		}
		recvFrom("smsg")
		// The source chosen by PKTINFO: the socket's own address works.
		var ctl []byte
		if e.af == wsa.AF_INET {
			p := wsa.InPktinfo{Addr: e.cliA.As4()}
			ctl = wsa.CmsgAppend(nil, wsa.IPPROTO_IP, wsa.IP_PKTINFO, p.Marshal())
		} else {
			p := wsa.In6Pktinfo{Addr: e.cliA.As16()}
			ctl = wsa.CmsgAppend(nil, wsa.IPPROTO_IPV6, wsa.IPV6_PKTINFO, p.Marshal())
		}
		ov := e.ovEvent(e.cli)
		err := sendMsg(w, &wsa.WSAMsg{Name: rto, Buffers: [][]byte{[]byte("pkt")}, Control: ctl}, 0, nil, ov, nil)
		if err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
			e.t.Fatalf("overlapped WSASendMsg with PKTINFO: %v", err)
		}
		e.waitOvOK(e.cli, w, ov, 3, "overlapped WSASendMsg")
		recvFrom("pkt")
		// A source that is not the host's.
		var want error = wsa.WSAEINVAL
		if e.af == wsa.AF_INET {
			p := wsa.InPktinfo{Addr: e.nonLocal().As4()}
			ctl = wsa.CmsgAppend(nil, wsa.IPPROTO_IP, wsa.IP_PKTINFO, p.Marshal())
		} else {
			p := wsa.In6Pktinfo{Addr: e.nonLocal().As16()}
			ctl = wsa.CmsgAppend(nil, wsa.IPPROTO_IPV6, wsa.IPV6_PKTINFO, p.Marshal())
			want = wsa.WSAEADDRNOTAVAIL
		}
		e.check(sendMsg(w, &wsa.WSAMsg{Name: rto, Buffers: [][]byte{[]byte("x")}, Control: ctl}, 0, nil, nil, nil), want, "PKTINFO with a foreign source")
		e.check(sendMsg(w, &wsa.WSAMsg{Name: rto, Control: []byte{1, 2, 3}}, 0, nil, nil, nil), wsa.WSAEINVAL, "malformed control data")
		e.check(sendMsg(w, &wsa.WSAMsg{Buffers: [][]byte{[]byte("x")}}, 0, nil, nil, nil), wsa.WSAENOTCONN, "WSASendMsg without a destination")
		tcp, _ := e.pair()
		e.check(sendMsg(tcp, &wsa.WSAMsg{Buffers: [][]byte{[]byte("x")}}, 0, nil, nil, nil), wsa.WSAEOPNOTSUPP, "WSASendMsg on a stream socket")
		e.check(sendMsg(w, nil, 0, nil, nil, nil), wsa.WSAEFAULT, "WSASendMsg without a message")
	}},
)

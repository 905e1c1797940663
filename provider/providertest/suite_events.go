package providertest

import (
	"errors"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// The FD_* network events of WSAEventSelect and WSAAsyncSelect (spec §5.1,
// §5.2). They need the fake upcall table (events, posted messages).

// quietFor is how long a test waits to see that nothing is recorded.
const quietFor = 100 * time.Millisecond

// fdEvent is an event object of a host's fake upcall table.
type fdEvent struct {
	h  wsa.Handle
	ev *Event
}

// newEvent makes an event object (WSACreateEvent) on h.
func (e *env) newEvent(h Host) fdEvent {
	e.t.Helper()
	if h.Upcalls == nil {
		e.t.Skip("harness has no fake upcall table")
	}
	eh, err := h.Upcalls.WPUCreateEvent()
	e.check(err, nil, "WPUCreateEvent")
	return fdEvent{eh, h.Upcalls.Event(eh)}
}

func (e *env) eventSelect(h Host, s wsa.Socket, ev fdEvent, mask int32) {
	e.t.Helper()
	e.check(h.Procs.WSPEventSelect(s, ev.h, mask), nil, "WSPEventSelect")
}

// enum is WSAEnumNetworkEvents(s, ev).
func (e *env) enum(h Host, s wsa.Socket, ev fdEvent) wsa.NetworkEvents {
	e.t.Helper()
	n, err := h.Procs.WSPEnumNetworkEvents(s, ev.h)
	e.check(err, nil, "WSPEnumNetworkEvents")
	if ev.ev != nil && ev.ev.Signaled() {
		e.t.Fatal("WSPEnumNetworkEvents did not reset the event")
	}
	return n
}

// waitEvents waits (up to 10 s) for ev and enumerates until every event of
// want was recorded; it returns the union of the records, with the error
// codes of the events seen.
func (e *env) waitEvents(h Host, s wsa.Socket, ev fdEvent, want int32) wsa.NetworkEvents {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var acc wsa.NetworkEvents
	for acc.NetworkEvents&want != want {
		if left := time.Until(deadline); left <= 0 || !ev.ev.Wait(left) {
			e.t.Fatalf("network events %#x, want %#x", acc.NetworkEvents, want)
		}
		n := e.enum(h, s, ev)
		acc.NetworkEvents |= n.NetworkEvents
		for i := range wsa.FD_MAX_EVENTS {
			if n.NetworkEvents&(1<<i) != 0 {
				acc.ErrorCode[i] = n.ErrorCode[i]
			}
		}
	}
	return acc
}

// wantRecord checks a record exactly.
func (e *env) wantRecord(got wsa.NetworkEvents, events int32, codes map[int]wsa.Errno, what string) {
	e.t.Helper()
	if got.NetworkEvents != events {
		e.t.Fatalf("%s: network events %#x, want %#x", what, got.NetworkEvents, events)
	}
	for i := range wsa.FD_MAX_EVENTS {
		if events&(1<<i) != 0 && got.ErrorCode[i] != int32(codes[i]) {
			e.t.Fatalf("%s: iErrorCode[%d] = %d, want %d", what, i, got.ErrorCode[i], codes[i])
		}
	}
}

// quiet checks that nothing is recorded for s (and ev stays unsignalled)
// for a while.
func (e *env) quiet(h Host, s wsa.Socket, ev fdEvent, what string) {
	e.t.Helper()
	if ev.ev.Wait(quietFor) {
		e.t.Fatalf("%s: event signalled, record %#x", what, e.enum(h, s, ev).NetworkEvents)
	}
	if n := e.enum(h, s, ev); n.NetworkEvents != 0 {
		e.t.Fatalf("%s: recorded %#x", what, n.NetworkEvents)
	}
}

// recvSome receives up to n bytes and returns how many came.
func (e *env) recvSome(h Host, s wsa.Socket, n int, flags uint32) int {
	e.t.Helper()
	got, err := e.recv(h, s, make([]byte, n), flags)
	e.check(err, nil, "recv")
	return got
}

// closedPort returns a port of the server nobody listens on.
func (e *env) closedPort() int {
	e.t.Helper()
	probe := e.sock(e.srv, wsa.SOCK_STREAM)
	e.bind(e.srv, probe, e.srvA, 0)
	p := e.port(e.srv, probe)
	e.check(e.srv.Procs.WSPCloseSocket(probe), nil, "close")
	return p
}

func (e *env) fionbio(h Host, s wsa.Socket, v byte) error {
	_, err := e.ioctl(h, s, wsa.FIONBIO, []byte{v, 0, 0, 0}, 0)
	return err
}

// drain reads n bytes from a blocking or non-blocking socket.
func (e *env) drain(h Host, s wsa.Socket, n int) {
	e.t.Helper()
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(10 * time.Second)
	for n > 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("drain: %d bytes missing", n)
		}
		k, err := e.recv(h, s, buf[:min(n, len(buf))], 0)
		if errors.Is(err, wsa.WSAEWOULDBLOCK) {
			time.Sleep(time.Millisecond)
			continue
		}
		e.check(err, nil, "recv while draining")
		if k == 0 {
			e.t.Fatalf("drain: EOF with %d bytes missing", n)
		}
		n -= k
	}
}

var noCodes = map[int]wsa.Errno{}

var _ = addGroup("EventSelect",
	testCase{name: "ReadOnceUntilRecv", fn: func(e *env) {
		c, s := e.pair()
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, s, ev, wsa.FD_READ)
		e.quiet(e.srv, s, ev, "no data")
		e.send(e.cli, c, []byte("ab"))
		e.wantRecord(e.waitEvents(e.srv, s, ev, wsa.FD_READ), wsa.FD_READ, noCodes, "data arrived")
		// Recorded and signalled: not again until a recv, however much
		// more comes.
		e.send(e.cli, c, []byte("cd"))
		e.eventually("4 bytes queued", func() bool { return e.fionread(e.srv, s) == 4 })
		e.quiet(e.srv, s, ev, "more data before any recv")
		// A recv re-enables; data remains, so FD_READ is recorded at once.
		if n := e.recvSome(e.srv, s, 1, 0); n != 1 {
			e.t.Fatalf("recv %d bytes", n)
		}
		if !ev.ev.Signaled() {
			e.t.Fatal("recv leaving data did not signal FD_READ at once")
		}
		e.wantRecord(e.enum(e.srv, s, ev), wsa.FD_READ, noCodes, "after a partial recv")
		// MSG_PEEK re-enables too.
		if n := e.recvSome(e.srv, s, 1, wsa.MSG_PEEK); n != 1 {
			e.t.Fatalf("peek %d bytes", n)
		}
		e.wantRecord(e.enum(e.srv, s, ev), wsa.FD_READ, noCodes, "after MSG_PEEK")
		// Draining re-enables, with nothing to record.
		if n := e.recvSome(e.srv, s, 16, 0); n != 3 {
			e.t.Fatalf("recv %d bytes, want 3", n)
		}
		e.wantRecord(e.enum(e.srv, s, ev), 0, noCodes, "after draining")
		// A failing recv re-enables as well.
		_, err := e.recv(e.srv, s, make([]byte, 4), 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "recv on the drained, non-blocking socket")
		e.send(e.cli, c, []byte("e"))
		e.wantRecord(e.waitEvents(e.srv, s, ev, wsa.FD_READ), wsa.FD_READ, noCodes, "new data")
	}},
	testCase{name: "AtRegistration", fn: func(e *env) {
		c, s := e.pair()
		e.send(e.cli, c, []byte("x"))
		e.eventually("data queued", func() bool { return e.fionread(e.srv, s) == 1 })
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, s, ev, wsa.FD_READ|wsa.FD_WRITE|wsa.FD_OOB|wsa.FD_CLOSE)
		if !ev.ev.Signaled() {
			e.t.Fatal("conditions true at registration did not signal the event")
		}
		e.wantRecord(e.enum(e.srv, s, ev), wsa.FD_READ|wsa.FD_WRITE, noCodes, "at registration")
		// A connected socket records FD_CONNECT at registration.
		ev2 := e.newEvent(e.cli)
		e.eventSelect(e.cli, c, ev2, wsa.FD_CONNECT)
		e.wantRecord(e.enum(e.cli, c, ev2), wsa.FD_CONNECT, noCodes, "connected at registration")
		// A datagram socket records FD_WRITE.
		u, _ := e.udp(e.srv)
		ev3 := e.newEvent(e.srv)
		e.eventSelect(e.srv, u, ev3, wsa.FD_READ|wsa.FD_WRITE)
		e.wantRecord(e.enum(e.srv, u, ev3), wsa.FD_WRITE, noCodes, "datagram socket")
	}},
	testCase{name: "WriteAfterConnectThenWouldBlock", fn: func(e *env) {
		l, to := e.listener()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		ev := e.newEvent(e.cli)
		e.eventSelect(e.cli, c, ev, wsa.FD_CONNECT|wsa.FD_WRITE|wsa.FD_CLOSE)
		e.quiet(e.cli, c, ev, "unconnected socket")
		e.check(e.connect(e.cli, c, to), wsa.WSAEWOULDBLOCK, "connect (registration made it non-blocking)")
		got := e.waitEvents(e.cli, c, ev, wsa.FD_CONNECT|wsa.FD_WRITE)
		e.wantRecord(got, wsa.FD_CONNECT|wsa.FD_WRITE, noCodes, "connect completed")
		s := e.accept(l)
		// A successful send does not re-enable FD_WRITE.
		e.send(e.cli, c, []byte("hello"))
		e.quiet(e.cli, c, ev, "after a successful send")
		// Fill the send buffer: the last send fails WSAEWOULDBLOCK, so
		// FD_WRITE comes once there is room again.
		total := 5 + e.fill(e.cli, c)
		e.enum(e.cli, c, ev) // whatever the filling rounds recorded
		e.drain(e.srv, s, total)
		e.wantRecord(e.waitEvents(e.cli, c, ev, wsa.FD_WRITE), wsa.FD_WRITE, noCodes, "room again after WSAEWOULDBLOCK")
	}},
	testCase{name: "ConnectRefused", fn: func(e *env) {
		port := e.closedPort()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		ev := e.newEvent(e.cli)
		e.eventSelect(e.cli, c, ev, wsa.FD_CONNECT|wsa.FD_WRITE|wsa.FD_READ|wsa.FD_CLOSE)
		e.check(e.connect(e.cli, c, sa(e.srvA, port)), wsa.WSAEWOULDBLOCK, "connect")
		got := e.waitEvents(e.cli, c, ev, wsa.FD_CONNECT)
		e.wantRecord(got, wsa.FD_CONNECT, map[int]wsa.Errno{wsa.FD_CONNECT_BIT: wsa.WSAECONNREFUSED}, "refused")
		e.quiet(e.cli, c, ev, "after the failed connect")
		// A new attempt records FD_CONNECT again.
		l, to := e.listener()
		e.check(e.connect(e.cli, c, to), wsa.WSAEWOULDBLOCK, "second connect")
		e.wantRecord(e.waitEvents(e.cli, c, ev, wsa.FD_CONNECT|wsa.FD_WRITE), wsa.FD_CONNECT|wsa.FD_WRITE, noCodes, "second attempt")
		e.accept(l)
	}},
	testCase{name: "ConnectFailsAtOnce", fn: func(e *env) {
		a := e.h.Unroutable4
		if e.af == wsa.AF_INET6 {
			a = e.h.Unroutable6
		}
		if !a.IsValid() {
			e.t.Skip("harness has no unroutable address")
		}
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		ev := e.newEvent(e.cli)
		e.eventSelect(e.cli, c, ev, wsa.FD_CONNECT|wsa.FD_WRITE)
		err := e.connect(e.cli, c, sa(a, 80))
		if errors.Is(err, wsa.WSAEWOULDBLOCK) {
			// Reported later, through FD_CONNECT.
			got := e.waitEvents(e.cli, c, ev, wsa.FD_CONNECT)
			if code := wsa.Errno(got.ErrorCode[wsa.FD_CONNECT_BIT]); code != wsa.WSAENETUNREACH && code != wsa.WSAEHOSTUNREACH {
				e.t.Fatalf("FD_CONNECT error %d, want WSAENETUNREACH or WSAEHOSTUNREACH", code)
			}
			return
		}
		if !errors.Is(err, wsa.WSAENETUNREACH) && !errors.Is(err, wsa.WSAEHOSTUNREACH) {
			e.t.Fatalf("connect with no route: %v (%s)", err, errName(err))
		}
		e.quiet(e.cli, c, ev, "connect failed at once (the call reported it)")
	}},
	testCase{name: "AcceptPersistence", fn: func(e *env) {
		l, to := e.listener()
		first := e.newEvent(e.srv)
		e.eventSelect(e.srv, l, first, wsa.FD_ACCEPT)
		e.quiet(e.srv, l, first, "nothing pending")
		for range 2 {
			c := e.sock(e.cli, wsa.SOCK_STREAM)
			e.check(e.connect(e.cli, c, to), nil, "connect")
		}
		e.wantRecord(e.waitEvents(e.srv, l, first, wsa.FD_ACCEPT), wsa.FD_ACCEPT, noCodes, "pending connection")
		// A new registration records the pending connection at once.
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, l, ev, wsa.FD_ACCEPT)
		if !ev.ev.Signaled() || first.ev.Signaled() {
			e.t.Fatal("re-registration did not signal the new event at once (or signalled the old one)")
		}
		e.wantRecord(e.enum(e.srv, l, ev), wsa.FD_ACCEPT, noCodes, "at registration")
		e.quiet(e.srv, l, ev, "not re-enabled")
		// accept re-enables; the second connection is still pending.
		s1, _, err := e.srv.Procs.WSPAccept(l, nil, 0)
		e.check(err, nil, "accept")
		e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(s1) })
		e.wantRecord(e.waitEvents(e.srv, l, ev, wsa.FD_ACCEPT), wsa.FD_ACCEPT, noCodes, "second pending")
		s2, _, err := e.srv.Procs.WSPAccept(l, nil, 0)
		e.check(err, nil, "accept")
		e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(s2) })
		e.wantRecord(e.enum(e.srv, l, ev), 0, noCodes, "nothing pending after the second accept")
		_, _, err = e.srv.Procs.WSPAccept(l, nil, 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "accept with nothing pending (non-blocking)")
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, to), nil, "connect")
		e.wantRecord(e.waitEvents(e.srv, l, ev, wsa.FD_ACCEPT), wsa.FD_ACCEPT, noCodes, "third connection")
	}},
	testCase{name: "AcceptDeferDoesNotReenable", fn: func(e *env) {
		l, to := e.listener()
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, l, ev, wsa.FD_ACCEPT)
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, to), nil, "connect")
		e.waitEvents(e.srv, l, ev, wsa.FD_ACCEPT)
		deferCond := func(wsa.Sockaddr, []byte, *wsa.QOS, *wsa.QOS, wsa.Sockaddr, []byte, *uint32, uintptr) int32 {
			return wsa.CF_DEFER
		}
		_, _, err := e.srv.Procs.WSPAccept(l, deferCond, 0)
		e.check(err, wsa.WSATRY_AGAIN, "WSAAccept CF_DEFER")
		e.quiet(e.srv, l, ev, "after CF_DEFER (not re-enabled)")
		// A failing accept re-enables: the deferred connection is still
		// pending, so FD_ACCEPT is recorded at once.
		_, _, err = e.srv.Procs.WSPAccept(l, func(wsa.Sockaddr, []byte, *wsa.QOS, *wsa.QOS, wsa.Sockaddr, []byte, *uint32, uintptr) int32 {
			return 77 // not a CF_ value: WSAEINVAL, the connection stays queued
		}, 0)
		e.check(err, wsa.WSAEINVAL, "WSAAccept with a bad condition result")
		e.wantRecord(e.enum(e.srv, l, ev), wsa.FD_ACCEPT, noCodes, "after a failing accept")
		s, _, err := e.srv.Procs.WSPAccept(l, nil, 0)
		e.check(err, nil, "accept")
		e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(s) })
		e.wantRecord(e.enum(e.srv, l, ev), 0, noCodes, "queue empty")
	}},
	testCase{name: "AcceptedInherits", fn: func(e *env) {
		l, to := e.listener()
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, l, ev, wsa.FD_ACCEPT|wsa.FD_READ|wsa.FD_WRITE|wsa.FD_CLOSE)
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, to), nil, "connect")
		e.waitEvents(e.srv, l, ev, wsa.FD_ACCEPT)
		s, _, err := e.srv.Procs.WSPAccept(l, nil, 0)
		e.check(err, nil, "accept")
		e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(s) })
		// The same event, the same mask: FD_WRITE on accept.
		if !ev.ev.Signaled() {
			e.t.Fatal("the accepted socket did not signal the listener's event")
		}
		e.wantRecord(e.enum(e.srv, s, ev), wsa.FD_WRITE, noCodes, "accepted socket")
		e.check(e.fionbio(e.srv, s, 0), wsa.WSAEINVAL, "FIONBIO 0 on the accepted socket")
		_, err = e.recv(e.srv, s, make([]byte, 4), 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "recv on the accepted socket (non-blocking)")
		e.send(e.cli, c, []byte("x"))
		e.wantRecord(e.waitEvents(e.srv, s, ev, wsa.FD_READ), wsa.FD_READ, noCodes, "data on the accepted socket")
		e.wantRecord(e.enum(e.srv, l, ev), 0, noCodes, "the listener's record")
	}},
	testCase{name: "CloseAfterDrain", fn: func(e *env) {
		c, s := e.pair()
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, s, ev, wsa.FD_READ|wsa.FD_CLOSE)
		e.send(e.cli, c, []byte("bye"))
		e.check(e.cli.Procs.WSPShutdown(c, wsa.SD_SEND), nil, "shutdown")
		got := e.waitEvents(e.srv, s, ev, wsa.FD_READ)
		e.wantRecord(got, wsa.FD_READ, noCodes, "data and FIN")
		e.quiet(e.srv, s, ev, "FIN with data unread")
		if n := e.recvSome(e.srv, s, 16, 0); n != 3 {
			e.t.Fatalf("recv %d bytes, want 3", n)
		}
		got = e.waitEvents(e.srv, s, ev, wsa.FD_CLOSE)
		e.wantRecord(got, wsa.FD_CLOSE, map[int]wsa.Errno{wsa.FD_CLOSE_BIT: 0}, "drained")
		if n := e.recvSome(e.srv, s, 16, 0); n != 0 {
			e.t.Fatalf("recv at EOF: %d bytes", n)
		}
		e.quiet(e.srv, s, ev, "EOF (never FD_READ; FD_CLOSE once)")
	}},
	testCase{name: "CloseReset", fn: func(e *env) {
		c, s := e.pair()
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, s, ev, wsa.FD_READ|wsa.FD_WRITE|wsa.FD_CLOSE)
		e.wantRecord(e.enum(e.srv, s, ev), wsa.FD_WRITE, noCodes, "at registration")
		e.setLinger(e.cli, c, 1, 0)
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "abortive closesocket")
		got := e.waitEvents(e.srv, s, ev, wsa.FD_CLOSE)
		e.wantRecord(got, wsa.FD_CLOSE, map[int]wsa.Errno{wsa.FD_CLOSE_BIT: wsa.WSAECONNRESET}, "reset")
		_, err := e.recv(e.srv, s, make([]byte, 4), 0)
		e.check(err, wsa.WSAECONNRESET, "recv after the reset")
		e.quiet(e.srv, s, ev, "after the reset")
	}},
	testCase{name: "NonBlockingForced", fn: func(e *env) {
		_, s := e.pair()
		ev := e.newEvent(e.srv)
		for _, async := range []bool{false, true} {
			e.check(e.fionbio(e.srv, s, 0), nil, "FIONBIO 0 unregistered")
			if async {
				e.check(e.srv.Procs.WSPAsyncSelect(s, 0x4242, 0x401, wsa.FD_READ), nil, "WSPAsyncSelect")
			} else {
				e.eventSelect(e.srv, s, ev, wsa.FD_READ)
			}
			_, err := e.recv(e.srv, s, make([]byte, 4), 0)
			e.check(err, wsa.WSAEWOULDBLOCK, "recv after registration")
			e.check(e.fionbio(e.srv, s, 0), wsa.WSAEINVAL, "FIONBIO 0 while registered")
			e.check(e.fionbio(e.srv, s, 1), nil, "FIONBIO 1 while registered")
			if async {
				e.check(e.srv.Procs.WSPAsyncSelect(s, 0x4242, 0, 0), nil, "WSPAsyncSelect cancel")
			} else {
				e.check(e.srv.Procs.WSPEventSelect(s, 0, 0), nil, "WSPEventSelect cancel")
			}
			_, err = e.recv(e.srv, s, make([]byte, 4), 0)
			e.check(err, wsa.WSAEWOULDBLOCK, "recv after cancelling (still non-blocking)")
			e.check(e.fionbio(e.srv, s, 0), nil, "FIONBIO 0 after cancelling")
		}
		// Cancelling an unregistered socket also makes it non-blocking.
		e.check(e.srv.Procs.WSPEventSelect(s, 0, 0), nil, "cancel without registration")
		_, err := e.recv(e.srv, s, make([]byte, 4), 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "recv after WSPEventSelect(s, 0, 0)")
	}},
	testCase{name: "Errors", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_STREAM)
		ev := e.newEvent(e.srv)
		bad := wsa.Socket(0x7ffff0)
		e.check(e.srv.Procs.WSPEventSelect(s, 0, wsa.FD_READ), wsa.WSAEINVAL, "WSPEventSelect without an event")
		e.check(e.srv.Procs.WSPAsyncSelect(s, 0, 0x401, wsa.FD_READ), wsa.WSAEINVAL, "WSPAsyncSelect without a window")
		e.check(e.srv.Procs.WSPEventSelect(bad, ev.h, wsa.FD_READ), wsa.WSAENOTSOCK, "WSPEventSelect on a non-socket")
		e.check(e.srv.Procs.WSPAsyncSelect(bad, 0x4242, 0x401, wsa.FD_READ), wsa.WSAENOTSOCK, "WSPAsyncSelect on a non-socket")
		_, err := e.srv.Procs.WSPEnumNetworkEvents(bad, ev.h)
		e.check(err, wsa.WSAENOTSOCK, "WSPEnumNetworkEvents on a non-socket")
		n, err := e.srv.Procs.WSPEnumNetworkEvents(s, 0)
		e.check(err, nil, "WSPEnumNetworkEvents without registration")
		e.wantRecord(n, 0, noCodes, "no registration")
	}},
	testCase{name: "ReplaceAndCancel", fn: func(e *env) {
		c, s := e.pair()
		a, b := e.newEvent(e.srv), e.newEvent(e.srv)
		e.eventSelect(e.srv, s, a, wsa.FD_READ)
		e.send(e.cli, c, []byte("1"))
		e.eventually("data queued", func() bool { return e.fionread(e.srv, s) == 1 })
		if !a.ev.Wait(10 * time.Second) {
			e.t.Fatal("FD_READ not signalled")
		}
		// Replacing clears the record; another event for other bits
		// cancels the first association.
		e.eventSelect(e.srv, s, b, wsa.FD_WRITE)
		if !b.ev.Signaled() {
			e.t.Fatal("FD_WRITE not recorded at the new registration")
		}
		e.wantRecord(e.enum(e.srv, s, b), wsa.FD_WRITE, noCodes, "replaced registration")
		a.ev.Reset()
		e.send(e.cli, c, []byte("2"))
		e.eventually("more data queued", func() bool { return e.fionread(e.srv, s) == 2 })
		if a.ev.Wait(quietFor) {
			e.t.Fatal("the replaced association still signals")
		}
		e.quiet(e.srv, s, b, "FD_READ not in the new mask")
		// Back to a, FD_READ: the queued data is recorded at once.
		e.eventSelect(e.srv, s, a, wsa.FD_READ)
		if !a.ev.Signaled() {
			e.t.Fatal("queued data not recorded at registration")
		}
		// Cancelling clears the record and stops recording.
		e.check(e.srv.Procs.WSPEventSelect(s, 0, 0), nil, "cancel")
		e.wantRecord(e.enum(e.srv, s, a), 0, noCodes, "after cancelling")
		e.drain(e.srv, s, 2)
		e.send(e.cli, c, []byte("3"))
		if a.ev.Wait(quietFor) {
			e.t.Fatal("a cancelled registration signals")
		}
	}},
	testCase{name: "CloseSocketCancels", fn: func(e *env) {
		c, s := e.pair()
		ev := e.newEvent(e.srv)
		e.eventSelect(e.srv, s, ev, wsa.FD_READ|wsa.FD_CLOSE)
		e.check(e.srv.Procs.WSPCloseSocket(s), nil, "closesocket")
		e.check(e.srv.Procs.WSPEventSelect(s, ev.h, wsa.FD_READ), wsa.WSAENOTSOCK, "WSPEventSelect after closesocket")
		_, _ = e.cli.Procs.WSPSend(c, [][]byte{[]byte("x")}, 0, nil, nil, nil)
		if ev.ev.Wait(quietFor) {
			e.t.Fatal("a closed socket's event was signalled")
		}
	}},
)

// msgWindow and msgID are the window and message of the WSAAsyncSelect tests.
const (
	msgWindow = wsa.Handle(0x4242)
	msgID     = 0x0400 + 7 // WM_USER+7
)

// waitMessage waits (up to 10 s) for the next posted message and checks it.
func (e *env) waitMessage(h Host, s wsa.Socket, event int32, code wsa.Errno, what string) {
	e.t.Helper()
	m, ok := h.Upcalls.WaitMessage(10 * time.Second)
	if !ok {
		e.t.Fatalf("%s: no message", what)
	}
	want := Message{msgWindow, msgID, uintptr(s), uintptr(wsa.WSAMAKESELECTREPLY(uint32(event), uint32(code)))}
	if m != want {
		e.t.Fatalf("%s: message %+v (event %#x, error %d), want %+v", what, m,
			wsa.WSAGETSELECTEVENT(uint32(m.LParam)), wsa.WSAGETSELECTERROR(uint32(m.LParam)), want)
	}
}

func (e *env) noMessage(h Host, what string) {
	e.t.Helper()
	if m, ok := h.Upcalls.WaitMessage(quietFor); ok {
		e.t.Fatalf("%s: unexpected message %+v (event %#x)", what, m, wsa.WSAGETSELECTEVENT(uint32(m.LParam)))
	}
}

var _ = addGroup("AsyncSelect",
	testCase{name: "Messages", fn: func(e *env) {
		if e.srv.Upcalls == nil {
			e.t.Skip("harness has no fake upcall table")
		}
		u := e.srv.Upcalls
		u.Messages()
		l, to := e.listener()
		e.check(e.srv.Procs.WSPAsyncSelect(l, msgWindow, msgID, wsa.FD_ACCEPT|wsa.FD_READ|wsa.FD_WRITE|wsa.FD_CLOSE), nil, "WSPAsyncSelect")
		e.noMessage(e.srv, "idle listener")
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, to), nil, "connect")
		e.waitMessage(e.srv, l, wsa.FD_ACCEPT, 0, "pending connection")
		s, _, err := e.srv.Procs.WSPAccept(l, nil, 0)
		e.check(err, nil, "accept")
		e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(s) })
		e.waitMessage(e.srv, s, wsa.FD_WRITE, 0, "accepted socket inherits")
		e.send(e.cli, c, []byte("hi"))
		e.waitMessage(e.srv, s, wsa.FD_READ, 0, "data")
		e.eventually("both bytes queued", func() bool { return e.fionread(e.srv, s) == 2 })
		e.noMessage(e.srv, "not re-enabled")
		if n := e.recvSome(e.srv, s, 1, 0); n != 1 {
			e.t.Fatalf("recv %d", n)
		}
		if m := u.Messages(); len(m) != 1 || m[0] != (Message{msgWindow, msgID, uintptr(s), uintptr(wsa.WSAMAKESELECTREPLY(wsa.FD_READ, 0))}) {
			e.t.Fatalf("after a partial recv: messages %+v, want one FD_READ at once", m)
		}
		if n := e.recvSome(e.srv, s, 16, 0); n != 1 {
			e.t.Fatalf("recv %d", n)
		}
		e.check(e.cli.Procs.WSPShutdown(c, wsa.SD_SEND), nil, "shutdown")
		e.waitMessage(e.srv, s, wsa.FD_CLOSE, 0, "graceful close")
		e.noMessage(e.srv, "after FD_CLOSE")
		// Cancelling stops the messages.
		e.check(e.srv.Procs.WSPAsyncSelect(l, msgWindow, 0, 0), nil, "cancel")
		c2 := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c2, to), nil, "connect")
		e.noMessage(e.srv, "cancelled listener")
	}},
	testCase{name: "ConnectRefused", fn: func(e *env) {
		if e.cli.Upcalls == nil {
			e.t.Skip("harness has no fake upcall table")
		}
		e.cli.Upcalls.Messages()
		port := e.closedPort()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.cli.Procs.WSPAsyncSelect(c, msgWindow, msgID, wsa.FD_CONNECT|wsa.FD_WRITE|wsa.FD_CLOSE), nil, "WSPAsyncSelect")
		e.check(e.connect(e.cli, c, sa(e.srvA, port)), wsa.WSAEWOULDBLOCK, "connect")
		e.waitMessage(e.cli, c, wsa.FD_CONNECT, wsa.WSAECONNREFUSED, "refused")
		e.noMessage(e.cli, "after the failure")
	}},
)

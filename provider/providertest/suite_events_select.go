package providertest

import (
	"slices"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// select (spec §5.3) and WSAPoll (spec §5.4).

func fdset(s ...wsa.Socket) *wsa.FdSet { return &wsa.FdSet{Array: s} }

// sel runs WSPSelect on h and checks the count and the sets it leaves.
func (e *env) sel(h Host, r, w, x *wsa.FdSet, tv *wsa.Timeval, want int32, wr, ww, wx []wsa.Socket, what string) {
	e.t.Helper()
	n, err := h.Procs.WSPSelect(r, w, x, tv)
	e.check(err, nil, what)
	if n != want {
		e.t.Fatalf("%s: select = %d, want %d", what, n, want)
	}
	for i, c := range []struct {
		got  *wsa.FdSet
		want []wsa.Socket
	}{{r, wr}, {w, ww}, {x, wx}} {
		if c.got == nil {
			continue
		}
		if !slices.Equal(c.got.Array, c.want) && (len(c.got.Array) != 0 || len(c.want) != 0) {
			e.t.Fatalf("%s: set %d = %v, want %v", what, i, c.got.Array, c.want)
		}
	}
}

var (
	pollNow  = &wsa.Timeval{}
	pollLong = &wsa.Timeval{Sec: 10}
)

var _ = addGroup("Select",
	testCase{name: "ReadWrite", fn: func(e *env) {
		c, s := e.pair()
		e.sel(e.cli, fdset(c), fdset(c), fdset(c), pollNow, 1, nil, []wsa.Socket{c}, nil, "idle client")
		e.sel(e.srv, fdset(s), nil, fdset(s), pollNow, 0, nil, nil, nil, "idle server")
		e.send(e.cli, c, []byte("x"))
		e.sel(e.srv, fdset(s), nil, nil, pollLong, 1, []wsa.Socket{s}, nil, nil, "data")
		// Both sets: two entries.
		e.sel(e.srv, fdset(s), fdset(s), nil, pollNow, 2, []wsa.Socket{s}, []wsa.Socket{s}, nil, "readable and writable")
		e.recvFull(e.srv, s, []byte("x"))
		e.sel(e.srv, fdset(s), nil, nil, pollNow, 0, nil, nil, nil, "drained")
	}},
	testCase{name: "AcceptAndClose", fn: func(e *env) {
		l, to := e.listener()
		e.sel(e.srv, fdset(l), nil, nil, pollNow, 0, nil, nil, nil, "idle listener")
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, to), nil, "connect")
		e.sel(e.srv, fdset(l), nil, nil, pollLong, 1, []wsa.Socket{l}, nil, nil, "pending connection")
		s := e.accept(l)
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "peer closesocket")
		e.sel(e.srv, fdset(s), nil, nil, pollLong, 1, []wsa.Socket{s}, nil, nil, "closed by the peer")
		e.recvEOF(e.srv, s)
		// A reset connection is readable too.
		c2, s2 := e.pair()
		e.setLinger(e.cli, c2, 1, 0)
		e.check(e.cli.Procs.WSPCloseSocket(c2), nil, "abortive closesocket")
		e.sel(e.srv, fdset(s2), nil, nil, pollLong, 1, []wsa.Socket{s2}, nil, nil, "reset by the peer")
		e.recvErr(e.srv, s2, wsa.WSAECONNRESET)
	}},
	testCase{name: "NonBlockingConnect", fn: func(e *env) {
		l, to := e.listener()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.setNonblocking(e.cli, c, true)
		e.check(e.connect(e.cli, c, to), wsa.WSAEWOULDBLOCK, "connect")
		e.sel(e.cli, nil, fdset(c), fdset(c), pollLong, 1, nil, []wsa.Socket{c}, nil, "connect succeeded")
		e.accept(l)
	}},
	testCase{name: "FailedConnectInExceptOnly", fn: func(e *env) {
		port := e.closedPort()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.setNonblocking(e.cli, c, true)
		e.check(e.connect(e.cli, c, sa(e.srvA, port)), wsa.WSAEWOULDBLOCK, "connect")
		e.sel(e.cli, nil, fdset(c), fdset(c), pollLong, 1, nil, nil, []wsa.Socket{c}, "connect failed")
		if v := e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_ERROR); wsa.Errno(v) != wsa.WSAECONNREFUSED {
			e.t.Fatalf("SO_ERROR = %d, want WSAECONNREFUSED", v)
		}
		if v := e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_ERROR); v != 0 {
			e.t.Fatalf("SO_ERROR read again = %d, want 0", v)
		}
	}},
	testCase{name: "TimeoutAndBlocking", fn: func(e *env) {
		c, s := e.pair()
		start := time.Now()
		e.sel(e.srv, fdset(s), nil, fdset(s), &wsa.Timeval{Usec: 100000}, 0, nil, nil, nil, "time-out")
		if d := time.Since(start); d < 90*time.Millisecond {
			e.t.Fatalf("select with a 100 ms time-out returned after %v", d)
		}
		// timeout nil blocks until something is ready.
		done := async(func() error {
			r := fdset(s)
			n, err := e.srv.Procs.WSPSelect(r, nil, nil, nil)
			if err == nil && (n != 1 || !r.IsSet(s)) {
				e.t.Errorf("blocking select = %d, %v", n, r.Array)
			}
			return err
		})
		select {
		case err := <-done:
			e.t.Fatalf("select without a time-out returned early: %v", err)
		case <-time.After(quietFor):
		}
		e.send(e.cli, c, []byte("wake"))
		e.check(e.await(done, "blocking select"), nil, "blocking select")
	}},
	testCase{name: "Errors", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_STREAM)
		_, err := e.srv.Procs.WSPSelect(nil, nil, nil, pollNow)
		e.check(err, wsa.WSAEINVAL, "three nil sets")
		_, err = e.srv.Procs.WSPSelect(fdset(), fdset(), fdset(), nil)
		e.check(err, wsa.WSAEINVAL, "three empty sets")
		_, err = e.srv.Procs.WSPSelect(fdset(s, wsa.Socket(0x7ffff0)), nil, nil, pollNow)
		e.check(err, wsa.WSAENOTSOCK, "a handle that is not a socket")
		_, err = e.srv.Procs.WSPSelect(fdset(s), nil, nil, &wsa.Timeval{Sec: -1})
		e.check(err, wsa.WSAEINVAL, "negative time-out")
	}},
	testCase{name: "NoSetSizeLimit", fn: func(e *env) {
		var all []wsa.Socket
		for range 100 { // more than FD_SETSIZE (64)
			u, _ := e.udp(e.srv)
			all = append(all, u)
		}
		e.sel(e.srv, fdset(slices.Clone(all)...), fdset(slices.Clone(all)...), nil, pollNow, 100, nil, all, nil, "100 datagram sockets")
	}},
)

// poller returns h's WSPPoll, skipping the test if it has none.
func (e *env) poller(h Host) provider.Poller {
	e.t.Helper()
	p, ok := h.Procs.(provider.Poller)
	if !ok {
		e.t.Skip("provider does not implement provider.Poller")
	}
	return p
}

// poll runs WSPPoll and checks the count and each REvents.
func (e *env) poll(h Host, fds []wsa.PollFd, timeout int32, want int32, revents []int16, what string) {
	e.t.Helper()
	n, err := e.poller(h).WSPPoll(fds, timeout)
	e.check(err, nil, what)
	if n != want {
		e.t.Fatalf("%s: WSAPoll = %d, want %d (%+v)", what, n, want, fds)
	}
	for i := range fds {
		if fds[i].REvents != revents[i] {
			e.t.Fatalf("%s: entry %d revents %#x, want %#x", what, i, fds[i].REvents, revents[i])
		}
	}
}

var _ = addGroup("Poll",
	testCase{name: "ReadWrite", fn: func(e *env) {
		c, s := e.pair()
		e.poll(e.cli, []wsa.PollFd{{Fd: c, Events: wsa.POLLOUT}}, 0, 1, []int16{wsa.POLLWRNORM}, "idle client")
		fds := []wsa.PollFd{{Fd: s, Events: wsa.POLLIN}, {Fd: s, Events: wsa.POLLOUT}}
		e.poll(e.srv, fds, 0, 1, []int16{0, wsa.POLLWRNORM}, "idle server")
		e.send(e.cli, c, []byte("x"))
		e.poll(e.srv, fds[:1], 10000, 1, []int16{wsa.POLLRDNORM}, "data")
		fds = []wsa.PollFd{{Fd: s, Events: wsa.POLLRDNORM | wsa.POLLWRNORM}}
		e.poll(e.srv, fds, 0, 1, []int16{wsa.POLLRDNORM | wsa.POLLWRNORM}, "both")
		l, to := e.listener()
		c2 := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c2, to), nil, "connect")
		e.poll(e.srv, []wsa.PollFd{{Fd: l, Events: wsa.POLLIN}}, 10000, 1, []int16{wsa.POLLRDNORM}, "pending connection")
	}},
	testCase{name: "HangUp", fn: func(e *env) {
		c, s := e.pair()
		e.check(e.cli.Procs.WSPShutdown(c, wsa.SD_SEND), nil, "peer shutdown")
		e.poll(e.srv, []wsa.PollFd{{Fd: s, Events: wsa.POLLRDNORM}}, 10000, 1, []int16{wsa.POLLRDNORM | wsa.POLLHUP}, "peer FIN")
		// POLLHUP is reported unrequested.
		e.poll(e.srv, []wsa.PollFd{{Fd: s, Events: wsa.POLLWRNORM}}, 0, 1, []int16{wsa.POLLWRNORM | wsa.POLLHUP}, "peer FIN, POLLWRNORM asked")
		e.recvEOF(e.srv, s)
		c2, s2 := e.pair()
		e.setLinger(e.cli, c2, 1, 0)
		e.check(e.cli.Procs.WSPCloseSocket(c2), nil, "abortive closesocket")
		fds := []wsa.PollFd{{Fd: s2}}
		_, err := e.poller(e.srv).WSPPoll(fds, 10000)
		e.check(err, nil, "WSAPoll after a reset")
		if fds[0].REvents&wsa.POLLHUP == 0 {
			e.t.Fatalf("reset: revents %#x, want POLLHUP", fds[0].REvents)
		}
	}},
	testCase{name: "FailedConnect", fn: func(e *env) {
		port := e.closedPort()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.setNonblocking(e.cli, c, true)
		e.check(e.connect(e.cli, c, sa(e.srvA, port)), wsa.WSAEWOULDBLOCK, "connect")
		e.poll(e.cli, []wsa.PollFd{{Fd: c, Events: wsa.POLLWRNORM}}, 10000, 1, []int16{wsa.POLLHUP | wsa.POLLERR | wsa.POLLWRNORM}, "connect failed")
		if v := e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_ERROR); wsa.Errno(v) != wsa.WSAECONNREFUSED {
			e.t.Fatalf("SO_ERROR = %d, want WSAECONNREFUSED", v)
		}
	}},
	testCase{name: "Invalid", fn: func(e *env) {
		u, _ := e.udp(e.srv)
		p := e.poller(e.srv)
		for _, bad := range []int16{wsa.POLLPRI, wsa.POLLWRBAND, wsa.POLLERR, wsa.POLLHUP, wsa.POLLNVAL, 0x1000} {
			_, err := p.WSPPoll([]wsa.PollFd{{Fd: u, Events: wsa.POLLIN | bad}}, 0)
			e.check(err, wsa.WSAEINVAL, "forbidden events bit")
		}
		closed := e.sock(e.srv, wsa.SOCK_DGRAM)
		e.check(e.srv.Procs.WSPCloseSocket(closed), nil, "closesocket")
		fds := []wsa.PollFd{
			{Fd: wsa.INVALID_SOCKET, Events: wsa.POLLIN, REvents: 0x7},
			{Fd: wsa.Socket(0x7ffff0), Events: wsa.POLLIN},
			{Fd: closed, Events: wsa.POLLOUT},
			{Fd: u, Events: wsa.POLLOUT},
		}
		e.poll(e.srv, fds, 0, 3, []int16{0, wsa.POLLNVAL, wsa.POLLNVAL, wsa.POLLWRNORM}, "mixed entries")
		_, err := p.WSPPoll([]wsa.PollFd{{Fd: wsa.INVALID_SOCKET, Events: wsa.POLLIN}}, 0)
		e.check(err, wsa.WSAEINVAL, "only negative fds")
		_, err = p.WSPPoll([]wsa.PollFd{{Fd: wsa.Socket(0x7ffff0), Events: wsa.POLLIN}}, 0)
		e.check(err, wsa.WSAEINVAL, "no valid socket")
		_, err = p.WSPPoll(nil, 0)
		e.check(err, wsa.WSAEINVAL, "no entries")
	}},
	testCase{name: "Timeout", fn: func(e *env) {
		_, s := e.pair()
		fds := []wsa.PollFd{{Fd: s, Events: wsa.POLLIN}}
		e.poll(e.srv, fds, 0, 0, []int16{0}, "poll")
		start := time.Now()
		e.poll(e.srv, fds, 100, 0, []int16{0}, "100 ms")
		if d := time.Since(start); d < 90*time.Millisecond {
			e.t.Fatalf("WSAPoll with 100 ms returned after %v", d)
		}
	}},
)

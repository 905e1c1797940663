package providertest

import (
	"time"

	"github.com/ws2go/ws2/wsa"
)

var _ = addGroup("Linger",
	testCase{name: "Graceful", fn: func(e *env) {
		c, s := e.pair()
		if l := e.getLinger(e.cli, c); l.Onoff != 0 {
			e.t.Fatalf("default linger %+v, want l_onoff 0", l)
		}
		if e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_DONTLINGER) != 1 {
			e.t.Fatal("SO_DONTLINGER default is not TRUE")
		}
		e.send(e.cli, c, []byte("goodbye"))
		start := time.Now()
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "closesocket")
		if d := time.Since(start); d > 500*time.Millisecond {
			e.t.Fatalf("graceful closesocket blocked %v", d)
		}
		e.recvFull(e.srv, s, []byte("goodbye"))
		e.recvEOF(e.srv, s)
	}},
	testCase{name: "Abortive", fn: func(e *env) {
		c, s := e.pair()
		e.setLinger(e.cli, c, 1, 0)
		e.send(e.cli, c, []byte("lost"))
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "closesocket")
		e.recvErr(e.srv, s, wsa.WSAECONNRESET)
	}},
	testCase{name: "TimeoutResets", fn: func(e *env) {
		c, s := e.pair()
		e.fill(e.cli, c) // the server does not read
		e.setNonblocking(e.cli, c, false)
		e.setLinger(e.cli, c, 1, 1)
		start := time.Now()
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "closesocket")
		if d := time.Since(start); d < 900*time.Millisecond || d > 5*time.Second {
			e.t.Fatalf("lingering closesocket took %v, want about 1 s", d)
		}
		e.recvErr(e.srv, s, wsa.WSAECONNRESET)
	}},
	testCase{name: "CompletesInTime", fn: func(e *env) {
		c, s := e.pair()
		e.setLinger(e.cli, c, 1, 5)
		e.send(e.cli, c, []byte("flushed"))
		start := time.Now()
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "closesocket")
		if d := time.Since(start); d > 3*time.Second {
			e.t.Fatalf("lingering closesocket with everything acknowledged took %v", d)
		}
		e.recvFull(e.srv, s, []byte("flushed"))
		e.recvEOF(e.srv, s)
	}},
	testCase{name: "NonBlocking", fn: func(e *env) {
		c, s := e.pair()
		e.fill(e.cli, c)
		e.setLinger(e.cli, c, 1, 1)
		e.check(e.cli.Procs.WSPCloseSocket(c), wsa.WSAEWOULDBLOCK, "non-blocking lingering closesocket")
		if v := e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_TYPE); v != wsa.SOCK_STREAM {
			e.t.Fatalf("handle not valid after WSAEWOULDBLOCK: SO_TYPE %d", v)
		}
		e.eventually("closesocket to succeed", func() bool {
			err := e.cli.Procs.WSPCloseSocket(c)
			if err != nil && err != wsa.WSAEWOULDBLOCK {
				e.t.Fatalf("closesocket: %v", err)
			}
			return err == nil
		})
		_, err := e.cli.Procs.WSPGetSockName(c)
		e.check(err, wsa.WSAENOTSOCK, "handle after closesocket")
		e.recvErr(e.srv, s, wsa.WSAECONNRESET)
	}},
	testCase{name: "DontLinger", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_STREAM)
		e.setLinger(e.srv, s, 1, 7)
		if e.getInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_DONTLINGER) != 0 {
			e.t.Fatal("SO_DONTLINGER TRUE with l_onoff set")
		}
		e.mustSetInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_DONTLINGER, 1)
		if l := e.getLinger(e.srv, s); l != (wsa.Linger{Onoff: 0, Linger: 7}) {
			e.t.Fatalf("after SO_DONTLINGER TRUE: %+v, want {0 7}", l)
		}
		e.mustSetInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_DONTLINGER, 0)
		if l := e.getLinger(e.srv, s); l.Onoff == 0 || l.Linger != 7 {
			e.t.Fatalf("after SO_DONTLINGER FALSE: %+v, want l_onoff set, l_linger 7", l)
		}
		d, _ := e.udp(e.srv)
		e.check(e.srv.Procs.WSPSetSockOpt(d, wsa.SOL_SOCKET, wsa.SO_LINGER, make([]byte, 4)), wsa.WSAENOPROTOOPT, "SO_LINGER on a datagram socket")
	}},
)

var _ = addGroup("Close",
	testCase{name: "WhileBlocked", fn: func(e *env) {
		_, s := e.pair() // the server blocks in recv on s
		c, _ := e.pair() // the client blocks in send on c
		l, _ := e.listener()
		d, _ := e.udp(e.srv)
		calls := map[string]<-chan error{
			"recv": async(func() error { _, err := e.recv(e.srv, s, make([]byte, 8), 0); return err }),
			"accept": async(func() error {
				_, _, err := e.srv.Procs.WSPAccept(l, nil, 0)
				return err
			}),
			"recvfrom": async(func() error { _, err := e.recv(e.srv, d, make([]byte, 8), 0); return err }),
		}
		e.fill(e.cli, c)
		e.setNonblocking(e.cli, c, false)
		calls["send"] = async(func() error {
			_, err := e.cli.Procs.WSPSend(c, [][]byte{make([]byte, pastBuffers)}, 0, nil, nil, nil)
			return err
		})
		e.waitParked(calls["recv"], calls["accept"], calls["recvfrom"], calls["send"]) // let them block
		for name, ch := range calls {
			select {
			case err := <-ch:
				e.t.Fatalf("%s returned before closesocket: %v", name, err)
			default:
			}
		}
		e.check(e.srv.Procs.WSPCloseSocket(s), nil, "close")
		e.check(e.srv.Procs.WSPCloseSocket(l), nil, "close")
		e.check(e.srv.Procs.WSPCloseSocket(d), nil, "close")
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "close")
		for name, ch := range calls {
			e.check(e.await(ch, name), wsa.WSAEINTR, name+" interrupted by closesocket")
		}
	}},
)

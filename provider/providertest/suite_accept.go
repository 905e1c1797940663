package providertest

import (
	"errors"
	"time"

	"github.com/ws2go/ws2/wsa"
)

var _ = addGroup("Accept",
	testCase{name: "Listen", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_STREAM)
		e.check(e.srv.Procs.WSPListen(s, 5), wsa.WSAEINVAL, "listen unbound")
		_, _, err := e.srv.Procs.WSPAccept(s, nil, 0)
		e.check(err, wsa.WSAEINVAL, "accept without listen")
		e.bind(e.srv, s, e.srvA, 0)
		_, _, err = e.srv.Procs.WSPAccept(s, nil, 0)
		e.check(err, wsa.WSAEINVAL, "accept on a bound socket")
		e.check(e.srv.Procs.WSPListen(s, wsa.SOMAXCONN), nil, "listen SOMAXCONN")
		e.check(e.srv.Procs.WSPListen(s, wsa.SOMAXCONN_HINT(5)), nil, "listen SOMAXCONN_HINT(5)")
		e.check(e.srv.Procs.WSPListen(s, 0), nil, "listen 0")
		c, _ := e.pair()
		e.check(e.cli.Procs.WSPListen(c, 5), wsa.WSAEISCONN, "listen on a connected socket")
		e.setNonblocking(e.srv, s, true)
		_, _, err = e.srv.Procs.WSPAccept(s, nil, 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "non-blocking accept with nothing queued")
	}},
	testCase{name: "Condition", fn: func(e *env) {
		l, to := e.listener()
		dial := func() wsa.Socket {
			c := e.sock(e.cli, wsa.SOCK_STREAM)
			e.check(e.connect(e.cli, c, to), nil, "connect")
			return c
		}
		// CF_ACCEPT, with the addresses and callback data checked.
		c1 := dial()
		var caller, callee wsa.Sockaddr
		var data uintptr
		s1, peer, err := e.srv.Procs.WSPAccept(l, func(callerID wsa.Sockaddr, _ []byte, _, _ *wsa.QOS, calleeID wsa.Sockaddr, _ []byte, _ *uint32, cb uintptr) int32 {
			caller, callee, data = callerID, calleeID, cb
			return wsa.CF_ACCEPT
		}, 42)
		e.check(err, nil, "WSAAccept CF_ACCEPT")
		e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(s1) })
		if data != 42 || caller == nil || callee == nil {
			e.t.Fatalf("condition got caller %v callee %v data %d", caller, callee, data)
		}
		if caller.AddrPort() != e.name(e.cli, c1) || peer.AddrPort() != caller.AddrPort() {
			e.t.Fatalf("caller %v, peer %v, client %v", caller.AddrPort(), peer.AddrPort(), e.name(e.cli, c1))
		}
		if callee.AddrPort() != e.name(e.srv, s1) {
			e.t.Fatalf("callee %v, accepted socket %v", callee.AddrPort(), e.name(e.srv, s1))
		}

		// CF_REJECT resets the connection.
		c2 := dial()
		_, _, err = e.srv.Procs.WSPAccept(l, func(wsa.Sockaddr, []byte, *wsa.QOS, *wsa.QOS, wsa.Sockaddr, []byte, *uint32, uintptr) int32 {
			return wsa.CF_REJECT
		}, 0)
		e.check(err, wsa.WSAECONNREFUSED, "WSAAccept CF_REJECT")
		e.recvErr(e.cli, c2, wsa.WSAECONNRESET)

		// CF_DEFER keeps the connection for the next accept.
		c3 := dial()
		var deferred wsa.Sockaddr
		_, _, err = e.srv.Procs.WSPAccept(l, func(callerID wsa.Sockaddr, _ []byte, _, _ *wsa.QOS, _ wsa.Sockaddr, _ []byte, _ *uint32, _ uintptr) int32 {
			deferred = callerID
			return wsa.CF_DEFER
		}, 0)
		e.check(err, wsa.WSATRY_AGAIN, "WSAAccept CF_DEFER")
		s3, peer3, err := e.srv.Procs.WSPAccept(l, nil, 0)
		e.check(err, nil, "accept after CF_DEFER")
		e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(s3) })
		if peer3.AddrPort() != deferred.AddrPort() || peer3.AddrPort() != e.name(e.cli, c3) {
			e.t.Fatalf("after CF_DEFER accepted %v, deferred %v", peer3.AddrPort(), deferred.AddrPort())
		}
		e.send(e.cli, c3, []byte("deferred"))
		e.recvFull(e.srv, s3, []byte("deferred"))
	}},
	testCase{name: "Inherit", fn: func(e *env) {
		l := e.sock(e.srv, wsa.SOCK_STREAM)
		e.bind(e.srv, l, e.srvA, 0)
		e.setLinger(e.srv, l, 1, 3)
		e.mustSetInt(e.srv, l, wsa.IPPROTO_TCP, wsa.TCP_NODELAY, 1)
		e.mustSetInt(e.srv, l, wsa.SOL_SOCKET, wsa.SO_KEEPALIVE, 1)
		e.mustSetInt(e.srv, l, wsa.SOL_SOCKET, wsa.SO_RCVBUF, 65000)
		e.mustSetInt(e.srv, l, wsa.SOL_SOCKET, wsa.SO_SNDTIMEO, 777)
		e.check(e.srv.Procs.WSPListen(l, 5), nil, "listen")
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, sa(e.srvA, e.port(e.srv, l))), nil, "connect")
		e.setNonblocking(e.srv, l, true)
		var s wsa.Socket
		e.eventually("a connection to accept", func() bool {
			var err error
			s, _, err = e.srv.Procs.WSPAccept(l, nil, 0)
			if err != nil && !errors.Is(err, wsa.WSAEWOULDBLOCK) {
				e.t.Fatalf("accept: %v", err)
			}
			return err == nil
		})
		e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(s) })
		if l := e.getLinger(e.srv, s); l != (wsa.Linger{Onoff: 1, Linger: 3}) {
			e.t.Errorf("accepted SO_LINGER %+v", l)
		}
		for _, o := range []optCase{
			{wsa.IPPROTO_TCP, wsa.TCP_NODELAY, 1},
			{wsa.SOL_SOCKET, wsa.SO_KEEPALIVE, 1},
			{wsa.SOL_SOCKET, wsa.SO_RCVBUF, 65000},
			{wsa.SOL_SOCKET, wsa.SO_SNDTIMEO, 777},
		} {
			if v := e.getInt(e.srv, s, o.level, o.name); v != o.value {
				e.t.Errorf("accepted option (%d, %d) = %d, want %d", o.level, o.name, v, o.value)
			}
		}
		start := time.Now()
		_, err := e.recv(e.srv, s, make([]byte, 4), 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "recv on the accepted socket of a non-blocking listener")
		if time.Since(start) > time.Second {
			e.t.Fatal("accepted socket blocked")
		}
	}},
)

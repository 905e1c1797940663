package providertest

import (
	"bytes"
	"time"

	"github.com/ws2go/ws2/wsa"
)

var _ = addGroup("Stream",
	testCase{name: "NotConnected", fn: func(e *env) {
		s := e.sock(e.cli, wsa.SOCK_STREAM)
		_, err := e.cli.Procs.WSPSend(s, [][]byte{[]byte("x")}, 0, nil, nil, nil)
		e.check(err, wsa.WSAENOTCONN, "send unconnected")
		_, err = e.recv(e.cli, s, make([]byte, 4), 0)
		e.check(err, wsa.WSAENOTCONN, "recv unconnected")
		l, _ := e.listener()
		_, err = e.recv(e.srv, l, make([]byte, 4), 0)
		e.check(err, wsa.WSAENOTCONN, "recv on a listener")
		e.check(e.srv.Procs.WSPShutdown(s, wsa.SD_SEND), wsa.WSAENOTCONN, "shutdown unconnected")
	}},
	testCase{name: "ScatterGather", fn: func(e *env) {
		c, s := e.pair()
		n, err := e.cli.Procs.WSPSend(c, [][]byte{[]byte("ab"), nil, []byte("cdefg")}, 0, nil, nil, nil)
		e.check(err, nil, "gather send")
		if n != 7 {
			e.t.Fatalf("gather send: %d bytes", n)
		}
		e.eventually("7 bytes readable", func() bool { return e.fionread(e.srv, s) == 7 })
		b1, b2, b3 := make([]byte, 1), make([]byte, 0), make([]byte, 10)
		var flags uint32
		n, err = e.srv.Procs.WSPRecv(s, [][]byte{b1, b2, b3}, &flags, nil, nil, nil)
		e.check(err, nil, "scatter recv")
		if n != 7 || string(b1) != "a" || string(b3[:6]) != "bcdefg" {
			e.t.Fatalf("scatter recv: %d bytes %q %q", n, b1, b3)
		}
	}},
	testCase{name: "LargeBlockingSend", fn: func(e *env) {
		c, s := e.pair()
		data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		done := async(func() error {
			n, err := e.cli.Procs.WSPSend(c, [][]byte{data}, 0, nil, nil, nil)
			if err == nil && int(n) != len(data) {
				e.t.Errorf("blocking send returned %d of %d bytes", n, len(data))
			}
			return err
		})
		e.recvFull(e.srv, s, data)
		e.check(e.await(done, "send"), nil, "blocking send")
	}},
	testCase{name: "NonBlocking", fn: func(e *env) {
		c, s := e.pair()
		e.setNonblocking(e.srv, s, true)
		_, err := e.recv(e.srv, s, make([]byte, 8), 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "non-blocking recv with no data")
		total := e.fill(e.cli, c)
		if total == 0 {
			e.t.Fatal("nothing was sent before WSAEWOULDBLOCK")
		}
		_, err = e.cli.Procs.WSPSend(c, [][]byte{[]byte("more")}, 0, nil, nil, nil)
		e.check(err, wsa.WSAEWOULDBLOCK, "non-blocking send with a full buffer")
	}},
	testCase{name: "Timeouts", fn: func(e *env) {
		c, s := e.pair()
		e.setTimeout(e.srv, s, wsa.SO_RCVTIMEO, 100*time.Millisecond)
		start := time.Now()
		_, err := e.recv(e.srv, s, make([]byte, 8), 0)
		e.check(err, wsa.WSAETIMEDOUT, "recv past SO_RCVTIMEO")
		if d := time.Since(start); d < 90*time.Millisecond {
			e.t.Fatalf("recv timed out after %v, before SO_RCVTIMEO", d)
		}
		e.fill(e.cli, c)
		e.setNonblocking(e.cli, c, false)
		e.setTimeout(e.cli, c, wsa.SO_SNDTIMEO, 100*time.Millisecond)
		_, err = e.cli.Procs.WSPSend(c, [][]byte{make([]byte, pastBuffers)}, 0, nil, nil, nil)
		e.check(err, wsa.WSAETIMEDOUT, "send past SO_SNDTIMEO")
	}},
	testCase{name: "Peek", fn: func(e *env) {
		c, s := e.pair()
		e.send(e.cli, c, []byte("hello"))
		e.eventually("data", func() bool { return e.fionread(e.srv, s) == 5 })
		buf := make([]byte, 16)
		n, err := e.recv(e.srv, s, buf, wsa.MSG_PEEK)
		e.check(err, nil, "MSG_PEEK")
		if string(buf[:n]) != "hello" {
			e.t.Fatalf("MSG_PEEK got %q", buf[:n])
		}
		if e.fionread(e.srv, s) != 5 {
			e.t.Fatal("MSG_PEEK consumed data")
		}
		e.recvFull(e.srv, s, []byte("hello"))
	}},
	testCase{name: "WaitAll", fn: func(e *env) {
		c, s := e.pair()
		buf := make([]byte, 8)
		_, err := e.recv(e.srv, s, buf, wsa.MSG_WAITALL|wsa.MSG_PEEK)
		e.check(err, wsa.WSAEOPNOTSUPP, "MSG_WAITALL|MSG_PEEK")
		e.setNonblocking(e.srv, s, true)
		_, err = e.recv(e.srv, s, buf, wsa.MSG_WAITALL)
		e.check(err, wsa.WSAEOPNOTSUPP, "MSG_WAITALL non-blocking")
		e.setNonblocking(e.srv, s, false)
		e.setTimeout(e.srv, s, wsa.SO_RCVTIMEO, 10*time.Second)

		done := async(func() error {
			n, err := e.recv(e.srv, s, buf, wsa.MSG_WAITALL)
			if err == nil && (n != 8 || string(buf) != "abcdefgh") {
				e.t.Errorf("MSG_WAITALL got %d bytes %q", n, buf[:n])
			}
			return err
		})
		e.send(e.cli, c, []byte("abc"))
		time.Sleep(20 * time.Millisecond)
		e.send(e.cli, c, []byte("defgh"))
		e.check(e.await(done, "MSG_WAITALL recv"), nil, "MSG_WAITALL")

		// The connection closing completes it with what arrived.
		e.send(e.cli, c, []byte("xyz"))
		e.check(e.cli.Procs.WSPShutdown(c, wsa.SD_SEND), nil, "shutdown")
		n, err := e.recv(e.srv, s, buf, wsa.MSG_WAITALL)
		e.check(err, nil, "MSG_WAITALL at EOF")
		if n != 3 || string(buf[:3]) != "xyz" {
			e.t.Fatalf("MSG_WAITALL at EOF: %d bytes %q", n, buf[:n])
		}
		d, _ := e.udp(e.srv)
		_, err = e.recv(e.srv, d, buf, wsa.MSG_WAITALL)
		e.check(err, wsa.WSAEOPNOTSUPP, "MSG_WAITALL on a datagram socket")
	}},
	testCase{name: "FIN", fn: func(e *env) {
		c, s := e.pair()
		e.send(e.cli, c, []byte("last"))
		e.check(e.cli.Procs.WSPShutdown(c, wsa.SD_SEND), nil, "shutdown(SD_SEND)")
		_, err := e.cli.Procs.WSPSend(c, [][]byte{[]byte("x")}, 0, nil, nil, nil)
		e.check(err, wsa.WSAESHUTDOWN, "send after SD_SEND")
		e.recvFull(e.srv, s, []byte("last"))
		e.recvEOF(e.srv, s)
		e.recvEOF(e.srv, s)
		// The other direction still works.
		e.send(e.srv, s, []byte("reply"))
		e.recvFull(e.cli, c, []byte("reply"))
		e.check(e.cli.Procs.WSPShutdown(c, 3), wsa.WSAEINVAL, "shutdown(3)")
	}},
	testCase{name: "ShutdownReceive", fn: func(e *env) {
		c, s := e.pair()
		e.check(e.srv.Procs.WSPShutdown(s, wsa.SD_RECEIVE), nil, "shutdown(SD_RECEIVE)")
		_, err := e.recv(e.srv, s, make([]byte, 8), 0)
		e.check(err, wsa.WSAESHUTDOWN, "recv after SD_RECEIVE")
		// Data arriving afterwards resets the connection.
		e.send(e.cli, c, []byte("unwanted"))
		e.recvErr(e.cli, c, wsa.WSAECONNRESET)
		_, err = e.recv(e.srv, s, make([]byte, 8), 0)
		e.check(err, wsa.WSAESHUTDOWN, "recv after the reset")
	}},
	testCase{name: "ShutdownReceiveQueued", fn: func(e *env) {
		c, s := e.pair()
		e.send(e.cli, c, []byte("queued"))
		e.eventually("data", func() bool { return e.fionread(e.srv, s) > 0 })
		e.check(e.srv.Procs.WSPShutdown(s, wsa.SD_RECEIVE), nil, "shutdown(SD_RECEIVE)")
		e.recvErr(e.cli, c, wsa.WSAECONNRESET)
	}},
	testCase{name: "Reset", fn: func(e *env) {
		c, s := e.pair()
		e.setLinger(e.cli, c, 1, 0)
		e.check(e.cli.Procs.WSPCloseSocket(c), nil, "abortive close")
		e.recvErr(e.srv, s, wsa.WSAECONNRESET)
		e.recvErr(e.srv, s, wsa.WSAECONNRESET)
		_, err := e.srv.Procs.WSPSend(s, [][]byte{[]byte("x")}, 0, nil, nil, nil)
		e.check(err, wsa.WSAECONNRESET, "send after the peer's reset")
	}},
	testCase{name: "Disconnect", fn: func(e *env) {
		c, s := e.pair()
		e.check(e.cli.Procs.WSPSendDisconnect(c, []byte("bye")), wsa.WSAENOPROTOOPT, "WSASendDisconnect with data")
		e.check(e.cli.Procs.WSPSendDisconnect(c, nil), nil, "WSASendDisconnect")
		e.recvEOF(e.srv, s)
		e.check(e.srv.Procs.WSPRecvDisconnect(s, nil), nil, "WSARecvDisconnect")
		_, err := e.recv(e.srv, s, make([]byte, 8), 0)
		e.check(err, wsa.WSAESHUTDOWN, "recv after WSARecvDisconnect")
	}},
)

var _ = addGroup("Datagram",
	testCase{name: "Truncation", fn: func(e *env) {
		a, aAddr := e.udp(e.srv)
		b, _ := e.udp(e.cli)
		e.setTimeout(e.srv, a, wsa.SO_RCVTIMEO, 10*time.Second)
		big := bytes.Repeat([]byte("0123456789"), 10)
		e.sendTo(e.cli, b, big, aAddr)
		e.sendTo(e.cli, b, []byte("next"), aAddr)

		buf := make([]byte, 10)
		n, err := e.recv(e.srv, a, buf, wsa.MSG_PEEK)
		e.check(err, wsa.WSAEMSGSIZE, "MSG_PEEK of a datagram larger than the buffer")
		if n != 10 || string(buf) != "0123456789" {
			e.t.Fatalf("MSG_PEEK: %d bytes %q", n, buf[:n])
		}
		full := make([]byte, 200)
		n, err = e.recv(e.srv, a, full, wsa.MSG_PEEK)
		e.check(err, nil, "MSG_PEEK with room")
		if n != 100 {
			e.t.Fatalf("MSG_PEEK with room: %d bytes", n)
		}
		var from wsa.Sockaddr
		var flags uint32
		m, err := e.srv.Procs.WSPRecvFrom(a, [][]byte{buf[:4], buf[4:]}, &flags, &from, nil, nil, nil)
		e.check(err, wsa.WSAEMSGSIZE, "recvfrom of a datagram larger than the buffers")
		if m != 10 || string(buf) != "0123456789" {
			e.t.Fatalf("truncated recvfrom: %d bytes %q", m, buf[:m])
		}
		if from == nil || from.AddrPort() != e.name(e.cli, b) {
			e.t.Fatalf("recvfrom source %v, want %v", from, e.name(e.cli, b))
		}
		n, err = e.recv(e.srv, a, full, 0)
		e.check(err, nil, "recv of the next datagram")
		if string(full[:n]) != "next" {
			e.t.Fatalf("the rest of the truncated datagram was not discarded: got %q", full[:n])
		}
	}},
	testCase{name: "Sizes", fn: func(e *env) {
		a, aAddr := e.udp(e.srv)
		b, _ := e.udp(e.cli)
		limit := 65507
		if e.af == wsa.AF_INET6 {
			limit = 65527
		}
		if v := e.getInt(e.srv, a, wsa.SOL_SOCKET, wsa.SO_MAX_MSG_SIZE); int(v) != limit {
			e.t.Fatalf("SO_MAX_MSG_SIZE = %d, want %d", v, limit)
		}
		_, err := e.cli.Procs.WSPSendTo(b, [][]byte{make([]byte, limit+1)}, 0, aAddr, nil, nil, nil)
		e.check(err, wsa.WSAEMSGSIZE, "sendto of a datagram too large")
		e.sendTo(e.cli, b, make([]byte, limit), aAddr)
		e.sendTo(e.cli, b, []byte{}, aAddr)
		e.eventually("a datagram", func() bool { return e.fionread(e.srv, a) > 0 })
		if n := e.fionread(e.srv, a); n != limit {
			e.t.Fatalf("FIONREAD = %d, want %d", n, limit)
		}
	}},
	testCase{name: "Broadcast", only: wsa.AF_INET, fn: func(e *env) {
		b, _ := e.udp(e.cli)
		_, err := e.cli.Procs.WSPSendTo(b, [][]byte{[]byte("all")}, 0, sa(bcast, 9), nil, nil, nil)
		e.check(err, wsa.WSAEACCES, "broadcast without SO_BROADCAST")
		e.check(e.connect(e.cli, b, sa(bcast, 9)), wsa.WSAEACCES, "connect to broadcast without SO_BROADCAST")
	}},
	testCase{name: "Errors", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_DGRAM)
		_, err := e.recv(e.srv, s, make([]byte, 8), 0)
		e.check(err, wsa.WSAEINVAL, "recv on an unbound datagram socket")
		_, err = e.srv.Procs.WSPSend(s, [][]byte{[]byte("x")}, 0, nil, nil, nil)
		e.check(err, wsa.WSAENOTCONN, "send without a destination")
		_, err = e.srv.Procs.WSPSendTo(s, [][]byte{[]byte("x")}, 0, sa(e.anyAddr(), 9), nil, nil, nil)
		e.check(err, wsa.WSAEADDRNOTAVAIL, "sendto the unspecified address")
		_, err = e.srv.Procs.WSPSendTo(s, [][]byte{[]byte("x")}, 0, sa(e.srvA, 0), nil, nil, nil)
		e.check(err, wsa.WSAEADDRNOTAVAIL, "sendto port 0")
		_, err = e.srv.Procs.WSPSendTo(s, [][]byte{[]byte("x")}, wsa.MSG_OOB, sa(e.srvA, 9), nil, nil, nil)
		e.check(err, wsa.WSAEOPNOTSUPP, "MSG_OOB on a datagram socket")
		_, err = e.srv.Procs.WSPSendTo(s, [][]byte{[]byte("x")}, 0x40000, sa(e.srvA, 9), nil, nil, nil)
		e.check(err, wsa.WSAEINVAL, "unknown send flag")
		e.check(e.srv.Procs.WSPListen(s, 5), wsa.WSAEOPNOTSUPP, "listen on a datagram socket")
		_, _, err = e.srv.Procs.WSPAccept(s, nil, 0)
		e.check(err, wsa.WSAEOPNOTSUPP, "accept on a datagram socket")
	}},
	testCase{name: "ShutdownReceive", fn: func(e *env) {
		a, aAddr := e.udp(e.srv)
		b, _ := e.udp(e.cli)
		e.check(e.srv.Procs.WSPShutdown(a, wsa.SD_RECEIVE), nil, "shutdown(SD_RECEIVE)")
		e.sendTo(e.cli, b, []byte("still queued"), aAddr)
		e.eventually("the datagram queued", func() bool { return e.fionread(e.srv, a) > 0 })
		_, err := e.recv(e.srv, a, make([]byte, 64), 0)
		e.check(err, wsa.WSAESHUTDOWN, "recv after SD_RECEIVE")
		e.check(e.srv.Procs.WSPShutdown(a, wsa.SD_SEND), nil, "shutdown(SD_SEND)")
		_, err = e.srv.Procs.WSPSendTo(a, [][]byte{[]byte("x")}, 0, aAddr, nil, nil, nil)
		e.check(err, wsa.WSAESHUTDOWN, "sendto after SD_SEND")
	}},
	testCase{name: "PortUnreachable", fn: func(e *env) {
		probe, closed := e.udp(e.srv)
		e.check(e.srv.Procs.WSPCloseSocket(probe), nil, "close")
		b, _ := e.udp(e.cli)
		e.check(e.connect(e.cli, b, closed), nil, "connect")
		e.setTimeout(e.cli, b, wsa.SO_RCVTIMEO, 5*time.Second)
		e.send(e.cli, b, []byte("anyone?"))
		_, err := e.recv(e.cli, b, make([]byte, 16), 0)
		e.check(err, wsa.WSAECONNRESET, "recv after ICMP port unreachable")

		// With SIO_UDP_CONNRESET off the error is not reported.
		_, err = e.ioctl(e.cli, b, wsa.SIO_UDP_CONNRESET, []byte{0, 0, 0, 0}, 0)
		e.check(err, nil, "SIO_UDP_CONNRESET")
		e.setTimeout(e.cli, b, wsa.SO_RCVTIMEO, 200*time.Millisecond)
		e.send(e.cli, b, []byte("anyone?"))
		_, err = e.recv(e.cli, b, make([]byte, 16), 0)
		e.check(err, wsa.WSAETIMEDOUT, "recv with SIO_UDP_CONNRESET off")
	}},
)

var bcast = mustAddr("255.255.255.255")

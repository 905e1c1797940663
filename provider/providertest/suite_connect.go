package providertest

import (
	"errors"
	"net/netip"
	"time"

	"github.com/ws2go/ws2/wsa"
)

var _ = addGroup("Socket",
	testCase{name: "Create", fn: func(e *env) {
		p := e.srv.Procs
		tcp := e.entry(e.srv, e.af, wsa.SOCK_STREAM)
		udp := e.entry(e.srv, e.af, wsa.SOCK_DGRAM)
		for _, c := range []struct {
			af, typ, proto int32
			info           wsa.ProtocolInfo
			want           error
		}{
			{e.af, wsa.SOCK_STREAM, 0, tcp, nil},
			{e.af, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, tcp, nil},
			{wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, tcp, nil},
			{e.af, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, udp, nil},
			{e.af, wsa.SOCK_STREAM, wsa.IPPROTO_UDP, tcp, wsa.WSAEPROTONOSUPPORT},
			{e.af, wsa.SOCK_DGRAM, wsa.IPPROTO_TCP, udp, wsa.WSAEPROTONOSUPPORT},
			{e.af, wsa.SOCK_DGRAM, 0, tcp, wsa.WSAESOCKTNOSUPPORT},
			{other(e.af), wsa.SOCK_STREAM, 0, tcp, wsa.WSAEAFNOSUPPORT},
		} {
			info := c.info
			s, err := p.WSPSocket(c.af, c.typ, c.proto, &info, 0, wsa.WSA_FLAG_OVERLAPPED)
			e.check(err, c.want, "WSPSocket")
			if err == nil {
				e.check(p.WSPCloseSocket(s), nil, "closesocket")
				e.check(p.WSPCloseSocket(s), wsa.WSAENOTSOCK, "second closesocket")
				_, err := p.WSPGetSockName(s)
				e.check(err, wsa.WSAENOTSOCK, "getsockname after close")
			}
		}
		_, err := p.WSPGetSockName(wsa.Socket(0x7ffff0))
		e.check(err, wsa.WSAENOTSOCK, "unknown handle")
		if u := e.srv.Upcalls; u != nil {
			n := u.Sockets()
			s := e.sock(e.srv, wsa.SOCK_STREAM)
			if h, ok := u.Socket(s); !ok || h.CatalogEntryID != tcp.CatalogEntryId || u.Sockets() != n+1 {
				e.t.Fatalf("handle table entry %+v (%v), %d handles", h, ok, u.Sockets())
			}
			e.check(p.WSPCloseSocket(s), nil, "closesocket")
			if u.Sockets() != n {
				e.t.Fatal("closesocket did not release the handle")
			}
		}
	}},
	testCase{name: "Names", fn: func(e *env) {
		for _, typ := range []int32{wsa.SOCK_STREAM, wsa.SOCK_DGRAM} {
			s := e.sock(e.srv, typ)
			_, err := e.srv.Procs.WSPGetSockName(s)
			e.check(err, wsa.WSAEINVAL, "getsockname unbound")
			_, err = e.srv.Procs.WSPGetPeerName(s)
			e.check(err, wsa.WSAENOTCONN, "getpeername unconnected")
			e.bind(e.srv, s, e.srvA, 0)
			if n := e.name(e.srv, s); n.Addr() != e.srvA || n.Port() == 0 {
				e.t.Fatalf("getsockname = %v", n)
			}
			_, err = e.srv.Procs.WSPGetPeerName(s)
			e.check(err, wsa.WSAENOTCONN, "getpeername bound")
		}
		c, s := e.pair()
		cn, err := e.cli.Procs.WSPGetPeerName(c)
		e.check(err, nil, "getpeername")
		if cn.AddrPort() != e.name(e.srv, s) {
			e.t.Fatalf("client's peer %v, server's name %v", cn.AddrPort(), e.name(e.srv, s))
		}
	}},
	testCase{name: "AddressStrings", fn: func(e *env) {
		p := e.srv.Procs
		info := e.entry(e.srv, e.af, wsa.SOCK_STREAM)
		in := netip.AddrPortFrom(e.srvA, 8080)
		str, err := p.WSPAddressToString(sa(e.srvA, 8080), &info)
		e.check(err, nil, "WSPAddressToString")
		if str != in.String() {
			e.t.Fatalf("WSPAddressToString = %q, want %q", str, in.String())
		}
		a, err := p.WSPStringToAddress(str, e.af, &info)
		e.check(err, nil, "WSPStringToAddress")
		if a.AddrPort() != in {
			e.t.Fatalf("WSPStringToAddress(%q) = %v", str, a.AddrPort())
		}
		_, err = p.WSPStringToAddress("not an address", e.af, &info)
		e.check(err, wsa.WSAEINVAL, "bad string")
		_, err = p.WSPAddressToString(nil, &info)
		e.check(err, wsa.WSAEFAULT, "nil address")
	}},
)

var _ = addGroup("Connect",
	testCase{name: "Blocking", fn: func(e *env) {
		l, to := e.listener()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, to), nil, "connect")
		e.check(e.connect(e.cli, c, to), wsa.WSAEISCONN, "second connect")
		e.check(e.connect(e.srv, l, to), wsa.WSAEINVAL, "connect on a listener")
		s := e.accept(l)
		e.send(e.cli, c, []byte("ping"))
		e.recvFull(e.srv, s, []byte("ping"))
		if n := e.name(e.cli, c); n.Port() == 0 || n.Addr() != e.cliA {
			e.t.Fatalf("implicit bind: getsockname = %v", n)
		}
	}},
	testCase{name: "Errors", fn: func(e *env) {
		// A port nobody listens on.
		probe := e.sock(e.srv, wsa.SOCK_STREAM)
		e.bind(e.srv, probe, e.srvA, 0)
		closed := e.port(e.srv, probe)
		e.check(e.srv.Procs.WSPCloseSocket(probe), nil, "close")

		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, sa(e.srvA, closed)), wsa.WSAECONNREFUSED, "connect to a closed port")
		e.check(e.connect(e.cli, c, sa(e.anyAddr(), 80)), wsa.WSAEADDRNOTAVAIL, "connect to the unspecified address")
		e.check(e.connect(e.cli, c, sa(e.srvA, 0)), wsa.WSAEADDRNOTAVAIL, "connect to port 0")
		// A failed attempt may be followed by another.
		_, to := e.listener()
		e.check(e.connect(e.cli, c, to), nil, "connect after a failure")

		d := e.sock(e.cli, wsa.SOCK_STREAM)
		var want error = wsa.WSAEAFNOSUPPORT // a longer sockaddr of another family
		if e.af == wsa.AF_INET6 {
			want = wsa.WSAEFAULT // a sockaddr_in is too short for AF_INET6
		}
		otherAddr := netip.MustParseAddr("::1")
		if e.af == wsa.AF_INET6 {
			otherAddr = netip.MustParseAddr("127.0.0.1")
		}
		e.check(e.connect(e.cli, d, sa(otherAddr, 80)), want, "connect to another family")
		e.check(e.connect(e.cli, d, nil), wsa.WSAEFAULT, "connect to nil")
	}},
	testCase{name: "NoRoute", fn: func(e *env) {
		a := e.h.Unroutable4
		if e.af == wsa.AF_INET6 {
			a = e.h.Unroutable6
		}
		if !a.IsValid() {
			e.t.Skip("harness has no unroutable address")
		}
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		err := e.connect(e.cli, c, sa(a, 80))
		if !errors.Is(err, wsa.WSAENETUNREACH) && !errors.Is(err, wsa.WSAEHOSTUNREACH) {
			e.t.Fatalf("connect with no route: %v (%s), want WSAENETUNREACH or WSAEHOSTUNREACH", err, errName(err))
		}
	}},
	testCase{name: "NonBlocking", fn: func(e *env) {
		l, to := e.listener()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.setNonblocking(e.cli, c, true)
		e.check(e.connect(e.cli, c, to), wsa.WSAEWOULDBLOCK, "first connect")
		err := e.connect(e.cli, c, to)
		if !errors.Is(err, wsa.WSAEALREADY) && !errors.Is(err, wsa.WSAEISCONN) {
			e.t.Fatalf("connect while pending: %v (%s), want WSAEALREADY (or WSAEISCONN)", err, errName(err))
		}
		e.eventually("the connect to complete", func() bool {
			err := e.connect(e.cli, c, to)
			if err != nil && !errors.Is(err, wsa.WSAEALREADY) && !errors.Is(err, wsa.WSAEISCONN) {
				e.t.Fatalf("connect while pending: %v (%s)", err, errName(err))
			}
			return errors.Is(err, wsa.WSAEISCONN)
		})
		if v := e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_ERROR); v != 0 {
			e.t.Fatalf("SO_ERROR after success = %d", v)
		}
		s := e.accept(l)
		e.send(e.cli, c, []byte("x"))
		e.recvFull(e.srv, s, []byte("x"))
	}},
	testCase{name: "NonBlockingRefused", fn: func(e *env) {
		probe := e.sock(e.srv, wsa.SOCK_STREAM)
		e.bind(e.srv, probe, e.srvA, 0)
		closed := e.port(e.srv, probe)
		e.check(e.srv.Procs.WSPCloseSocket(probe), nil, "close")

		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.setNonblocking(e.cli, c, true)
		e.check(e.connect(e.cli, c, sa(e.srvA, closed)), wsa.WSAEWOULDBLOCK, "connect")
		var soErr int32
		e.eventually("SO_ERROR", func() bool {
			soErr = e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_ERROR)
			return soErr != 0
		})
		if wsa.Errno(soErr) != wsa.WSAECONNREFUSED {
			e.t.Fatalf("SO_ERROR = %d, want WSAECONNREFUSED", soErr)
		}
		if v := e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_ERROR); v != 0 {
			e.t.Fatalf("SO_ERROR read twice = %d, want 0 (reading clears it)", v)
		}
		// And again, to a listener.
		_, to := e.listener()
		e.check(e.connect(e.cli, c, to), wsa.WSAEWOULDBLOCK, "connect again")
		e.eventually("the second connect", func() bool { return errors.Is(e.connect(e.cli, c, to), wsa.WSAEISCONN) })
	}},
	testCase{name: "Datagram", fn: func(e *env) {
		a, aAddr := e.udp(e.srv)
		b, bAddr := e.udp(e.cli)
		c, _ := e.udp(e.cli)
		e.check(e.connect(e.cli, b, aAddr), nil, "UDP connect")
		pn, err := e.cli.Procs.WSPGetPeerName(b)
		e.check(err, nil, "getpeername")
		if pn.AddrPort() != aAddr.AddrPort() {
			e.t.Fatalf("getpeername = %v, want %v", pn.AddrPort(), aAddr.AddrPort())
		}
		e.setTimeout(e.cli, b, wsa.SO_RCVTIMEO, 200*time.Millisecond)
		e.sendTo(e.cli, c, []byte("stranger"), bAddr) // filtered out
		e.sendTo(e.srv, a, []byte("peer"), bAddr)
		buf := make([]byte, 64)
		n, err := e.recv(e.cli, b, buf, 0)
		e.check(err, nil, "recv from the peer")
		if string(buf[:n]) != "peer" {
			e.t.Fatalf("connected UDP socket received %q, want only %q", buf[:n], "peer")
		}
		e.send(e.cli, b, []byte("to peer"))
		e.setTimeout(e.srv, a, wsa.SO_RCVTIMEO, 10*time.Second)
		n, err = e.recv(e.srv, a, buf, 0)
		e.check(err, nil, "peer recv")
		if string(buf[:n]) != "to peer" {
			e.t.Fatalf("peer received %q", buf[:n])
		}
		// connect to the all-zero address dissolves the association.
		e.check(e.connect(e.cli, b, sa(e.anyAddr(), 0)), nil, "connect to the zero address")
		_, err = e.cli.Procs.WSPGetPeerName(b)
		e.check(err, wsa.WSAENOTCONN, "getpeername after dissolving")
		e.sendTo(e.cli, c, []byte("anyone"), bAddr)
		e.setTimeout(e.cli, b, wsa.SO_RCVTIMEO, 10*time.Second)
		n, err = e.recv(e.cli, b, buf, 0)
		e.check(err, nil, "recv after dissolving")
		if string(buf[:n]) != "anyone" {
			e.t.Fatalf("received %q, want %q", buf[:n], "anyone")
		}
		_, err = e.cli.Procs.WSPSend(b, [][]byte{[]byte("x")}, 0, nil, nil, nil)
		e.check(err, wsa.WSAENOTCONN, "send without a peer")
	}},
)

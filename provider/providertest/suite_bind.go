package providertest

import (
	"fmt"
	"net/netip"

	"github.com/ws2go/ws2/wsa"
)

// The same-user table of MicrosoftDocs/win32
// using-so-reuseaddr-and-so-exclusiveaddruse.md (spec §5.7): the result of
// a second bind to a port after a first, by (option, wildcard or specific).
const (
	okay   = 0
	inUse  = wsa.WSAEADDRINUSE
	access = wsa.WSAEACCES
)

type bindKind struct {
	opt  int32 // 0, SO_REUSEADDR or SO_EXCLUSIVEADDRUSE
	wild bool
}

var bindKinds = []bindKind{
	{0, true}, {0, false},
	{wsa.SO_REUSEADDR, true}, {wsa.SO_REUSEADDR, false},
	{wsa.SO_EXCLUSIVEADDRUSE, true}, {wsa.SO_EXCLUSIVEADDRUSE, false},
}

func (k bindKind) String() string {
	o := map[int32]string{0: "Default", wsa.SO_REUSEADDR: "Reuse", wsa.SO_EXCLUSIVEADDRUSE: "Exclusive"}[k.opt]
	if k.wild {
		return o + "W"
	}
	return o + "S"
}

var bindTable = [6][6]wsa.Errno{
	//              DefW   DefS   ReuseW ReuseS ExclW  ExclS
	/* Def W   */ {inUse, okay, access, okay, inUse, okay},
	/* Def S   */ {okay, inUse, okay, access, inUse, inUse},
	/* Reuse W */ {inUse, okay, okay, okay, inUse, okay},
	/* Reuse S */ {okay, inUse, okay, okay, inUse, inUse},
	/* Excl W  */ {inUse, access, access, access, inUse, access},
	/* Excl S  */ {okay, inUse, okay, access, inUse, inUse},
}

// bindAs makes a socket with k's option and binds it to k's address and
// port, returning the socket and the bind's error.
func (e *env) bindAs(typ int32, k bindKind, port int) (wsa.Socket, error) {
	e.t.Helper()
	s := e.sock(e.srv, typ)
	if k.opt != 0 {
		e.mustSetInt(e.srv, s, wsa.SOL_SOCKET, k.opt, 1)
	}
	a := e.srvA
	if k.wild {
		a = e.anyAddr()
	}
	return s, e.srv.Procs.WSPBind(s, sa(a, port))
}

func (e *env) bindCell(typ int32, i, j int) {
	e.t.Helper()
	first, err := e.bindAs(typ, bindKinds[i], 0)
	e.check(err, nil, "first bind "+bindKinds[i].String())
	port := e.port(e.srv, first)
	second, err := e.bindAs(typ, bindKinds[j], port)
	var want error
	if w := bindTable[i][j]; w != okay {
		want = w
	}
	e.check(err, want, fmt.Sprintf("%s then %s", bindKinds[i], bindKinds[j]))
	_ = e.srv.Procs.WSPCloseSocket(first)
	_ = e.srv.Procs.WSPCloseSocket(second)
}

var _ = addGroup("Bind",
	testCase{name: "Errors", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_STREAM)
		e.check(e.srv.Procs.WSPBind(s, sa(e.nonLocal(), 0)), wsa.WSAEADDRNOTAVAIL, "bind to a foreign address")
		var want error = wsa.WSAEAFNOSUPPORT
		o := mustAddr("::1")
		if e.af == wsa.AF_INET6 {
			want, o = wsa.WSAEFAULT, mustAddr("127.0.0.1")
		}
		e.check(e.srv.Procs.WSPBind(s, sa(o, 0)), want, "bind to another family")
		e.check(e.srv.Procs.WSPBind(s, nil), wsa.WSAEFAULT, "bind to nil")
		e.bind(e.srv, s, e.srvA, 0)
		e.check(e.srv.Procs.WSPBind(s, sa(e.srvA, 0)), wsa.WSAEINVAL, "second bind")
		e.check(e.setInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1), wsa.WSAEINVAL, "SO_REUSEADDR after bind")
		e.check(e.setInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_EXCLUSIVEADDRUSE, 1), wsa.WSAEINVAL, "SO_EXCLUSIVEADDRUSE after bind")

		t := e.sock(e.srv, wsa.SOCK_STREAM)
		e.mustSetInt(e.srv, t, wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1)
		e.check(e.setInt(e.srv, t, wsa.SOL_SOCKET, wsa.SO_EXCLUSIVEADDRUSE, 1), wsa.WSAEINVAL, "both options")
		u := e.sock(e.srv, wsa.SOCK_STREAM)
		e.mustSetInt(e.srv, u, wsa.SOL_SOCKET, wsa.SO_EXCLUSIVEADDRUSE, 1)
		e.check(e.setInt(e.srv, u, wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1), wsa.WSAEINVAL, "both options")
		e.mustSetInt(e.srv, u, wsa.SOL_SOCKET, wsa.SO_EXCLUSIVEADDRUSE, 0)
		e.mustSetInt(e.srv, u, wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1)
		if e.getInt(e.srv, u, wsa.SOL_SOCKET, wsa.SO_REUSEADDR) != 1 || e.getInt(e.srv, u, wsa.SOL_SOCKET, wsa.SO_EXCLUSIVEADDRUSE) != 0 {
			e.t.Fatal("SO_REUSEADDR/SO_EXCLUSIVEADDRUSE not as set")
		}
	}},
	testCase{name: "TCPTable", fn: func(e *env) {
		for i := range bindKinds {
			for j := range bindKinds {
				e.bindCell(wsa.SOCK_STREAM, i, j)
			}
		}
	}},
	testCase{name: "UDPTable", fn: func(e *env) {
		for _, c := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 2}, {2, 2}, {3, 3}, {4, 1}, {5, 3}, {1, 4}} {
			e.bindCell(wsa.SOCK_DGRAM, c[0], c[1])
		}
	}},
	testCase{name: "ReuseListeners", fn: func(e *env) {
		// Two SO_REUSEADDR listeners on one address both listen; a
		// connection reaches one of them.
		a, err := e.bindAs(wsa.SOCK_STREAM, bindKind{wsa.SO_REUSEADDR, false}, 0)
		e.check(err, nil, "bind")
		port := e.port(e.srv, a)
		b, err := e.bindAs(wsa.SOCK_STREAM, bindKind{wsa.SO_REUSEADDR, false}, port)
		e.check(err, nil, "second SO_REUSEADDR bind")
		e.check(e.srv.Procs.WSPListen(a, 5), nil, "listen")
		e.check(e.srv.Procs.WSPListen(b, 5), nil, "second listen")
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, sa(e.srvA, port)), nil, "connect")
	}},
	testCase{name: "SpecificAndWildcard", fn: func(e *env) {
		// A default wildcard listener and a default specific one share
		// the port; the specific one gets the connections to its address.
		w, err := e.bindAs(wsa.SOCK_STREAM, bindKind{0, true}, 0)
		e.check(err, nil, "wildcard bind")
		port := e.port(e.srv, w)
		s, err := e.bindAs(wsa.SOCK_STREAM, bindKind{0, false}, port)
		e.check(err, nil, "specific bind")
		e.check(e.srv.Procs.WSPListen(w, 5), nil, "listen wildcard")
		e.check(e.srv.Procs.WSPListen(s, 5), nil, "listen specific")
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, sa(e.srvA, port)), nil, "connect")
		e.setNonblocking(e.srv, w, true)
		_, _, err = e.srv.Procs.WSPAccept(w, nil, 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "accept on the wildcard listener")
		e.accept(s)
	}},
	testCase{name: "Ephemeral", fn: func(e *env) {
		for _, typ := range []int32{wsa.SOCK_STREAM, wsa.SOCK_DGRAM} {
			seen := map[int]bool{}
			for i := 0; i < 64; i++ {
				s := e.sock(e.srv, typ)
				if i%2 == 0 {
					e.mustSetInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1)
				}
				e.bind(e.srv, s, e.anyAddr(), 0)
				p := e.port(e.srv, s)
				if seen[p] {
					e.t.Fatalf("ephemeral port %d handed out twice", p)
				}
				seen[p] = true
			}
		}
	}},
	testCase{name: "DualStack", only: wsa.AF_INET6, fn: func(e *env) {
		if !e.srv.Addr4.IsValid() {
			e.t.Skip("no IPv4 address")
		}
		s4 := e.sockOf(e.srv, wsa.AF_INET, wsa.SOCK_STREAM)
		e.bind(e.srv, s4, netip.IPv4Unspecified(), 0)
		port := e.port(e.srv, s4)

		s6 := e.sock(e.srv, wsa.SOCK_STREAM)
		e.mustSetInt(e.srv, s6, wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY, 0)
		e.check(e.srv.Procs.WSPBind(s6, sa(netip.IPv6Unspecified(), port)), wsa.WSAEADDRINUSE,
			"dual-stack wildcard bind over an IPv4 wildcard bind")
		v6only := e.sock(e.srv, wsa.SOCK_STREAM)
		e.bind(e.srv, v6only, netip.IPv6Unspecified(), port)

		// And the other way round.
		d := e.sock(e.srv, wsa.SOCK_DGRAM)
		e.mustSetInt(e.srv, d, wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY, 0)
		e.bind(e.srv, d, netip.IPv6Unspecified(), 0)
		u4 := e.sockOf(e.srv, wsa.AF_INET, wsa.SOCK_DGRAM)
		e.check(e.srv.Procs.WSPBind(u4, sa(netip.IPv4Unspecified(), e.port(e.srv, d))), wsa.WSAEADDRINUSE,
			"IPv4 bind over a dual-stack wildcard bind")
	}},
)

var _ = addGroup("V6Only",
	testCase{name: "Default", only: wsa.AF_INET6, fn: func(e *env) {
		for _, typ := range []int32{wsa.SOCK_STREAM, wsa.SOCK_DGRAM} {
			s := e.sock(e.srv, typ)
			if v := e.getInt(e.srv, s, wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY); v != 1 {
				e.t.Fatalf("IPV6_V6ONLY default = %d, want 1", v)
			}
			e.bind(e.srv, s, e.srvA, 0)
			e.check(e.setInt(e.srv, s, wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY, 0), wsa.WSAEINVAL, "IPV6_V6ONLY after bind")
		}
		s4 := e.sockOf(e.srv, wsa.AF_INET, wsa.SOCK_STREAM)
		e.check(e.setInt(e.srv, s4, wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY, 0), wsa.WSAENOPROTOOPT, "IPV6_V6ONLY on an IPv4 socket")
	}},
	testCase{name: "DualStackListener", only: wsa.AF_INET6, fn: func(e *env) {
		if !e.srv.Addr4.IsValid() || !e.cli.Addr4.IsValid() {
			e.t.Skip("no IPv4 addresses")
		}
		for _, v6only := range []int32{0, 1} {
			var l wsa.Socket
			var port int
			for try := 0; ; try++ {
				l = e.sock(e.srv, wsa.SOCK_STREAM)
				e.mustSetInt(e.srv, l, wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY, v6only)
				e.bind(e.srv, l, netip.IPv6Unspecified(), 0)
				port = e.port(e.srv, l)
				if v6only == 0 {
					break
				}
				// Hold the IPv4 side of the port with a bound socket that
				// does not listen (allowed beside an IPV6_V6ONLY bind), so
				// that on a shared kernel loopback no other process can be
				// listening there while the connect is refused. Another
				// process may hold it already: then take another port.
				hold := e.sockOf(e.srv, wsa.AF_INET, wsa.SOCK_STREAM)
				err := e.srv.Procs.WSPBind(hold, sa(netip.IPv4Unspecified(), port))
				if err == nil {
					break
				}
				if err != wsa.WSAEADDRINUSE || try == 20 {
					e.check(err, nil, "IPv4 bind beside an IPV6_V6ONLY bind")
				}
			}
			e.check(e.srv.Procs.WSPListen(l, 5), nil, "listen")
			c := e.sockOf(e.cli, wsa.AF_INET, wsa.SOCK_STREAM)
			err := e.connect(e.cli, c, sa(e.srv.Addr4, port))
			if v6only == 1 {
				e.check(err, wsa.WSAECONNREFUSED, "IPv4 connect to an IPV6_V6ONLY listener")
				continue
			}
			e.check(err, nil, "IPv4 connect to a dual-stack listener")
			s, peer, err := e.srv.Procs.WSPAccept(l, nil, 0)
			e.check(err, nil, "accept")
			mapped := netip.AddrFrom16(e.cli.Addr4.As16())
			mapped = netip.AddrFrom16(func() [16]byte { b := mapped.As16(); b[10], b[11] = 0xff, 0xff; return b }())
			if _, ok := peer.(*wsa.SockaddrInet6); !ok || peer.AddrPort().Addr() != mapped {
				e.t.Fatalf("accepted peer %v, want v4-mapped %v", peer.AddrPort(), mapped)
			}
			e.send(e.cli, c, []byte("via IPv4"))
			e.recvFull(e.srv, s, []byte("via IPv4"))
			_ = e.srv.Procs.WSPCloseSocket(s)
		}
		// A dual-stack client reaches an IPv4 listener through a v4-mapped
		// address.
		l4 := e.sockOf(e.srv, wsa.AF_INET, wsa.SOCK_STREAM)
		e.bind(e.srv, l4, e.srv.Addr4, 0)
		e.check(e.srv.Procs.WSPListen(l4, 5), nil, "listen")
		c6 := e.sock(e.cli, wsa.SOCK_STREAM)
		e.mustSetInt(e.cli, c6, wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY, 0)
		m := e.srv.Addr4.As16()
		m[10], m[11] = 0xff, 0xff
		e.check(e.connect(e.cli, c6, sa(netip.AddrFrom16(m), e.port(e.srv, l4))), nil, "v4-mapped connect")
		e.accept(l4)
	}},
)

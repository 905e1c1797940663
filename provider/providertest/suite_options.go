package providertest

import (
	"encoding/binary"
	"time"

	"github.com/ws2go/ws2/wsa"
)

type optCase struct {
	level, name int32
	value       int32
}

var _ = addGroup("Options",
	testCase{name: "RoundTrip", fn: func(e *env) {
		common := []optCase{
			{wsa.SOL_SOCKET, wsa.SO_RCVBUF, 32768},
			{wsa.SOL_SOCKET, wsa.SO_SNDBUF, 16384},
			{wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, 1234},
			{wsa.SOL_SOCKET, wsa.SO_SNDTIMEO, 4321},
			{wsa.SOL_SOCKET, wsa.SO_OOBINLINE, 1},
			{wsa.SOL_SOCKET, wsa.SO_REUSEADDR, 1},
		}
		tcp := append([]optCase{
			{wsa.SOL_SOCKET, wsa.SO_KEEPALIVE, 1},
			{wsa.IPPROTO_TCP, wsa.TCP_NODELAY, 1},
			{wsa.IPPROTO_TCP, wsa.TCP_KEEPALIVE, 30},
			{wsa.IPPROTO_TCP, wsa.TCP_KEEPINTVL, 5},
			{wsa.IPPROTO_TCP, wsa.TCP_KEEPCNT, 4},
		}, common...)
		udp := append([]optCase{
			{wsa.SOL_SOCKET, wsa.SO_BROADCAST, 1},
		}, common...)
		if e.af == wsa.AF_INET {
			tcp = append(tcp, optCase{wsa.IPPROTO_IP, wsa.IP_TTL, 33}, optCase{wsa.IPPROTO_IP, wsa.IP_TOS, 0x20})
			udp = append(udp, optCase{wsa.IPPROTO_IP, wsa.IP_TTL, 34},
				optCase{wsa.IPPROTO_IP, wsa.IP_MULTICAST_TTL, 5}, optCase{wsa.IPPROTO_IP, wsa.IP_MULTICAST_LOOP, 0})
		} else {
			tcp = append(tcp, optCase{wsa.IPPROTO_IPV6, wsa.IPV6_UNICAST_HOPS, 35}, optCase{wsa.IPPROTO_IPV6, wsa.IPV6_V6ONLY, 0})
			udp = append(udp, optCase{wsa.IPPROTO_IPV6, wsa.IPV6_UNICAST_HOPS, 36},
				optCase{wsa.IPPROTO_IPV6, wsa.IPV6_MULTICAST_HOPS, 6}, optCase{wsa.IPPROTO_IPV6, wsa.IPV6_MULTICAST_LOOP, 0})
		}
		for typ, cases := range map[int32][]optCase{wsa.SOCK_STREAM: tcp, wsa.SOCK_DGRAM: udp} {
			s := e.sock(e.srv, typ)
			for _, c := range cases {
				e.mustSetInt(e.srv, s, c.level, c.name, c.value)
				if v := e.getInt(e.srv, s, c.level, c.name); v != c.value {
					e.t.Errorf("type %d option (%d, %d) = %d after setting %d", typ, c.level, c.name, v, c.value)
				}
			}
		}
	}},
	testCase{name: "GetOnly", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_STREAM)
		if v := e.getInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_TYPE); v != wsa.SOCK_STREAM {
			e.t.Fatalf("SO_TYPE = %d", v)
		}
		e.check(e.setInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_TYPE, 2), wsa.WSAENOPROTOOPT, "set SO_TYPE")
		if v := e.getInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_ACCEPTCONN); v != 0 {
			e.t.Fatalf("SO_ACCEPTCONN = %d before listen", v)
		}
		if v := uint32(e.getInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_CONNECT_TIME)); v != 0xFFFFFFFF {
			e.t.Fatalf("SO_CONNECT_TIME unconnected = %#x", v)
		}
		if v := e.getInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_ERROR); v != 0 {
			e.t.Fatalf("SO_ERROR = %d", v)
		}
		e.bind(e.srv, s, e.srvA, 0)
		e.check(e.srv.Procs.WSPListen(s, 5), nil, "listen")
		if v := e.getInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_ACCEPTCONN); v != 1 {
			e.t.Fatalf("SO_ACCEPTCONN = %d after listen", v)
		}
		c, _ := e.pair()
		if v := uint32(e.getInt(e.cli, c, wsa.SOL_SOCKET, wsa.SO_CONNECT_TIME)); v > 5 {
			e.t.Fatalf("SO_CONNECT_TIME connected = %d", v)
		}
		d := e.sock(e.srv, wsa.SOCK_DGRAM)
		if v := e.getInt(e.srv, d, wsa.SOL_SOCKET, wsa.SO_TYPE); v != wsa.SOCK_DGRAM {
			e.t.Fatalf("SO_TYPE = %d", v)
		}
	}},
	testCase{name: "ProtocolInfo", fn: func(e *env) {
		for _, typ := range []int32{wsa.SOCK_STREAM, wsa.SOCK_DGRAM} {
			want := e.entry(e.srv, e.af, typ)
			s := e.sock(e.srv, typ)
			b := make([]byte, wsa.SizeofProtocolInfo)
			n, err := e.srv.Procs.WSPGetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_PROTOCOL_INFOW, b)
			e.check(err, nil, "SO_PROTOCOL_INFOW")
			if n != wsa.SizeofProtocolInfo {
				e.t.Fatalf("SO_PROTOCOL_INFOW length %d", n)
			}
			got, err := wsa.UnmarshalProtocolInfo(b)
			e.check(err, nil, "unmarshal")
			if got != want {
				e.t.Fatalf("SO_PROTOCOL_INFOW = %+v, want %+v", got, want)
			}
			_, err = e.srv.Procs.WSPGetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_PROTOCOL_INFOW, b[:100])
			e.check(err, wsa.WSAEFAULT, "SO_PROTOCOL_INFOW short buffer")
		}
	}},
	testCase{name: "Errors", fn: func(e *env) {
		s := e.sock(e.srv, wsa.SOCK_STREAM)
		_, err := e.srv.Procs.WSPGetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_RCVBUF, make([]byte, 2))
		e.check(err, wsa.WSAEFAULT, "getsockopt short buffer")
		e.check(e.srv.Procs.WSPSetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_RCVBUF, make([]byte, 2)), wsa.WSAEFAULT, "setsockopt short buffer")
		_, err = e.srv.Procs.WSPGetSockOpt(s, wsa.SOL_SOCKET, 0x7777, make([]byte, 4))
		e.check(err, wsa.WSAENOPROTOOPT, "unknown option")
		e.check(e.setInt(e.srv, s, wsa.SOL_SOCKET, 0x7777, 1), wsa.WSAENOPROTOOPT, "set unknown option")
		_, err = e.srv.Procs.WSPGetSockOpt(s, 4321, 1, make([]byte, 4))
		e.check(err, wsa.WSAEINVAL, "unknown level")
		d := e.sock(e.srv, wsa.SOCK_DGRAM)
		e.check(e.setInt(e.srv, d, wsa.IPPROTO_TCP, wsa.TCP_NODELAY, 1), wsa.WSAENOPROTOOPT, "TCP_NODELAY on UDP")
		e.check(e.setInt(e.srv, d, wsa.SOL_SOCKET, wsa.SO_KEEPALIVE, 1), wsa.WSAENOPROTOOPT, "SO_KEEPALIVE on UDP")
		if e.af == wsa.AF_INET {
			e.check(e.setInt(e.srv, s, wsa.IPPROTO_IP, wsa.IP_TTL, 256), wsa.WSAEINVAL, "IP_TTL 256")
		}
	}},
	testCase{name: "Membership", only: wsa.AF_INET, fn: func(e *env) {
		d := e.sock(e.srv, wsa.SOCK_DGRAM)
		mreq := make([]byte, 8)
		copy(mreq, []byte{239, 1, 2, 3})
		a := e.srvA.As4()
		copy(mreq[4:], a[:])
		e.check(e.srv.Procs.WSPSetSockOpt(d, wsa.IPPROTO_IP, wsa.IP_ADD_MEMBERSHIP, mreq), nil, "IP_ADD_MEMBERSHIP")
		e.check(e.srv.Procs.WSPSetSockOpt(d, wsa.IPPROTO_IP, wsa.IP_DROP_MEMBERSHIP, mreq), nil, "IP_DROP_MEMBERSHIP")
		e.check(e.srv.Procs.WSPSetSockOpt(d, wsa.IPPROTO_IP, wsa.IP_ADD_MEMBERSHIP, mreq[:4]), wsa.WSAEFAULT, "short ip_mreq")
		e.check(e.srv.Procs.WSPSetSockOpt(d, wsa.IPPROTO_IP, wsa.IP_MULTICAST_IF, a[:]), nil, "IP_MULTICAST_IF")
		b := make([]byte, 4)
		n, err := e.srv.Procs.WSPGetSockOpt(d, wsa.IPPROTO_IP, wsa.IP_MULTICAST_IF, b)
		e.check(err, nil, "get IP_MULTICAST_IF")
		if n != 4 || [4]byte(b) != a {
			e.t.Fatalf("IP_MULTICAST_IF = %v", b[:n])
		}
	}},
)

var _ = addGroup("Ioctl",
	testCase{name: "Codes", fn: func(e *env) {
		c, s := e.pair()
		_, err := e.ioctl(e.srv, s, wsa.FIONBIO, []byte{1}, 0)
		e.check(err, wsa.WSAEFAULT, "FIONBIO short input")
		if n := e.fionread(e.srv, s); n != 0 {
			e.t.Fatalf("FIONREAD = %d with nothing sent", n)
		}
		e.send(e.cli, c, []byte("12345"))
		e.eventually("FIONREAD 5", func() bool { return e.fionread(e.srv, s) == 5 })
		out, err := e.ioctl(e.srv, s, wsa.SIOCATMARK, nil, 4)
		e.check(err, nil, "SIOCATMARK")
		if binary.LittleEndian.Uint32(out) == 0 {
			e.t.Fatal("SIOCATMARK = FALSE with no urgent data")
		}
		ka := make([]byte, wsa.SizeofTCPKeepalive)
		_ = wsa.TCPKeepalive{Onoff: 1, Time: 20000, Interval: 3000}.Marshal(ka)
		_, err = e.ioctl(e.srv, s, wsa.SIO_KEEPALIVE_VALS, ka, 0)
		e.check(err, nil, "SIO_KEEPALIVE_VALS")
		if e.getInt(e.srv, s, wsa.SOL_SOCKET, wsa.SO_KEEPALIVE) != 1 ||
			e.getInt(e.srv, s, wsa.IPPROTO_TCP, wsa.TCP_KEEPALIVE) != 20 ||
			e.getInt(e.srv, s, wsa.IPPROTO_TCP, wsa.TCP_KEEPINTVL) != 3 {
			e.t.Fatal("SIO_KEEPALIVE_VALS not reflected in the options")
		}
		_, err = e.ioctl(e.srv, s, 0x4004741F, nil, 4)
		e.check(err, wsa.WSAEINVAL, "unknown ioctl")
		_, err = e.ioctl(e.srv, s, wsa.SIO_UDP_CONNRESET, []byte{0, 0, 0, 0}, 0)
		e.check(err, wsa.WSAEINVAL, "SIO_UDP_CONNRESET on TCP")

		d, _ := e.udp(e.srv)
		_, err = e.ioctl(e.srv, d, wsa.SIO_KEEPALIVE_VALS, ka, 0)
		e.check(err, wsa.WSAENOPROTOOPT, "SIO_KEEPALIVE_VALS on UDP")
		e.setNonblocking(e.srv, d, true)
		_, err = e.recv(e.srv, d, make([]byte, 8), 0)
		e.check(err, wsa.WSAEWOULDBLOCK, "non-blocking recvfrom")
		e.setNonblocking(e.srv, d, false)
		e.setTimeout(e.srv, d, wsa.SO_RCVTIMEO, 50*time.Millisecond)
		_, err = e.recv(e.srv, d, make([]byte, 8), 0)
		e.check(err, wsa.WSAETIMEDOUT, "blocking again")
	}},
)

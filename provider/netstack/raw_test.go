package netstack_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// ICMP and ICMPv6 echo types.
const (
	icmpEchoReply    = 0
	icmpEchoRequest  = 8
	icmp6EchoRequest = 128
	icmp6EchoReply   = 129
)

// inetChecksum is the Internet checksum (RFC 1071) of b.
func inetChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// echoMsg builds an ICMP (or ICMPv6) echo message of type typ. The checksum
// is computed for ICMP, as a Winsock ping must; the stack fills it in for
// ICMPv6 (a pseudo-header checksum), so it is left 0 there.
func echoMsg(typ byte, id, seq uint16, data []byte) []byte {
	b := make([]byte, 8+len(data))
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], data)
	if typ == icmpEchoRequest {
		binary.BigEndian.PutUint16(b[2:], inetChecksum(b))
	}
	return b
}

// rawLoopback returns a ws2.NewLoopback host that allows raw sockets
// whatever the test process's privilege.
func rawLoopback(t *testing.T) *ws2.Host {
	t.Helper()
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	h.Netstack.SetRawAllowed(true)
	return h
}

// rawSocket opens a raw socket of family af and protocol proto with a
// receive timeout, so that a missing reply fails the test instead of
// hanging it.
func rawSocket(t *testing.T, ws *api.Session, af, proto int32) wsa.Socket {
	t.Helper()
	s, err := ws.Socket(af, wsa.SOCK_RAW, proto)
	if err != nil {
		t.Fatalf("socket(%d, SOCK_RAW, %d): %v", af, proto, err)
	}
	t.Cleanup(func() { ws.Closesocket(s) })
	if err := ws.SetsockoptInt(s, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, 5000); err != nil {
		t.Fatal(err)
	}
	return s
}

// echoReply is an echo reply as a raw socket received it.
type echoReply struct {
	from netip.Addr
	ip   []byte // the IPv4 header (nil for IPv6: raw IPv6 sockets get no header)
	icmp []byte
}

// awaitReply receives on s until the echo reply with id and seq arrives
// (raw sockets also see the requests and anything else of their protocol),
// and checks its data.
func awaitReply(t *testing.T, ws *api.Session, s wsa.Socket, v6 bool, id, seq uint16, data []byte) echoReply {
	t.Helper()
	want := byte(icmp6EchoReply)
	if !v6 {
		want = icmpEchoReply
	}
	return awaitEcho(t, ws, s, v6, want, id, seq, data)
}

// awaitEcho is awaitReply for an echo message of type typ.
func awaitEcho(t *testing.T, ws *api.Session, s wsa.Socket, v6 bool, typ byte, id, seq uint16, data []byte) echoReply {
	t.Helper()
	buf := make([]byte, 2048)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n, from, err := ws.Recvfrom(s, buf, 0)
		if err != nil {
			t.Fatalf("recvfrom: %v", err)
		}
		b := buf[:n]
		var r echoReply
		if from == nil {
			t.Fatal("recvfrom gave no source address")
		}
		ap := from.AddrPort()
		if ap.Port() != 0 {
			t.Errorf("source %v: a raw socket's sockaddr has port 0", ap)
		}
		r.from = ap.Addr().Unmap()
		if !v6 {
			// IPv4 raw sockets receive the IPv4 header, as on Windows.
			if len(b) < 20 || b[0]>>4 != 4 {
				t.Fatalf("IPv4 raw datagram without its IPv4 header: % x", b)
			}
			ihl := int(b[0]&0x0f) * 4
			if b[9] != wsa.IPPROTO_ICMP || int32(binary.BigEndian.Uint16(b[2:])) != n || netip.AddrFrom4([4]byte(b[12:16])) != r.from {
				t.Fatalf("IPv4 header % x (from %v, %d bytes)", b[:ihl], r.from, n)
			}
			if inetChecksum(b[:ihl]) != 0 {
				t.Fatalf("IPv4 header with a bad checksum: % x", b[:ihl])
			}
			r.ip, b = b[:ihl], b[ihl:]
		}
		if len(b) < 8 || b[0] != typ || binary.BigEndian.Uint16(b[4:]) != id || binary.BigEndian.Uint16(b[6:]) != seq {
			continue // a request, another ping's reply, ...
		}
		if !bytes.Equal(b[8:], data) {
			t.Fatalf("echo reply data %q, want %q", b[8:], data)
		}
		if !v6 && inetChecksum(b) != 0 {
			t.Fatalf("echo reply with a bad checksum: % x", b)
		}
		r.icmp = b
		return r
	}
	t.Fatal("no echo reply")
	return echoReply{}
}

// ping sends an echo request from a raw socket of ws to dst and checks the
// reply.
func ping(t *testing.T, ws *api.Session, dst netip.Addr, id uint16) echoReply {
	t.Helper()
	af, proto, typ := int32(wsa.AF_INET), int32(wsa.IPPROTO_ICMP), byte(icmpEchoRequest)
	if dst.Is6() {
		af, proto, typ = wsa.AF_INET6, wsa.IPPROTO_ICMPV6, icmp6EchoRequest
	}
	s := rawSocket(t, ws, af, proto)
	data := []byte("ws2 raw ping to " + dst.String())
	msg := echoMsg(typ, id, 1, data)
	to := wsa.SockaddrFromAddrPort(netip.AddrPortFrom(dst, 0))
	if n, err := ws.Sendto(s, msg, 0, to); err != nil || int(n) != len(msg) {
		t.Fatalf("sendto %v: %d, %v", dst, n, err)
	}
	r := awaitReply(t, ws, s, dst.Is6(), id, 1, data)
	if r.from != dst {
		t.Errorf("reply from %v, want %v", r.from, dst)
	}
	return r
}

// TestRawPingLoopback pings 127.0.0.1 and ::1 through the api with raw ICMP
// and ICMPv6 sockets: the stack answers the echo requests.
func TestRawPingLoopback(t *testing.T) {
	h := rawLoopback(t)
	r := ping(t, h.Session, netip.MustParseAddr("127.0.0.1"), 0x1234)
	if got := netip.AddrFrom4([4]byte(r.ip[16:20])); got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("reply to %v", got)
	}
	ping(t, h.Session, netip.MustParseAddr("::1"), 0x4321)
}

// TestRawPingPipe pings across an in-memory link between two hosts, over
// IPv4 and IPv6, both ways.
func TestRawPingPipe(t *testing.T) {
	a, b, err := ws2.NewPipe(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	a.Netstack.SetRawAllowed(true)
	b.Netstack.SetRawAllowed(true)
	for i, p := range ws2.PipeAddrB {
		ping(t, a.Session, p.Addr(), uint16(100+i))
	}
	for i, p := range ws2.PipeAddrA {
		ping(t, b.Session, p.Addr(), uint16(200+i))
	}
}

// TestRawHdrincl sends echo requests with IP_HDRINCL: the application's
// IPv4 header goes out (the stack completes length, checksum, source and
// identification), from an ICMP socket and from an IPPROTO_RAW one.
func TestRawHdrincl(t *testing.T) {
	h := rawLoopback(t)
	ws := h.Session
	lo := netip.MustParseAddr("127.0.0.1")
	to := wsa.SockaddrFromAddrPort(netip.AddrPortFrom(lo, 0))
	ipHeader := func(payload int) []byte {
		b := make([]byte, 20, 20+payload)
		b[0] = 0x45 // version 4, 5 words
		b[8] = 33   // TTL
		b[9] = wsa.IPPROTO_ICMP
		copy(b[16:20], lo.AsSlice()) // source, length, checksum and id left 0
		return b
	}

	s := rawSocket(t, ws, wsa.AF_INET, wsa.IPPROTO_ICMP)
	if v, err := ws.GetsockoptInt(s, wsa.IPPROTO_IP, wsa.IP_HDRINCL); err != nil || v != 0 {
		t.Fatalf("IP_HDRINCL = %d, %v; want FALSE", v, err)
	}
	if v, err := ws.GetsockoptInt(s, wsa.SOL_SOCKET, wsa.SO_MAX_MSG_SIZE); err != nil || v != 65515 {
		t.Errorf("SO_MAX_MSG_SIZE = %d, %v; want 65515", v, err)
	}
	if err := ws.SetsockoptInt(s, wsa.IPPROTO_IP, wsa.IP_HDRINCL, 1); err != nil {
		t.Fatal(err)
	}
	if v, err := ws.GetsockoptInt(s, wsa.IPPROTO_IP, wsa.IP_HDRINCL); err != nil || v != 1 {
		t.Fatalf("IP_HDRINCL = %d, %v; want TRUE", v, err)
	}
	if v, err := ws.GetsockoptInt(s, wsa.SOL_SOCKET, wsa.SO_MAX_MSG_SIZE); err != nil || v != 65535 {
		t.Errorf("SO_MAX_MSG_SIZE with IP_HDRINCL = %d, %v; want 65535", v, err)
	}
	data := []byte("header included")
	icmp := echoMsg(icmpEchoRequest, 0x5151, 7, data)
	pkt := append(ipHeader(len(icmp)), icmp...)
	if n, err := ws.Sendto(s, pkt, 0, to); err != nil || int(n) != len(pkt) {
		t.Fatalf("sendto with IP_HDRINCL: %d, %v", n, err)
	}
	// The socket sees its own request as it arrives (loopback): the header
	// is the application's, completed by the stack.
	r := awaitEcho(t, ws, s, false, icmpEchoRequest, 0x5151, 7, data)
	if r.ip[8] != 33 || binary.BigEndian.Uint16(r.ip[4:]) == 0 || r.from != lo {
		t.Errorf("request sent with IP_HDRINCL has header % x, want TTL 33 and an id", r.ip)
	}
	awaitReply(t, ws, s, false, 0x5151, 7, data)
	// Only a header: malformed.
	if _, err := ws.Sendto(s, pkt[:12], 0, to); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("sendto of a truncated header: %v, want WSAEINVAL", err)
	}

	// IPPROTO_RAW (255) receives nothing here, but sends whatever header
	// it is given; the reply comes to the ICMP socket.
	rs := rawSocket(t, ws, wsa.AF_INET, wsa.IPPROTO_RAW)
	if err := ws.SetsockoptInt(rs, wsa.IPPROTO_IP, wsa.IP_HDRINCL, 1); err != nil {
		t.Fatal(err)
	}
	icmp = echoMsg(icmpEchoRequest, 0x5252, 8, data)
	pkt = append(ipHeader(len(icmp)), icmp...)
	if n, err := ws.Sendto(rs, pkt, 0, to); err != nil || int(n) != len(pkt) {
		t.Fatalf("sendto on IPPROTO_RAW: %d, %v", n, err)
	}
	if r := awaitEcho(t, ws, s, false, icmpEchoRequest, 0x5252, 8, data); r.ip[8] != 33 {
		t.Errorf("request sent on IPPROTO_RAW has header % x, want TTL 33", r.ip)
	}
	awaitReply(t, ws, s, false, 0x5252, 8, data)

	// IP_HDRINCL is for raw IPv4 sockets only.
	u, err := ws.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Closesocket(u)
	if err := ws.SetsockoptInt(u, wsa.IPPROTO_IP, wsa.IP_HDRINCL, 1); !errors.Is(err, wsa.WSAENOPROTOOPT) {
		t.Errorf("IP_HDRINCL on UDP: %v, want WSAENOPROTOOPT", err)
	}
	s6 := rawSocket(t, ws, wsa.AF_INET6, wsa.IPPROTO_ICMPV6)
	if err := ws.SetsockoptInt(s6, wsa.IPPROTO_IP, wsa.IP_HDRINCL, 1); !errors.Is(err, wsa.WSAENOPROTOOPT) {
		t.Errorf("IP_HDRINCL on raw IPv6: %v, want WSAENOPROTOOPT", err)
	}
}

// TestRawNotAllowed checks the privilege rule: without it, raw sockets
// fail WSAEACCES (after the catalog picked the entry), as for a
// non-Administrator on Windows.
func TestRawNotAllowed(t *testing.T) {
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.Netstack.SetRawAllowed(false)
	if h.Netstack.RawAllowed() {
		t.Fatal("RawAllowed after SetRawAllowed(false)")
	}
	for _, c := range []struct{ af, proto int32 }{
		{wsa.AF_INET, wsa.IPPROTO_ICMP}, {wsa.AF_INET, 0}, {wsa.AF_INET, wsa.IPPROTO_RAW}, {wsa.AF_INET6, wsa.IPPROTO_ICMPV6},
	} {
		if s, err := h.Socket(c.af, wsa.SOCK_RAW, c.proto); !errors.Is(err, wsa.WSAEACCES) || s != wsa.INVALID_SOCKET {
			t.Errorf("socket(%d, SOCK_RAW, %d) without the privilege: %v, want WSAEACCES", c.af, c.proto, err)
		}
	}
	// Other sockets are not affected; a bad protocol is still refused
	// first by the catalog.
	if s, err := h.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, 0); err != nil {
		t.Errorf("UDP socket: %v", err)
	} else {
		h.Closesocket(s)
	}
	if _, err := h.Socket(wsa.AF_INET, wsa.SOCK_RAW, 256); !errors.Is(err, wsa.WSAEPROTONOSUPPORT) {
		t.Errorf("socket(AF_INET, SOCK_RAW, 256): %v, want WSAEPROTONOSUPPORT", err)
	}
	h.Netstack.SetRawAllowed(true)
	s, err := h.Socket(wsa.AF_INET, wsa.SOCK_RAW, wsa.IPPROTO_ICMP)
	if err != nil {
		t.Fatalf("socket after SetRawAllowed(true): %v", err)
	}
	h.Closesocket(s)
}

// TestRawCatalogSelection checks that socket(AF_INET, SOCK_RAW, n) lands on
// the [RAW/IP] entry (and AF_INET6 on [RAW/IPv6]) for any n in 0..255.
func TestRawCatalogSelection(t *testing.T) {
	h := rawLoopback(t)
	for _, c := range []struct {
		af, proto int32
		id        uint32
		name      string
	}{
		{wsa.AF_INET, wsa.IPPROTO_ICMP, 1005, "MSAFD Tcpip [RAW/IP]"},
		{wsa.AF_INET, 0, 1005, "MSAFD Tcpip [RAW/IP]"},
		{wsa.AF_INET, wsa.IPPROTO_UDP, 1005, "MSAFD Tcpip [RAW/IP]"},
		{wsa.AF_INET, 253, 1005, "MSAFD Tcpip [RAW/IP]"},
		{wsa.AF_INET6, wsa.IPPROTO_ICMPV6, 1006, "MSAFD Tcpip [RAW/IPv6]"},
		{wsa.AF_INET6, wsa.IPPROTO_TCP, 1006, "MSAFD Tcpip [RAW/IPv6]"},
	} {
		s, err := h.Socket(c.af, wsa.SOCK_RAW, c.proto)
		if err != nil {
			t.Errorf("socket(%d, SOCK_RAW, %d): %v", c.af, c.proto, err)
			continue
		}
		b := make([]byte, wsa.SizeofProtocolInfo)
		if _, err := h.Getsockopt(s, wsa.SOL_SOCKET, wsa.SO_PROTOCOL_INFOW, b); err != nil {
			t.Fatal(err)
		}
		info, err := wsa.UnmarshalProtocolInfo(b)
		if err != nil {
			t.Fatal(err)
		}
		if info.CatalogEntryId != c.id || info.ProtocolName != c.name || info.SocketType != wsa.SOCK_RAW {
			t.Errorf("socket(%d, SOCK_RAW, %d) is on entry %d %q", c.af, c.proto, info.CatalogEntryId, info.ProtocolName)
		}
		if v, err := h.GetsockoptInt(s, wsa.SOL_SOCKET, wsa.SO_TYPE); err != nil || v != wsa.SOCK_RAW {
			t.Errorf("SO_TYPE = %d, %v", v, err)
		}
		h.Closesocket(s)
	}
	// gVisor can neither send nor receive IPv6 protocols it does not
	// implement.
	if _, err := h.Socket(wsa.AF_INET6, wsa.SOCK_RAW, 253); !errors.Is(err, wsa.WSAEPROTONOSUPPORT) {
		t.Errorf("socket(AF_INET6, SOCK_RAW, 253): %v, want WSAEPROTONOSUPPORT", err)
	}
	// WSAEnumProtocols lists both RAW entries.
	var size uint32
	_, err := h.WSAEnumProtocols([]int32{wsa.IPPROTO_ICMP}, nil, &size)
	if !errors.Is(err, wsa.WSAENOBUFS) {
		t.Fatalf("WSAEnumProtocols size query: %v", err)
	}
	buf := make([]wsa.ProtocolInfo, size/wsa.SizeofProtocolInfo)
	n, err := h.WSAEnumProtocols([]int32{wsa.IPPROTO_ICMP}, buf, &size)
	if err != nil || n != 2 || buf[0].CatalogEntryId != 1005 || buf[1].CatalogEntryId != 1006 {
		t.Errorf("WSAEnumProtocols(IPPROTO_ICMP) = %d, %v", n, err)
	}
}

// TestRawSemantics covers the datagram rules as they apply to raw sockets:
// names without ports, connect, truncation, errors.
func TestRawSemantics(t *testing.T) {
	h := rawLoopback(t)
	ws := h.Session
	lo := netip.MustParseAddr("127.0.0.1")
	to := wsa.SockaddrFromAddrPort(netip.AddrPortFrom(lo, 0))
	s := rawSocket(t, ws, wsa.AF_INET, wsa.IPPROTO_ICMP)

	// Unbound: recvfrom is WSAEINVAL (as UDP), getsockname too.
	if _, _, err := ws.Recvfrom(s, make([]byte, 64), 0); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("recvfrom unbound: %v, want WSAEINVAL", err)
	}
	if _, err := ws.Getsockname(s); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("getsockname unbound: %v, want WSAEINVAL", err)
	}
	if _, err := ws.Sendto(s, echoMsg(icmpEchoRequest, 1, 1, nil), 0, &wsa.SockaddrInet4{}); !errors.Is(err, wsa.WSAEADDRNOTAVAIL) {
		t.Errorf("sendto 0.0.0.0: %v, want WSAEADDRNOTAVAIL", err)
	}
	if _, err := ws.Send(s, echoMsg(icmpEchoRequest, 1, 1, nil), 0); !errors.Is(err, wsa.WSAENOTCONN) {
		t.Errorf("send unconnected: %v, want WSAENOTCONN", err)
	}
	if _, err := ws.Sendto(s, echoMsg(icmpEchoRequest, 1, 1, nil), 0, &wsa.SockaddrInet4{Addr: [4]byte{255, 255, 255, 255}}); !errors.Is(err, wsa.WSAEACCES) {
		t.Errorf("sendto broadcast without SO_BROADCAST: %v, want WSAEACCES", err)
	}
	if _, err := ws.Sendto(s, make([]byte, 65516), 0, to); !errors.Is(err, wsa.WSAEMSGSIZE) {
		t.Errorf("sendto of 65516 bytes: %v, want WSAEMSGSIZE", err)
	}

	// bind: an address, no port (the port given is ignored).
	if err := ws.Bind(s, wsa.SockaddrFromAddrPort(netip.AddrPortFrom(lo, 9))); err != nil {
		t.Fatal(err)
	}
	if sa, err := ws.Getsockname(s); err != nil || sa.AddrPort() != netip.AddrPortFrom(lo, 0) {
		t.Errorf("getsockname = %v, %v; want 127.0.0.1:0", sa, err)
	}
	if err := ws.Bind(s, to); !errors.Is(err, wsa.WSAEINVAL) {
		t.Errorf("second bind: %v, want WSAEINVAL", err)
	}
	s2 := rawSocket(t, ws, wsa.AF_INET, wsa.IPPROTO_ICMP)
	if err := ws.Bind(s2, &wsa.SockaddrInet4{Addr: [4]byte{192, 0, 2, 9}}); !errors.Is(err, wsa.WSAEADDRNOTAVAIL) {
		t.Errorf("bind to a foreign address: %v, want WSAEADDRNOTAVAIL", err)
	}

	// connect: send without an address, getpeername; the reply still
	// arrives (it comes from the connected peer).
	if _, err := ws.Getpeername(s); !errors.Is(err, wsa.WSAENOTCONN) {
		t.Errorf("getpeername unconnected: %v, want WSAENOTCONN", err)
	}
	if err := ws.Connect(s, to); err != nil {
		t.Fatal(err)
	}
	if sa, err := ws.Getpeername(s); err != nil || sa.AddrPort() != netip.AddrPortFrom(lo, 0) {
		t.Errorf("getpeername = %v, %v", sa, err)
	}
	data := bytes.Repeat([]byte("x"), 100)
	if _, err := ws.Send(s, echoMsg(icmpEchoRequest, 0x7777, 3, data), 0); err != nil {
		t.Fatalf("send connected: %v", err)
	}
	awaitReply(t, ws, s, false, 0x7777, 3, data)

	// A datagram larger than the buffer: the first bytes, WSAEMSGSIZE,
	// the rest discarded.
	if _, err := ws.Send(s, echoMsg(icmpEchoRequest, 0x7777, 4, data), 0); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, 24)
	var recvd, flags uint32
	if err := ws.WSARecvFrom(s, [][]byte{small}, &recvd, &flags, nil, nil, nil); !errors.Is(err, wsa.WSAEMSGSIZE) {
		t.Fatalf("recv into 24 bytes: %v, want WSAEMSGSIZE", err)
	}
	if small[0] != 0x45 || small[9] != wsa.IPPROTO_ICMP {
		t.Errorf("truncated datagram % x: not the start of the IPv4 datagram", small)
	}

	// connect to INADDR_ANY dissolves the association.
	if err := ws.Connect(s, &wsa.SockaddrInet4{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Getpeername(s); !errors.Is(err, wsa.WSAENOTCONN) {
		t.Errorf("getpeername after dissolving: %v, want WSAENOTCONN", err)
	}
	if _, err := ws.Send(s, echoMsg(icmpEchoRequest, 1, 1, nil), 0); !errors.Is(err, wsa.WSAENOTCONN) {
		t.Errorf("send after dissolving: %v, want WSAENOTCONN", err)
	}
	if sa, err := ws.Getsockname(s); err != nil || sa.AddrPort() != netip.AddrPortFrom(lo, 0) {
		t.Errorf("getsockname after dissolving = %v, %v; want the bound address", sa, err)
	}
	ping := echoMsg(icmpEchoRequest, 0x7878, 5, data)
	if _, err := ws.Sendto(s, ping, 0, to); err != nil {
		t.Fatal(err)
	}
	awaitReply(t, ws, s, false, 0x7878, 5, data)

	// Not a stream: listen fails as for UDP.
	if err := ws.Listen(s, 1); !errors.Is(err, wsa.WSAEOPNOTSUPP) {
		t.Errorf("listen: %v, want WSAEOPNOTSUPP", err)
	}

	// A protocol gVisor does not implement (IPv4): sends go out, nothing is
	// received; closesocket ends a receive blocked on it.
	s0, err := ws.Socket(wsa.AF_INET, wsa.SOCK_RAW, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ws.Sendto(s0, []byte("protocol 0"), 0, to); err != nil || n != 10 {
		t.Errorf("sendto on IPPROTO_IP: %d, %v", n, err)
	}
	blocked := make(chan error, 1)
	go func() {
		_, _, err := ws.Recvfrom(s0, make([]byte, 64), 0)
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := ws.Closesocket(s0); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, wsa.WSAEINTR) {
			t.Errorf("recvfrom ended by closesocket: %v, want WSAEINTR", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("closesocket did not end the blocked recvfrom")
	}

	// IPv6: v4-mapped destinations are refused (raw IPv6 sockets carry
	// IPv6 only).
	s6 := rawSocket(t, ws, wsa.AF_INET6, wsa.IPPROTO_ICMPV6)
	mapped := wsa.SockaddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom16(lo.As16()), 0))
	if _, err := ws.Sendto(s6, echoMsg(icmp6EchoRequest, 1, 1, nil), 0, mapped); !errors.Is(err, wsa.WSAEAFNOSUPPORT) {
		t.Errorf("sendto v4-mapped on raw IPv6: %v, want WSAEAFNOSUPPORT", err)
	}
	if v, err := ws.GetsockoptInt(s6, wsa.SOL_SOCKET, wsa.SO_MAX_MSG_SIZE); err != nil || v != 65535 {
		t.Errorf("SO_MAX_MSG_SIZE on raw IPv6 = %d, %v", v, err)
	}
}

// TestRawOverlapped sends and receives a ping with overlapped calls.
func TestRawOverlapped(t *testing.T) {
	h := rawLoopback(t)
	ws := h.Session
	s := rawSocket(t, ws, wsa.AF_INET6, wsa.IPPROTO_ICMPV6)
	ev, err := ws.WSACreateEvent()
	if err != nil {
		t.Fatal(err)
	}
	defer ws.WSACloseEvent(ev)
	to := wsa.SockaddrFromAddrPort(netip.MustParseAddrPort("[::1]:0"))
	data := []byte("overlapped")
	var sent uint32
	ov := &wsa.Overlapped{HEvent: ev}
	if err := ws.WSASendTo(s, [][]byte{echoMsg(icmp6EchoRequest, 0x0b0b, 1, data)}, &sent, 0, to, ov, nil); err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("WSASendTo: %v", err)
	}
	var n, flags uint32
	if err := ws.WSAGetOverlappedResult(s, ov, &n, true, &flags); err != nil || n != 8+uint32(len(data)) {
		t.Fatalf("WSASendTo result: %d, %v", n, err)
	}
	buf := make([]byte, 256)
	for range 10 {
		rov := &wsa.Overlapped{HEvent: ev}
		var recvd uint32
		var from wsa.Sockaddr
		flags = 0
		if err := ws.WSARecvFrom(s, [][]byte{buf}, &recvd, &flags, &from, rov, nil); err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
			t.Fatalf("WSARecvFrom: %v", err)
		}
		if err := ws.WSAGetOverlappedResult(s, rov, &recvd, true, &flags); err != nil {
			t.Fatalf("WSARecvFrom result: %v", err)
		}
		b := buf[:recvd]
		if len(b) >= 8 && b[0] == icmp6EchoReply && binary.BigEndian.Uint16(b[4:]) == 0x0b0b {
			if !bytes.Equal(b[8:], data) || from.AddrPort().Addr() != netip.IPv6Loopback() {
				t.Fatalf("reply % x from %v", b, from)
			}
			return
		}
	}
	t.Fatal("no echo reply")
}

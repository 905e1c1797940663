package api_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

func TestHandles(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	seen := map[wsa.Socket]bool{}
	var hs []wsa.Socket
	for i := 0; i < 2000; i++ { // crosses a chunk of the table
		h, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
		must(t, err)
		if h == 0 || h == wsa.INVALID_SOCKET || h%4 != 0 || seen[h] {
			t.Fatalf("handle %#x: zero, invalid, not a multiple of 4 or repeated", h)
		}
		seen[h] = true
		hs = append(hs, h)
	}
	// Closed values fail with WSAENOTSOCK, then are reused at once.
	victim := hs[1000]
	must(t, s.Closesocket(victim))
	wantErr(t, "Listen on a closed socket", s.Listen(victim, 1), wsa.WSAENOTSOCK)
	wantErr(t, "second Closesocket", s.Closesocket(victim), wsa.WSAENOTSOCK)
	h, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	if h != victim {
		t.Errorf("new socket %#x, want the freed value %#x reused", h, victim)
	}

	ev, err := env.a.upcalls().WPUCreateEvent()
	must(t, err)
	if ev == 0 || ev%4 != 0 || seen[wsa.Socket(ev)] {
		t.Errorf("event handle %#x shares the socket space badly", ev)
	}
	for _, bad := range []wsa.Socket{0, 1, 3, 6, wsa.INVALID_SOCKET, 1 << 40, wsa.Socket(ev), 4 * 1 << 20} {
		wantErr(t, fmt.Sprintf("Listen(%#x)", bad), s.Listen(bad, 1), wsa.WSAENOTSOCK)
		_, err := s.Getsockname(bad)
		wantErr(t, fmt.Sprintf("Getsockname(%#x)", bad), err, wsa.WSAENOTSOCK)
	}
}

func TestDispatch(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	a, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	b, err := s.Socket(wsa.AF_INET6, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Bind(a, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	if env.a.count("WSPBind") != 1 || env.b.count("WSPBind") != 0 {
		t.Fatalf("Bind on A's socket: A %d B %d calls", env.a.count("WSPBind"), env.b.count("WSPBind"))
	}
	must(t, s.Bind(b, &wsa.SockaddrInet6{}))
	if env.a.count("WSPBind") != 1 || env.b.count("WSPBind") != 1 {
		t.Fatalf("Bind on B's socket: A %d B %d calls", env.a.count("WSPBind"), env.b.count("WSPBind"))
	}
	// An accepted socket goes to the listener's provider.
	must(t, s.Listen(a, 1))
	local, err := s.Getsockname(a)
	must(t, err)
	c, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Connect(c, local))
	n, peer, err := s.Accept(a)
	must(t, err)
	if peer == nil {
		t.Error("Accept: no peer address")
	}
	before := env.a.count("WSPGetPeerName")
	if _, err := s.Getpeername(n); err != nil {
		t.Fatal(err)
	}
	if env.a.count("WSPGetPeerName") != before+1 {
		t.Error("call on the accepted socket did not reach provider A")
	}
	// WSASocket with protocol info binds the socket to that entry.
	var size uint32 = 10 * wsa.SizeofProtocolInfo
	buf := make([]wsa.ProtocolInfo, 10)
	cnt, err := s.WSAEnumProtocols([]int32{wsa.IPPROTO_UDP}, buf, &size)
	must(t, err)
	if cnt != 2 {
		t.Fatalf("UDP entries: %d", cnt)
	}
	u, err := s.WSASocket(wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, &buf[1], 0, 0)
	must(t, err)
	pi, err := s.GetsockoptProtocolInfo(u)
	must(t, err)
	if pi.ProtocolName != "UDP/IPv6" || pi.ProviderId != guidB {
		t.Errorf("socket from info: entry %q of %v", pi.ProtocolName, pi.ProviderId)
	}
	// Selection errors of spec §3.9 come through unchanged.
	_, err = s.Socket(wsa.AF_IRDA, wsa.SOCK_STREAM, 0)
	wantErr(t, "unknown family", err, wsa.WSAEAFNOSUPPORT)
	_, err = s.Socket(wsa.AF_INET, wsa.SOCK_SEQPACKET, 0)
	wantErr(t, "unknown type", err, wsa.WSAESOCKTNOSUPPORT)
	_, err = s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_UDP)
	wantErr(t, "wrong protocol", err, wsa.WSAEPROTONOSUPPORT)
	_, err = s.WSASocket(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 1, 0)
	wantErr(t, "group", err, wsa.WSAEINVAL)
}

// lsp is a layered provider over fake provider A that passes A's handles
// through as its own (the WPUModifyIFSHandle pattern of MSL), overriding a
// few routines to count them.
type lsp struct {
	provider.ProcTable // the base's
	mu                 sync.Mutex
	calls              map[string]int
	cleanups           int
}

func (l *lsp) count(op string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[op]
}

func (l *lsp) rec(op string) {
	l.mu.Lock()
	l.calls[op]++
	l.mu.Unlock()
}

func (l *lsp) WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error) {
	l.rec("WSPSocket")
	return l.ProcTable.WSPSocket(af, typ, protocol, info, g, flags)
}

func (l *lsp) WSPBind(s wsa.Socket, name wsa.Sockaddr) error {
	l.rec("WSPBind")
	return l.ProcTable.WSPBind(s, name)
}

func (l *lsp) WSPCloseSocket(s wsa.Socket) error {
	l.rec("WSPCloseSocket")
	return l.ProcTable.WSPCloseSocket(s)
}

func (l *lsp) WSPCleanup() error {
	l.mu.Lock()
	l.cleanups++
	l.mu.Unlock()
	return l.ProcTable.WSPCleanup()
}

func TestDispatchLayered(t *testing.T) {
	env := newEnv(t)
	layer := &lsp{calls: map[string]int{}}
	baseTCP := env.cat.WSCEnumProtocols([]int32{wsa.IPPROTO_TCP})[0]
	must(t, env.reg.Register("lsp", func(v uint16, info *wsa.ProtocolInfo, up provider.UpcallTable) (provider.WSPData, provider.ProcTable, error) {
		// Start the next provider in the chain directly, as an LSP loads
		// the base DLL itself, with the same upcall table.
		path, err := up.WPUGetProviderPath(baseTCP.ProviderId)
		if err != nil {
			return provider.WSPData{}, nil, err
		}
		start, _ := env.reg.Lookup(path)
		d, next, err := start(v, &baseTCP, up)
		if err != nil {
			return d, nil, err
		}
		layer.ProcTable = next
		return d, layer, nil
	}))
	layerID := env.cat.NextCatalogEntryID()
	layerInfo := entry("LSP", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, 0)
	layerInfo.ProtocolChain = wsa.ProtocolChain{ChainLen: wsa.LAYERED_PROTOCOL}
	chain := entry("LSP over TCP/IP", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO)
	chain.ProtocolChain = wsa.ProtocolChain{ChainLen: 2, ChainEntries: [7]uint32{layerID, baseTCP.CatalogEntryId}}
	must(t, env.cat.WSCInstallProvider(guidLSP, "lsp", []wsa.ProtocolInfo{layerInfo, chain}))
	// Put the chain first so that socket() picks it.
	var order []uint32
	for _, e := range env.cat.WSCEnumProtocols(nil) {
		if e.ProviderId == guidLSP {
			order = append([]uint32{e.CatalogEntryId}, order...)
		} else {
			order = append(order, e.CatalogEntryId)
		}
	}
	must(t, env.cat.WSCWriteProviderOrder(order))

	s := env.start(t)
	h, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	if layer.count("WSPSocket") != 1 || env.a.count("WSPSocket") != 1 {
		t.Fatalf("WSPSocket: layer %d base %d", layer.count("WSPSocket"), env.a.count("WSPSocket"))
	}
	// The base made the handle, the layer returned it: the layer sees the calls.
	must(t, s.Bind(h, &wsa.SockaddrInet4{}))
	if layer.count("WSPBind") != 1 || env.a.count("WSPBind") != 1 {
		t.Errorf("Bind: layer %d base %d, want 1 and 1", layer.count("WSPBind"), env.a.count("WSPBind"))
	}
	// A socket of the base entry itself bypasses the layer.
	d, err := s.WSASocket(wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, &baseTCP, 0, 0)
	must(t, err)
	must(t, s.Bind(d, &wsa.SockaddrInet4{}))
	if layer.count("WSPBind") != 1 || env.a.count("WSPBind") != 2 {
		t.Errorf("Bind on base socket: layer %d base %d, want 1 and 2", layer.count("WSPBind"), env.a.count("WSPBind"))
	}
	must(t, s.Closesocket(h))
	if layer.count("WSPCloseSocket") != 1 {
		t.Errorf("Closesocket did not go through the layer")
	}
	must(t, s.WSACleanup())
	if layer.cleanups != 1 {
		t.Errorf("layer cleanups %d", layer.cleanups)
	}
}

// A handle a provider made but never returned dispatches to the provider of
// its catalog entry when that provider is started (what SIO_BASE_HANDLE
// exposes), and is WSAENOTSOCK otherwise.
func TestDispatchUnreturnedHandle(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	if _, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0); err != nil {
		t.Fatal(err)
	}
	up := env.a.upcalls()
	ids := map[string]uint32{}
	for _, e := range env.cat.WSCEnumProtocols(nil) {
		ids[e.ProtocolName] = e.CatalogEntryId
	}
	h, err := up.WPUCreateSocketHandle(ids["UDP/IP"], nil)
	must(t, err)
	before := env.a.count("WSPListen")
	wantErr(t, "Listen on a handle unknown to the fake", s.Listen(h, 1), wsa.WSAENOTSOCK)
	if env.a.count("WSPListen") != before+1 {
		t.Error("call did not reach the provider of the handle's entry")
	}
	hb, err := up.WPUCreateSocketHandle(ids["TCP/IPv6"], nil) // B not started
	must(t, err)
	wantErr(t, "Listen with no started provider", s.Listen(hb, 1), wsa.WSAENOTSOCK)
	if env.b.count("WSPListen") != 0 {
		t.Error("B reached")
	}
}

func TestWSAEnumProtocols(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	const sz = wsa.SizeofProtocolInfo
	visible := []string{"TCP/IP", "UDP/IP", "TCP/IPv6", "UDP/IPv6"} // RAW/IP is hidden
	tests := []struct {
		name    string
		filter  []int32
		bufN    int
		length  uint32
		want    []string
		err     error
		wantLen uint32
	}{
		{"all", nil, 10, 10 * sz, visible, nil, 10 * sz},
		{"exact room", nil, 4, 4 * sz, visible, nil, 4 * sz},
		{"length too small", nil, 10, 4*sz - 1, nil, wsa.WSAENOBUFS, 4 * sz},
		{"slice too small", nil, 3, 10 * sz, nil, wsa.WSAENOBUFS, 4 * sz},
		{"nil buffer", nil, 0, 0, nil, wsa.WSAENOBUFS, 4 * sz},
		{"filter udp", []int32{wsa.IPPROTO_UDP}, 2, 2 * sz, []string{"UDP/IP", "UDP/IPv6"}, nil, 2 * sz},
		{"filter tcp+udp", []int32{wsa.IPPROTO_UDP, wsa.IPPROTO_TCP}, 4, 4 * sz, visible, nil, 4 * sz},
		{"filter stops at 0", []int32{wsa.IPPROTO_UDP, 0, wsa.IPPROTO_TCP}, 4, 4 * sz, []string{"UDP/IP", "UDP/IPv6"}, nil, 4 * sz},
		{"filter in hidden range only", []int32{wsa.IPPROTO_ICMP}, 4, 4 * sz, []string{}, nil, 4 * sz},
		{"filter udp, short", []int32{wsa.IPPROTO_UDP}, 1, sz, nil, wsa.WSAENOBUFS, 2 * sz},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]wsa.ProtocolInfo, tt.bufN)
			length := tt.length
			n, err := s.WSAEnumProtocols(tt.filter, buf, &length)
			wantErr(t, "WSAEnumProtocols", err, tt.err)
			if length != tt.wantLen {
				t.Errorf("*bufferLength = %d, want %d", length, tt.wantLen)
			}
			if err != nil {
				return
			}
			var got []string
			for _, p := range buf[:n] {
				got = append(got, p.ProtocolName)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("entries %v, want %v", got, tt.want)
			}
		})
	}
	_, err := s.WSAEnumProtocols(nil, nil, nil)
	wantErr(t, "nil bufferLength", err, wsa.WSAEFAULT)
}

func TestAddressConversion(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	t.Run("StringToAddress", func(t *testing.T) {
		tests := []struct {
			in      string
			af      int32
			alen    int32
			want    string
			err     error
			wantLen int32
		}{
			{"1.2.3.4:80", wsa.AF_INET, 16, "1.2.3.4:80", nil, 16},
			{"1.2.3.4", wsa.AF_INET, 128, "1.2.3.4", nil, 16},
			{"1.2.3.4", wsa.AF_INET, 15, "", wsa.WSAEFAULT, 16},
			{"1.2.3.4", wsa.AF_INET, 0, "", wsa.WSAEFAULT, 16},
			{"[::1]:80", wsa.AF_INET6, 28, "[::1]:80", nil, 28},
			{"fe80::1%3", wsa.AF_INET6, 16, "", wsa.WSAEFAULT, 28},
			{"nonsense", wsa.AF_INET, 16, "", wsa.WSAEINVAL, 16},
			{"1.2.3.4", wsa.AF_IRDA, 16, "", wsa.WSAEINVAL, 16},
		}
		for _, tt := range tests {
			alen := tt.alen
			sa, err := s.WSAStringToAddress(tt.in, tt.af, nil, &alen)
			wantErr(t, tt.in, err, tt.err)
			if alen != tt.wantLen && tt.err != wsa.WSAEINVAL {
				t.Errorf("%s: *addrLen = %d, want %d", tt.in, alen, tt.wantLen)
			}
			if err == nil && wsa.FormatSockaddr(sa) != tt.want {
				t.Errorf("%s: got %s", tt.in, wsa.FormatSockaddr(sa))
			}
		}
		_, err := s.WSAStringToAddress("1.2.3.4", wsa.AF_INET, nil, nil)
		wantErr(t, "nil addrLen", err, wsa.WSAEFAULT)
		if env.b.count("WSPStringToAddress") != 2 {
			t.Errorf("IPv6 strings went to B %d times, want 2", env.b.count("WSPStringToAddress"))
		}
	})
	t.Run("AddressToString", func(t *testing.T) {
		tests := []struct {
			sa      wsa.Sockaddr
			olen    uint32
			want    string
			err     error
			wantLen uint32
		}{
			{&wsa.SockaddrInet4{Port: 80, Addr: [4]byte{1, 2, 3, 4}}, 64, "1.2.3.4:80", nil, 11},
			{&wsa.SockaddrInet4{Port: 80, Addr: [4]byte{1, 2, 3, 4}}, 11, "1.2.3.4:80", nil, 11},
			{&wsa.SockaddrInet4{Port: 80, Addr: [4]byte{1, 2, 3, 4}}, 10, "", wsa.WSAEFAULT, 11},
			{&wsa.SockaddrInet4{Addr: [4]byte{1, 2, 3, 4}}, 0, "", wsa.WSAEFAULT, 8},
			{&wsa.SockaddrInet6{Port: 443, Addr: [16]byte{15: 1}}, 64, "[::1]:443", nil, 10},
			{nil, 64, "", wsa.WSAEFAULT, 64},
			{(*wsa.SockaddrInet6)(nil), 64, "", wsa.WSAEFAULT, 64},
		}
		for _, tt := range tests {
			olen := tt.olen
			str, err := s.WSAAddressToString(tt.sa, nil, &olen)
			wantErr(t, fmt.Sprint(tt.sa), err, tt.err)
			if olen != tt.wantLen || str != tt.want {
				t.Errorf("%v: (%q, len %d), want (%q, len %d)", tt.sa, str, olen, tt.want, tt.wantLen)
			}
		}
		_, err := s.WSAAddressToString(&wsa.SockaddrInet4{}, nil, nil)
		wantErr(t, "nil outLen", err, wsa.WSAEFAULT)
	})
	t.Run("by protocol info", func(t *testing.T) {
		var v6 wsa.ProtocolInfo
		for _, e := range env.cat.WSCEnumProtocols(nil) {
			if e.ProtocolName == "UDP/IPv6" {
				v6 = e
			}
		}
		before := env.b.count("WSPAddressToString")
		var olen uint32 = 64
		if _, err := s.WSAAddressToString(&wsa.SockaddrInet4{}, &v6, &olen); err != nil {
			t.Fatal(err)
		}
		if env.b.count("WSPAddressToString") != before+1 {
			t.Error("info did not select provider B")
		}
		bogus := v6
		bogus.CatalogEntryId = 9999
		_, err := s.WSAAddressToString(&wsa.SockaddrInet4{}, &bogus, &olen)
		wantErr(t, "unknown entry", err, wsa.WSAEINVAL)
	})
}

func TestIoctls(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	c, srv := connectedPair(t, s)
	arg := uint32(0)
	for _, cmd := range []uint32{wsa.FIOASYNC, wsa.SIO_KEEPALIVE_VALS, ioctlEcho, 0} {
		wantErr(t, fmt.Sprintf("Ioctlsocket(%#x)", cmd), s.Ioctlsocket(c, cmd, &arg), wsa.WSAEINVAL)
	}
	wantErr(t, "nil argp", s.Ioctlsocket(c, wsa.FIONBIO, nil), wsa.WSAEFAULT)
	wantErr(t, "bad socket", s.Ioctlsocket(3, wsa.FIONBIO, &arg), wsa.WSAENOTSOCK)

	arg = 1
	must(t, s.Ioctlsocket(srv, wsa.FIONBIO, &arg))
	_, err := s.Recv(srv, make([]byte, 4), 0)
	wantErr(t, "non-blocking Recv", err, wsa.WSAEWOULDBLOCK)

	if _, err := s.Send(c, []byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 2)
	if n, err := s.Recv(srv, b, 0); err != nil || n != 2 {
		t.Fatalf("Recv: %d %v", n, err)
	}
	must(t, s.Ioctlsocket(srv, wsa.FIONREAD, &arg))
	if arg != 3 {
		t.Errorf("FIONREAD = %d, want 3", arg)
	}
	must(t, s.Ioctlsocket(srv, wsa.SIOCATMARK, &arg))
	if arg != 1 {
		t.Errorf("SIOCATMARK = %d, want 1", arg)
	}

	var ret uint32
	out := make([]byte, 8)
	must(t, s.WSAIoctl(c, ioctlEcho, []byte("abc"), out, &ret, nil, nil))
	if ret != 3 || string(out[:3]) != "abc" {
		t.Errorf("WSAIoctl echo: %d %q", ret, out[:ret])
	}
	ret = 0
	wantErr(t, "WSAIoctl short out", s.WSAIoctl(c, ioctlEcho, []byte("abcdef"), out[:2], &ret, nil, nil), wsa.WSAEFAULT)
	if ret != 6 {
		t.Errorf("needed size %d, want 6", ret)
	}
	wantErr(t, "WSAIoctl nil bytesReturned", s.WSAIoctl(c, ioctlEcho, nil, nil, nil, nil, nil), wsa.WSAEFAULT)
	wantErr(t, "WSAIoctl unknown", s.WSAIoctl(c, wsa.SIO_RCVALL, nil, nil, &ret, nil, nil), wsa.WSAEOPNOTSUPP)
}

func TestSockopts(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	h, err := s.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, 0)
	must(t, err)

	must(t, s.SetsockoptInt(h, wsa.SOL_SOCKET, wsa.SO_RCVBUF, 12345))
	if v, err := s.GetsockoptInt(h, wsa.SOL_SOCKET, wsa.SO_RCVBUF); err != nil || v != 12345 {
		t.Errorf("SO_RCVBUF = %d, %v", v, err)
	}
	// A 1-byte BOOLEAN answer reads zero-extended.
	must(t, s.Setsockopt(h, wsa.IPPROTO_TCP, wsa.TCP_NODELAY, []byte{1}))
	if v, err := s.GetsockoptInt(h, wsa.IPPROTO_TCP, wsa.TCP_NODELAY); err != nil || v != 1 {
		t.Errorf("TCP_NODELAY = %d, %v", v, err)
	}
	if v, err := s.GetsockoptInt(h, wsa.SOL_SOCKET, wsa.SO_TYPE); err != nil || v != wsa.SOCK_DGRAM {
		t.Errorf("SO_TYPE = %d, %v", v, err)
	}
	_, err = s.GetsockoptInt(h, wsa.SOL_SOCKET, wsa.SO_SNDBUF)
	wantErr(t, "unset option", err, wsa.WSAENOPROTOOPT)

	must(t, s.SetsockoptLinger(h, wsa.SOL_SOCKET, wsa.SO_LINGER, &wsa.Linger{Onoff: 1, Linger: 7}))
	if l, err := s.GetsockoptLinger(h, wsa.SOL_SOCKET, wsa.SO_LINGER); err != nil || l != (wsa.Linger{Onoff: 1, Linger: 7}) {
		t.Errorf("SO_LINGER = %+v, %v", l, err)
	}
	wantErr(t, "nil linger", s.SetsockoptLinger(h, wsa.SOL_SOCKET, wsa.SO_LINGER, nil), wsa.WSAEFAULT)

	pi, err := s.GetsockoptProtocolInfo(h)
	must(t, err)
	if pi.ProtocolName != "UDP/IP" || pi.ProviderId != guidA || pi.SocketType != wsa.SOCK_DGRAM {
		t.Errorf("SO_PROTOCOL_INFOW = %+v", pi)
	}
	short := make([]byte, 10)
	_, err = s.Getsockopt(h, wsa.SOL_SOCKET, wsa.SO_PROTOCOL_INFOW, short)
	wantErr(t, "short SO_PROTOCOL_INFOW", err, wsa.WSAEFAULT)

	must(t, s.SetsockoptIPMreq(h, wsa.IPPROTO_IP, wsa.IP_ADD_MEMBERSHIP, &api.IPMreq{Multiaddr: [4]byte{224, 0, 0, 251}, Interface: [4]byte{10, 0, 0, 1}}))
	raw := make([]byte, 16)
	n, err := s.Getsockopt(h, wsa.IPPROTO_IP, wsa.IP_ADD_MEMBERSHIP, raw)
	must(t, err)
	if !bytes.Equal(raw[:n], []byte{224, 0, 0, 251, 10, 0, 0, 1}) {
		t.Errorf("ip_mreq bytes % x", raw[:n])
	}
	wantErr(t, "nil mreq", s.SetsockoptIPMreq(h, wsa.IPPROTO_IP, wsa.IP_ADD_MEMBERSHIP, nil), wsa.WSAEFAULT)
}

func TestOpenType(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	lastFlags := func() uint32 {
		env.a.mu.Lock()
		defer env.a.mu.Unlock()
		return env.a.lastFlags
	}
	if _, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0); err != nil {
		t.Fatal(err)
	}
	if lastFlags() != wsa.WSA_FLAG_OVERLAPPED {
		t.Errorf("default socket() flags %#x, want WSA_FLAG_OVERLAPPED", lastFlags())
	}
	if v, err := s.GetsockoptInt(wsa.INVALID_SOCKET, wsa.SOL_SOCKET, wsa.SO_OPENTYPE); err != nil || v != 0 {
		t.Errorf("SO_OPENTYPE = %d, %v", v, err)
	}
	must(t, s.SetsockoptInt(wsa.INVALID_SOCKET, wsa.SOL_SOCKET, wsa.SO_OPENTYPE, wsa.SO_SYNCHRONOUS_NONALERT))
	if v, err := s.GetsockoptInt(12345, wsa.SOL_SOCKET, wsa.SO_OPENTYPE); err != nil || v != wsa.SO_SYNCHRONOUS_NONALERT {
		t.Errorf("SO_OPENTYPE = %d, %v", v, err)
	}
	if _, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0); err != nil {
		t.Fatal(err)
	}
	if lastFlags() != 0 {
		t.Errorf("socket() flags with SO_OPENTYPE %#x, want 0", lastFlags())
	}
	if _, err := s.WSASocket(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 0, wsa.WSA_FLAG_OVERLAPPED); err != nil {
		t.Fatal(err)
	}
	if lastFlags() != wsa.WSA_FLAG_OVERLAPPED {
		t.Errorf("WSASocket flags changed by SO_OPENTYPE")
	}
	wantErr(t, "short SO_OPENTYPE", s.Setsockopt(wsa.INVALID_SOCKET, wsa.SOL_SOCKET, wsa.SO_OPENTYPE, []byte{1}), wsa.WSAEFAULT)
	_, err := s.Getsockopt(wsa.INVALID_SOCKET, wsa.SOL_SOCKET, wsa.SO_OPENTYPE, nil)
	wantErr(t, "short SO_OPENTYPE get", err, wsa.WSAEFAULT)
}

func TestBadInput(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	h, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	var n, flags uint32
	buf := [][]byte{make([]byte, 4)}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"Bind nil", s.Bind(h, nil), wsa.WSAEFAULT},
		{"Bind typed nil", s.Bind(h, (*wsa.SockaddrInet4)(nil)), wsa.WSAEFAULT},
		{"Bind bad port", s.Bind(h, &wsa.SockaddrInet4{Port: 70000}), wsa.WSAEINVAL},
		{"Bind negative port", s.Bind(h, &wsa.SockaddrInet6{Port: -1}), wsa.WSAEINVAL},
		{"Connect nil", s.Connect(h, nil), wsa.WSAEFAULT},
		{"WSAConnect typed nil", s.WSAConnect(h, (*wsa.SockaddrInet6)(nil), nil, nil, nil, nil), wsa.WSAEFAULT},
		{"Shutdown -1", s.Shutdown(h, -1), wsa.WSAEINVAL},
		{"Shutdown 3", s.Shutdown(h, 3), wsa.WSAEINVAL},
		{"WSASend nil count", s.WSASend(h, buf, nil, 0, nil, nil), wsa.WSAEFAULT},
		{"WSARecv nil flags", s.WSARecv(h, buf, &n, nil, nil, nil), wsa.WSAEFAULT},
		{"WSARecv nil count", s.WSARecv(h, buf, nil, &flags, nil, nil), wsa.WSAEFAULT},
		{"WSASendTo typed nil", s.WSASendTo(h, buf, &n, 0, (*wsa.SockaddrInet4)(nil), nil, nil), wsa.WSAEFAULT},
		{"WSASendTo nil count", s.WSASendTo(h, buf, nil, 0, nil, nil, nil), wsa.WSAEFAULT},
		{"WSARecvFrom nil flags", s.WSARecvFrom(h, buf, &n, nil, nil, nil, nil), wsa.WSAEFAULT},
	}
	for _, tt := range tests {
		wantErr(t, tt.name, tt.err, tt.want)
	}
	_, err = s.Sendto(h, nil, 0, (*wsa.SockaddrInet4)(nil))
	wantErr(t, "Sendto typed nil", err, wsa.WSAEFAULT)
	for _, how := range []int32{wsa.SD_RECEIVE, wsa.SD_SEND, wsa.SD_BOTH} {
		wantErr(t, "Shutdown", s.Shutdown(h, how), nil)
	}
}

// connectedPair returns a connected client and server socket of provider A.
func connectedPair(t testing.TB, s *api.Session) (client, server wsa.Socket) {
	t.Helper()
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Bind(l, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	must(t, s.Listen(l, wsa.SOMAXCONN))
	addr, err := s.Getsockname(l)
	must(t, err)
	c, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Connect(c, addr))
	srv, _, err := s.Accept(l)
	must(t, err)
	must(t, s.Closesocket(l))
	return c, srv
}

func TestDataTransfer(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	c, srv := connectedPair(t, s)

	if n, err := s.Send(c, []byte("ping"), 0); err != nil || n != 4 {
		t.Fatalf("Send: %d %v", n, err)
	}
	b := make([]byte, 16)
	n, from, err := s.Recvfrom(srv, b, 0)
	if err != nil || string(b[:n]) != "ping" {
		t.Fatalf("Recvfrom: %q %v", b[:n], err)
	}
	if cl, _ := s.Getsockname(c); wsa.FormatSockaddr(from) != wsa.FormatSockaddr(cl) {
		t.Errorf("Recvfrom source %v, want %v", from, cl)
	}

	var sent uint32
	must(t, s.WSASend(srv, [][]byte{[]byte("po"), []byte("ng")}, &sent, 0, nil, nil))
	if sent != 4 {
		t.Errorf("WSASend sent %d", sent)
	}
	var recvd, flags uint32
	b1, b2 := make([]byte, 1), make([]byte, 8)
	must(t, s.WSARecv(c, [][]byte{b1, b2}, &recvd, &flags, nil, nil))
	if recvd != 4 || string(b1)+string(b2[:3]) != "pong" {
		t.Errorf("WSARecv %d %q %q", recvd, b1, b2[:3])
	}

	if n, err := s.Sendto(c, []byte("x"), 0, nil); err != nil || n != 1 {
		t.Fatalf("Sendto: %d %v", n, err)
	}
	var src wsa.Sockaddr
	must(t, s.WSARecvFrom(srv, [][]byte{b}, &recvd, &flags, &src, nil, nil))
	if recvd != 1 || src == nil {
		t.Errorf("WSARecvFrom %d %v", recvd, src)
	}
	must(t, s.WSASendTo(c, [][]byte{[]byte("y")}, &sent, 0, nil, nil, nil))

	// Overlapped send completing at once: the provider completes through
	// WPUCompleteOverlappedRequest (event signalled) and queues the
	// completion routine to the Session's APC queue via the ThreadID the api
	// passed.
	up := env.a.upcalls()
	ev, err := up.WPUCreateEvent()
	must(t, err)
	ov := &wsa.Overlapped{HEvent: ev}
	var crBytes uint32
	var crOv *wsa.Overlapped
	must(t, s.WSASend(c, [][]byte{[]byte("abc")}, nil, 0, ov, func(dwError, cb uint32, o *wsa.Overlapped, f uint32) {
		crBytes, crOv = cb, o
	}))
	if !s.EventSignalled(ev) || ov.InternalHigh != 3 || ov.Internal != 0 {
		t.Errorf("overlapped: event %v, InternalHigh %d, Internal %#x", s.EventSignalled(ev), ov.InternalHigh, ov.Internal)
	}
	if !s.APCPending() {
		t.Fatal("completion routine not queued")
	}
	if ran := s.RunAPCs(); ran != 1 || crBytes != 3 || crOv != ov {
		t.Errorf("APCs ran %d: routine got %d bytes, ov %p", ran, crBytes, crOv)
	}
	if s.APCPending() {
		t.Error("APC queue not empty after running")
	}

	must(t, s.WSASendDisconnect(c, nil))
	must(t, s.WSARecvDisconnect(srv, nil))
	// Graceful close: the peer reads what was sent, then 0.
	must(t, s.Closesocket(c))
	for {
		n, err := s.Recv(srv, b, 0)
		must(t, err)
		if n == 0 {
			break
		}
	}
}

func TestCloseEndsBlockedCall(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	_, srv := connectedPair(t, s)
	done := make(chan error)
	go func() {
		_, err := s.Recv(srv, make([]byte, 8), 0)
		done <- err
	}()
	waitFor(t, func() bool { return env.a.count("WSPRecv") == 1 })
	must(t, s.Closesocket(srv))
	wantErr(t, "blocked Recv", <-done, wsa.WSAEINTR)
}

func TestConcurrentCreateClose(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	var owners sync.Map
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				af := int32(wsa.AF_INET)
				if i%3 == 0 {
					af = wsa.AF_INET6
				}
				h, err := s.Socket(af, wsa.SOCK_DGRAM, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if prev, dup := owners.LoadOrStore(h, g); dup {
					t.Errorf("handle %#x given to %d while %v holds it", h, g, prev)
					return
				}
				if err := s.SetsockoptInt(h, wsa.SOL_SOCKET, wsa.SO_RCVBUF, int32(i)); err != nil {
					t.Error(err)
				}
				owners.Delete(h)
				if err := s.Closesocket(h); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

// Closing, using and creating sockets while WSACleanup runs: every call
// either works or fails with WSANOTINITIALISED/WSAENOTSOCK/WSAEINTR, and
// every socket the application got is closed by the time WSACleanup returns.
func TestCleanupRace(t *testing.T) {
	for round := 0; round < 20; round++ {
		env := newEnv(t)
		s, err := api.WSAStartup(wsa.WINSOCK_VERSION, env.cat)
		must(t, err)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					h, err := s.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, 0)
					if err == wsa.WSANOTINITIALISED {
						return
					}
					if err != nil {
						t.Errorf("Socket: %v", err)
						return
					}
					if err := s.Bind(h, &wsa.SockaddrInet4{}); err != nil && err != wsa.WSANOTINITIALISED && err != wsa.WSAENOTSOCK {
						t.Errorf("Bind: %v", err)
					}
					if i%2 == 0 {
						if err := s.Closesocket(h); err != nil && err != wsa.WSANOTINITIALISED && err != wsa.WSAENOTSOCK {
							t.Errorf("Closesocket: %v", err)
						}
					}
				}
			}()
		}
		must(t, s.WSACleanup())
		wg.Wait()
		env.a.mu.Lock()
		created, closed, cleanups := env.a.calls["WSPSocket"], env.a.calls["WSPCloseSocket"], env.a.cleanups
		env.a.mu.Unlock()
		if env.a.startups > 0 && (cleanups != 1 || created != closed) {
			t.Fatalf("round %d: %d sockets made, %d closed, %d cleanups", round, created, closed, cleanups)
		}
	}
}

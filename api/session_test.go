package api_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// wantErr fails the test unless err is exactly the Errno want (nil for
// success), unwrapped, as every api error is.
func wantErr(t testing.TB, what string, err error, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v (%v), want success", what, err, errName(err))
		}
		return
	}
	if err != want {
		t.Fatalf("%s: got %v (%s), want %v (%s)", what, err, errName(err), want, errName(want))
	}
}

func errName(err error) string {
	var e wsa.Errno
	if errors.As(err, &e) {
		return e.Name()
	}
	return fmt.Sprintf("%T", err)
}

func TestVersionNegotiation(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		req     uint16
		want    uint16
		err     error
		maxSock uint16
		maxDg   uint16
	}{
		{wsa.MAKEWORD(0, 0), 0, wsa.WSAVERNOTSUPPORTED, 0, 0},
		{wsa.MAKEWORD(0, 1), 0, wsa.WSAVERNOTSUPPORTED, 0, 0},
		{wsa.MAKEWORD(0, 9), 0, wsa.WSAVERNOTSUPPORTED, 0, 0},
		{wsa.MAKEWORD(1, 0), wsa.MAKEWORD(1, 0), nil, 32767, 65467},
		{wsa.MAKEWORD(1, 1), wsa.MAKEWORD(1, 1), nil, 32767, 65467},
		{wsa.MAKEWORD(1, 2), wsa.MAKEWORD(1, 1), nil, 32767, 65467},
		{wsa.MAKEWORD(1, 255), wsa.MAKEWORD(1, 1), nil, 32767, 65467},
		{wsa.MAKEWORD(2, 0), wsa.MAKEWORD(2, 0), nil, 0, 0},
		{wsa.MAKEWORD(2, 1), wsa.MAKEWORD(2, 1), nil, 0, 0},
		{wsa.MAKEWORD(2, 2), wsa.MAKEWORD(2, 2), nil, 0, 0},
		{wsa.MAKEWORD(2, 3), wsa.MAKEWORD(2, 2), nil, 0, 0},
		{wsa.MAKEWORD(2, 255), wsa.MAKEWORD(2, 2), nil, 0, 0},
		{wsa.MAKEWORD(3, 0), wsa.MAKEWORD(2, 2), nil, 0, 0},
		{wsa.MAKEWORD(255, 255), wsa.MAKEWORD(2, 2), nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d.%d", wsa.LOBYTE(tt.req), wsa.HIBYTE(tt.req)), func(t *testing.T) {
			s := api.NewSession(env.cat)
			d, err := s.WSAStartup(tt.req)
			wantErr(t, "WSAStartup", err, tt.err)
			if d.HighVersion != 0x0202 || d.Description != "WinSock 2.0" || d.SystemStatus != "Running" {
				t.Errorf("WSAData = %+v", d)
			}
			if tt.err != nil {
				if _, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0); err != wsa.WSANOTINITIALISED {
					t.Errorf("Socket after refused WSAStartup: %v, want WSANOTINITIALISED", err)
				}
				return
			}
			defer s.WSACleanup()
			if d.Version != tt.want || d.MaxSockets != tt.maxSock || d.MaxUdpDg != tt.maxDg {
				t.Errorf("WSAData = %+v, want version %#04x, max %d/%d", d, tt.want, tt.maxSock, tt.maxDg)
			}
			if got := s.WSAData(); got != d {
				t.Errorf("Session.WSAData() = %+v, want %+v", got, d)
			}
		})
	}
	// The package-level form.
	if _, err := api.WSAStartup(0, env.cat); err != wsa.WSAVERNOTSUPPORTED {
		t.Errorf("api.WSAStartup(0): %v", err)
	}
	if _, err := api.WSAStartup(wsa.WINSOCK_VERSION, nil); err != wsa.WSASYSNOTREADY {
		t.Errorf("api.WSAStartup(nil catalog): %v", err)
	}
}

// everyCall calls every Session method once on h.
func everyCall(s *api.Session, h wsa.Socket) map[string]error {
	buf := make([]byte, 8)
	var n uint32
	var flags uint32
	var alen int32 = 64
	var slen uint32 = 64
	sa := &wsa.SockaddrInet4{Port: 1, Addr: [4]byte{127, 0, 0, 1}}
	var from wsa.Sockaddr
	out := map[string]error{}
	_, out["Socket"] = s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	_, out["WSASocket"] = s.WSASocket(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 0, 0)
	out["Bind"] = s.Bind(h, sa)
	out["Listen"] = s.Listen(h, 5)
	_, _, out["Accept"] = s.Accept(h)
	_, _, out["WSAAccept"] = s.WSAAccept(h, nil, 0)
	out["Connect"] = s.Connect(h, sa)
	out["WSAConnect"] = s.WSAConnect(h, sa, nil, nil, nil, nil)
	_, out["Send"] = s.Send(h, buf, 0)
	_, out["Recv"] = s.Recv(h, buf, 0)
	_, out["Sendto"] = s.Sendto(h, buf, 0, sa)
	_, _, out["Recvfrom"] = s.Recvfrom(h, buf, 0)
	out["WSASend"] = s.WSASend(h, [][]byte{buf}, &n, 0, nil, nil)
	out["WSARecv"] = s.WSARecv(h, [][]byte{buf}, &n, &flags, nil, nil)
	out["WSASendTo"] = s.WSASendTo(h, [][]byte{buf}, &n, 0, sa, nil, nil)
	out["WSARecvFrom"] = s.WSARecvFrom(h, [][]byte{buf}, &n, &flags, &from, nil, nil)
	out["WSASendDisconnect"] = s.WSASendDisconnect(h, nil)
	out["WSARecvDisconnect"] = s.WSARecvDisconnect(h, nil)
	out["Shutdown"] = s.Shutdown(h, wsa.SD_BOTH)
	_, out["Getsockname"] = s.Getsockname(h)
	_, out["Getpeername"] = s.Getpeername(h)
	_, out["Getsockopt"] = s.Getsockopt(h, wsa.SOL_SOCKET, wsa.SO_TYPE, buf)
	out["Setsockopt"] = s.Setsockopt(h, wsa.SOL_SOCKET, wsa.SO_RCVBUF, buf[:4])
	_, out["GetsockoptInt"] = s.GetsockoptInt(h, wsa.SOL_SOCKET, wsa.SO_TYPE)
	out["SetsockoptInt"] = s.SetsockoptInt(h, wsa.SOL_SOCKET, wsa.SO_RCVBUF, 1)
	_, out["GetsockoptLinger"] = s.GetsockoptLinger(h, wsa.SOL_SOCKET, wsa.SO_LINGER)
	out["SetsockoptLinger"] = s.SetsockoptLinger(h, wsa.SOL_SOCKET, wsa.SO_LINGER, &wsa.Linger{})
	_, out["GetsockoptProtocolInfo"] = s.GetsockoptProtocolInfo(h)
	out["SetsockoptIPMreq"] = s.SetsockoptIPMreq(h, wsa.IPPROTO_IP, wsa.IP_ADD_MEMBERSHIP, &api.IPMreq{})
	_, out["Getsockopt(SO_OPENTYPE)"] = s.Getsockopt(h, wsa.SOL_SOCKET, wsa.SO_OPENTYPE, buf)
	out["Setsockopt(SO_OPENTYPE)"] = s.Setsockopt(h, wsa.SOL_SOCKET, wsa.SO_OPENTYPE, buf[:4])
	out["Ioctlsocket"] = s.Ioctlsocket(h, wsa.FIONREAD, &n)
	out["WSAIoctl"] = s.WSAIoctl(h, wsa.FIONREAD, nil, buf, &n, nil, nil)
	_, out["WSAEnumProtocols"] = s.WSAEnumProtocols(nil, nil, &n)
	_, out["WSAStringToAddress"] = s.WSAStringToAddress("1.2.3.4", wsa.AF_INET, nil, &alen)
	_, out["WSAAddressToString"] = s.WSAAddressToString(sa, nil, &slen)
	out["Closesocket"] = s.Closesocket(h)
	out["WSACleanup"] = s.WSACleanup()
	return out
}

func TestNotInitialised(t *testing.T) {
	env := newEnv(t)
	check := func(t *testing.T, s *api.Session, h wsa.Socket) {
		for name, err := range everyCall(s, h) {
			if err != wsa.WSANOTINITIALISED {
				t.Errorf("%s: %v (%s), want WSANOTINITIALISED", name, err, errName(err))
			}
		}
		if d := s.WSAData(); d != (wsa.WSAData{}) {
			t.Errorf("WSAData of a stopped Session = %+v", d)
		}
	}
	t.Run("before", func(t *testing.T) { check(t, api.NewSession(env.cat), 8) })
	t.Run("nil session", func(t *testing.T) { check(t, nil, 8) })
	t.Run("after", func(t *testing.T) {
		s, err := api.WSAStartup(wsa.WINSOCK_VERSION, env.cat)
		must(t, err)
		h, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
		must(t, err)
		must(t, s.WSACleanup())
		check(t, s, h)
	})
}

func TestRefcountedCleanup(t *testing.T) {
	env := newEnv(t)
	s, err := api.WSAStartup(wsa.MAKEWORD(2, 2), env.cat)
	must(t, err)
	if _, err := s.WSAStartup(wsa.MAKEWORD(1, 1)); err != nil {
		t.Fatal(err)
	}
	if v := s.WSAData().Version; v != wsa.MAKEWORD(1, 1) {
		t.Errorf("WSAData after second WSAStartup: version %#04x, want the latest (1.1)", v)
	}
	h, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.WSACleanup()) // 2 → 1: nothing ends
	wantErr(t, "Bind after first WSACleanup", s.Bind(h, &wsa.SockaddrInet4{}), nil)
	if env.a.count("WSPCloseSocket") != 0 || env.a.cleanups != 0 {
		t.Fatalf("first WSACleanup closed sockets or cleaned up providers")
	}
	must(t, s.WSACleanup()) // 1 → 0: the end
	wantErr(t, "Bind after last WSACleanup", s.Bind(h, &wsa.SockaddrInet4{}), wsa.WSANOTINITIALISED)
	wantErr(t, "third WSACleanup", s.WSACleanup(), wsa.WSANOTINITIALISED)
}

func TestCleanupClosesSocketsAndProviders(t *testing.T) {
	env := newEnv(t)
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, env.cat)
	must(t, err)
	a1, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	a2, err := s.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, 0)
	must(t, err)
	b1, err := s.Socket(wsa.AF_INET6, wsa.SOCK_STREAM, 0)
	must(t, err)
	closed, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Closesocket(closed))

	// A call blocked in a provider when WSACleanup runs is ended by the
	// abortive close, and WSACleanup waits for it.
	must(t, s.Bind(a1, &wsa.SockaddrInet4{}))
	must(t, s.Listen(a1, 1))
	acceptErr := make(chan error, 1)
	go func() {
		_, _, err := s.Accept(a1)
		acceptErr <- err
	}()
	waitFor(t, func() bool { return env.a.count("WSPAccept") == 1 })

	must(t, s.WSACleanup())
	// WSACleanup waited for the call (its gate); the goroutine's send comes
	// just after the call returned, so give it a moment.
	select {
	case err := <-acceptErr:
		wantErr(t, "Accept blocked across WSACleanup", err, wsa.WSAEINTR)
	case <-time.After(10 * time.Second):
		t.Fatal("the blocked Accept did not return")
	}
	for _, h := range []wsa.Socket{a1, a2} {
		if l, ok := env.a.lingered[h]; !ok || l != (wsa.Linger{Onoff: 1, Linger: 0}) {
			t.Errorf("socket %d: closed with linger %+v (closed %v), want {1 0}", h, l, ok)
		}
	}
	if l, ok := env.b.lingered[b1]; !ok || l != (wsa.Linger{Onoff: 1}) {
		t.Errorf("B socket %d: closed %v with linger %+v", b1, ok, l)
	}
	if n := env.a.count("WSPCloseSocket"); n != 3 { // closed, a1, a2
		t.Errorf("A WSPCloseSocket calls = %d, want 3", n)
	}
	if env.a.cleanups != 1 || env.b.cleanups != 1 || env.a.startups != 1 || env.b.startups != 1 {
		t.Errorf("startups/cleanups A %d/%d B %d/%d, want 1/1 each", env.a.startups, env.a.cleanups, env.b.startups, env.b.cleanups)
	}

	// A later WSAStartup starts afresh: old handles are gone, providers are
	// started again.
	_, err = s.WSAStartup(wsa.WINSOCK_VERSION)
	must(t, err)
	defer s.WSACleanup()
	wantErr(t, "old handle after restart", s.Listen(a1, 1), wsa.WSAENOTSOCK)
	if _, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0); err != nil {
		t.Fatal(err)
	}
	if env.a.startups != 2 || env.b.startups != 1 {
		t.Errorf("startups after restart A %d B %d, want 2 and 1", env.a.startups, env.b.startups)
	}
}

func TestSessionsIndependent(t *testing.T) {
	env := newEnv(t)
	s1, s2 := env.start(t), env.start(t)
	h1, err := s1.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	h2, err := s2.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	if env.a.startups != 2 {
		t.Errorf("provider A started %d times, want once per Session", env.a.startups)
	}
	must(t, s1.WSACleanup())
	wantErr(t, "s1 after its cleanup", s1.Listen(h1, 1), wsa.WSANOTINITIALISED)
	wantErr(t, "s2 after s1's cleanup", s2.Bind(h2, &wsa.SockaddrInet4{}), nil)
}

func TestProviderLoad(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(p *fakeProvider)
		path   string
		want   error
		paired bool // WSPCleanup follows the refused start
	}{
		{name: "missing path", path: "nowhere", want: wsa.WSAEPROVIDERFAILEDINIT},
		{name: "wrong version", setup: func(p *fakeProvider) { p.version = wsa.MAKEWORD(2, 0) }, want: wsa.WSAEINVALIDPROVIDER, paired: true},
		{name: "nil table", setup: func(p *fakeProvider) { p.nilTable = true }, want: wsa.WSAEINVALIDPROCTABLE},
		{name: "startup error", setup: func(p *fakeProvider) { p.startErr = wsa.WSASYSNOTREADY }, want: wsa.WSASYSNOTREADY},
		{name: "wrapped error", setup: func(p *fakeProvider) { p.startErr = fmt.Errorf("netstack: %w", wsa.WSAEPROCLIM) }, want: wsa.WSAEPROCLIM},
		{name: "non-Errno error", setup: func(p *fakeProvider) { p.startErr = errors.New("boom") }, want: wsa.WSASYSCALLFAILURE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := provider.NewRegistry()
			cat := provider.NewCatalog(reg)
			p := newFakeProvider("P")
			if tt.setup != nil {
				tt.setup(p)
			}
			must(t, reg.Register("p", p.startup))
			path := "p"
			if tt.path != "" {
				path = tt.path
			}
			must(t, cat.WSCInstallProvider(guidA, path, []wsa.ProtocolInfo{
				entry("TCP/IP", wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, wsa.PFL_MATCHES_PROTOCOL_ZERO),
			}))
			s, err := api.WSAStartup(wsa.WINSOCK_VERSION, cat)
			must(t, err)
			defer s.WSACleanup()
			_, err = s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
			wantErr(t, "Socket", err, tt.want)
			var alen int32 = 16
			_, err = s.WSAStringToAddress("1.2.3.4", wsa.AF_INET, nil, &alen)
			wantErr(t, "WSAStringToAddress", err, tt.want)
			if tt.paired && p.cleanups != p.startups {
				t.Errorf("refused provider: %d startups, %d cleanups", p.startups, p.cleanups)
			}
			// A failed start is retried: fix the provider and try again.
			p.mu.Lock()
			p.version, p.nilTable, p.startErr = 0, false, nil
			p.mu.Unlock()
			if tt.path == "" {
				if _, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0); err != nil {
					t.Errorf("Socket after fixing the provider: %v", err)
				}
			}
		})
	}
}

func TestProviderLoadedOncePerProviderID(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	for i := 0; i < 3; i++ {
		for _, typ := range []int32{wsa.SOCK_STREAM, wsa.SOCK_DGRAM} {
			if _, err := s.Socket(wsa.AF_INET, typ, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if env.a.startups != 1 || env.b.startups != 0 {
		t.Errorf("startups A %d B %d, want 1 and 0 (lazy)", env.a.startups, env.b.startups)
	}
}

func TestProviderErrors(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	h, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"errno", wsa.WSAEADDRINUSE, wsa.WSAEADDRINUSE},
		{"wrapped errno", fmt.Errorf("bind: %w", wsa.WSAEACCES), wsa.WSAEACCES},
		{"non-errno", errors.New("boom"), wsa.WSASYSCALLFAILURE},
		{"errno 0", wsa.Errno(0), wsa.WSASYSCALLFAILURE},
	}
	for _, tt := range tests {
		env.a.mu.Lock()
		env.a.bindErr = tt.err
		env.a.mu.Unlock()
		wantErr(t, tt.name, s.Bind(h, &wsa.SockaddrInet4{}), tt.want)
	}
	env.a.mu.Lock()
	env.a.socketErr = errBadSocket
	env.a.mu.Unlock()
	_, err = s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	wantErr(t, "WSPSocket failing without a code", err, wsa.WSASYSCALLFAILURE)
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

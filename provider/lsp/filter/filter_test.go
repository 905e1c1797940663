package filter_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/lsp/filter"
	"github.com/ws2go/ws2/wsa"
)

// hosts returns two hosts on a pipe (A 198.18.0.1, B 198.18.0.2, each with
// loopback too), with the filter installed on A over every entry.
func hosts(t *testing.T, cfg filter.Config) (a, b *ws2.Host, f *filter.Filter) {
	t.Helper()
	t.Cleanup(func() { noGoroutinesIn(t, "lsp/filter.") }) // after Close
	a, b, err := ws2.NewPipe(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	f, err = filter.Install(a.Catalog, cfg, baseIDs(a.Catalog))
	if err != nil {
		t.Fatal(err)
	}
	return a, b, f
}

func baseIDs(cat *provider.Catalog) []uint32 {
	var ids []uint32
	for _, p := range cat.WSCEnumProtocols(nil) {
		if p.IsBase() {
			ids = append(ids, p.CatalogEntryId)
		}
	}
	return ids
}

func rules(t *testing.T, s string) filter.Rules {
	t.Helper()
	rs, err := filter.ParseString(s)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

var (
	addrA  = [4]byte{198, 18, 0, 1}
	addrB  = [4]byte{198, 18, 0, 2}
	loop4  = [4]byte{127, 0, 0, 1}
	waitMS = uint32(10000)
)

func sock(t *testing.T, s *api.Session, typ int32) wsa.Socket {
	t.Helper()
	h, err := s.Socket(wsa.AF_INET, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Closesocket(h) })
	return h
}

func listener(t *testing.T, s *api.Session, port int) wsa.Socket {
	t.Helper()
	l := sock(t, s, wsa.SOCK_STREAM)
	must(t, s.Bind(l, &wsa.SockaddrInet4{Port: port}))
	must(t, s.Listen(l, wsa.SOMAXCONN))
	return l
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func TestDenyOutbound(t *testing.T) {
	a, b, f := hosts(t, filter.Config{Rules: rules(t, `
deny out tcp 198.18.0.2 7
deny out udp 198.18.0.0/24 9
`)})
	listener(t, b.Session, 7)
	listener(t, b.Session, 8)

	c := sock(t, a.Session, wsa.SOCK_STREAM)
	wantErr(t, "connect to a denied port", a.Connect(c, &wsa.SockaddrInet4{Port: 7, Addr: addrB}), wsa.WSAEACCES)
	must(t, a.Connect(c, &wsa.SockaddrInet4{Port: 8, Addr: addrB})) // the same socket, allowed

	x := sock(t, a.Session, wsa.SOCK_STREAM)
	must(t, a.Bind(x, &wsa.SockaddrInet4{}))
	ov := &wsa.Overlapped{}
	wantErr(t, "ConnectEx to a denied port", a.ConnectEx(x, &wsa.SockaddrInet4{Port: 7, Addr: addrB}, nil, nil, ov), wsa.WSAEACCES)

	u := sock(t, a.Session, wsa.SOCK_DGRAM)
	_, err := a.Sendto(u, []byte("x"), 0, &wsa.SockaddrInet4{Port: 9, Addr: addrB})
	wantErr(t, "sendto", err, wsa.WSAEACCES)
	var sent uint32
	wantErr(t, "WSASendTo", a.WSASendTo(u, [][]byte{[]byte("x")}, &sent, 0, &wsa.SockaddrInet4{Port: 9, Addr: addrB}, nil, nil), wsa.WSAEACCES)
	must(t, a.Bind(u, &wsa.SockaddrInet4{}))
	wantErr(t, "WSASendMsg", a.WSASendMsg(u, &wsa.WSAMsg{Name: &wsa.SockaddrInet4{Port: 9, Addr: addrB}, Buffers: [][]byte{[]byte("x")}}, 0, &sent, nil, nil), wsa.WSAEACCES)
	if _, err := a.Sendto(u, []byte("x"), 0, &wsa.SockaddrInet4{Port: 10, Addr: addrB}); err != nil {
		t.Fatalf("sendto an allowed port: %v", err)
	}
	// Connected UDP: the connect is checked.
	u2 := sock(t, a.Session, wsa.SOCK_DGRAM)
	wantErr(t, "UDP connect", a.Connect(u2, &wsa.SockaddrInet4{Port: 9, Addr: addrB}), wsa.WSAEACCES)
	if st := f.Stats(); st.DeniedOut != 6 || st.DeniedIn != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestDenyInboundAccept: a denied peer's connection is reset before accept
// sees it; accept returns the next, allowed, one; the application's
// condition function is asked only about allowed peers.
func TestDenyInboundAccept(t *testing.T) {
	a, b, f := hosts(t, filter.Config{Rules: rules(t, "deny in tcp 198.18.0.2")})
	l := listener(t, a.Session, 80)
	for i, withCond := range []bool{false, true} {
		denied := sock(t, b.Session, wsa.SOCK_STREAM)
		must(t, b.Connect(denied, &wsa.SockaddrInet4{Port: 80, Addr: addrA})) // the stack's handshake
		var asked []wsa.Sockaddr
		var cond wsa.ConditionProc
		if withCond {
			cond = func(caller wsa.Sockaddr, _ []byte, _, _ *wsa.QOS, _ wsa.Sockaddr, _ []byte, _ *uint32, _ uintptr) int32 {
				asked = append(asked, caller)
				return wsa.CF_ACCEPT
			}
		}
		// Allowed clients come and are accepted until accept has met the
		// denied connection (which may reach the queue after one of them).
		for round := 0; f.Stats().DeniedIn != uint64(i+1); round++ {
			if round == 100 {
				t.Fatal("accept never met the denied connection")
			}
			ok := sock(t, a.Session, wsa.SOCK_STREAM)
			must(t, a.Connect(ok, &wsa.SockaddrInet4{Port: 80, Addr: loop4}))
			c, peer, err := a.WSAAccept(l, cond, 0)
			must(t, err)
			_ = a.Closesocket(c)
			if peer.AddrPort().Addr().As4() != loop4 {
				t.Fatalf("accepted %v, want a loopback peer", peer)
			}
		}
		for _, p := range asked {
			if p.AddrPort().Addr().As4() != loop4 {
				t.Fatalf("condition function asked about %v", p)
			}
		}
		if withCond && len(asked) == 0 {
			t.Fatal("the condition function was not asked")
		}
		// The denied peer was reset.
		must(t, b.SetsockoptInt(denied, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, 10000))
		_, err := b.Recv(denied, make([]byte, 8), 0)
		wantErr(t, "recv on the refused connection", err, wsa.WSAECONNRESET)
	}
	if st := f.Stats(); st.DeniedIn != 2 {
		t.Errorf("stats %+v", st)
	}
	// Non-blocking, with only a denied connection queued: WSAEWOULDBLOCK.
	var nb uint32 = 1
	must(t, a.Ioctlsocket(l, wsa.FIONBIO, &nb))
	denied := sock(t, b.Session, wsa.SOCK_STREAM)
	must(t, b.Connect(denied, &wsa.SockaddrInet4{Port: 80, Addr: addrA}))
	deadline := time.Now().Add(10 * time.Second)
	for f.Stats().DeniedIn != 3 {
		_, _, err := a.Accept(l)
		wantErr(t, "non-blocking accept", err, wsa.WSAEWOULDBLOCK)
		if time.Now().After(deadline) {
			t.Fatal("the denied connection never reached accept")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// acceptEx posts an AcceptEx on l and returns its OVERLAPPED (with an
// event) and buffer.
func acceptEx(t *testing.T, s *api.Session, l, acc wsa.Socket) (*wsa.Overlapped, []byte) {
	t.Helper()
	ev, err := s.WSACreateEvent()
	must(t, err)
	ov := &wsa.Overlapped{HEvent: ev}
	buf := make([]byte, 2*(wsa.SizeofSockaddrInet4+16))
	err = s.AcceptEx(l, acc, buf, 0, wsa.SizeofSockaddrInet4+16, wsa.SizeofSockaddrInet4+16, nil, ov)
	wantErr(t, "AcceptEx", err, wsa.WSA_IO_PENDING)
	return ov, buf
}

// TestDenyInboundAcceptEx: a denied connection never completes the
// application's AcceptEx; once the denied peer closes, the accept socket
// takes the next, allowed, connection.
func TestDenyInboundAcceptEx(t *testing.T) {
	a, b, f := hosts(t, filter.Config{Rules: rules(t, "deny in tcp 198.18.0.2")})
	l := listener(t, a.Session, 80)
	acc := sock(t, a.Session, wsa.SOCK_STREAM)
	ov, buf := acceptEx(t, a.Session, l, acc)

	denied := sock(t, b.Session, wsa.SOCK_STREAM)
	must(t, b.Connect(denied, &wsa.SockaddrInet4{Port: 80, Addr: addrA}))
	// The filter shuts the connection down: the peer sees its end.
	must(t, b.SetsockoptInt(denied, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, 10000))
	n, err := b.Recv(denied, make([]byte, 8), 0)
	if err != nil || n != 0 {
		t.Fatalf("denied peer's recv: %d %v, want EOF", n, err)
	}
	var got, flags uint32
	wantErr(t, "AcceptEx after a denied connection", a.WSAGetOverlappedResult(l, ov, &got, false, &flags), wsa.WSA_IO_INCOMPLETE)
	must(t, b.Closesocket(denied))

	ok := sock(t, a.Session, wsa.SOCK_STREAM)
	must(t, a.Connect(ok, &wsa.SockaddrInet4{Port: 80, Addr: loop4}))
	must(t, a.WSAGetOverlappedResult(l, ov, &got, true, &flags))
	_, remote, err := api.GetAcceptExSockaddrs(buf, 0, wsa.SizeofSockaddrInet4+16, wsa.SizeofSockaddrInet4+16)
	must(t, err)
	if remote.AddrPort().Addr().As4() != loop4 {
		t.Fatalf("AcceptEx completed with %v, want the loopback peer", remote)
	}
	if f.Stats().DeniedIn != 1 {
		t.Errorf("stats %+v", f.Stats())
	}
}

// TestAcceptExRejectTimeout: a denied peer that keeps its connection open
// makes the AcceptEx fail WSAECONNRESET after RejectTimeout.
func TestAcceptExRejectTimeout(t *testing.T) {
	a, b, _ := hosts(t, filter.Config{Rules: rules(t, "deny in tcp 198.18.0.2"), RejectTimeout: 100 * time.Millisecond})
	l := listener(t, a.Session, 80)
	acc := sock(t, a.Session, wsa.SOCK_STREAM)
	port, err := a.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, 1)
	must(t, err)
	_, err = a.CreateIoCompletionPort(wsa.Handle(l), port, 7, 0)
	must(t, err)
	ov, _ := acceptEx(t, a.Session, l, acc)
	denied := sock(t, b.Session, wsa.SOCK_STREAM)
	must(t, b.Connect(denied, &wsa.SockaddrInet4{Port: 80, Addr: addrA}))
	var qty uint32
	var key uintptr
	var got *wsa.Overlapped
	err = a.GetQueuedCompletionStatus(port, &qty, &key, &got, waitMS)
	if got != ov || key != 7 || !errors.Is(err, wsa.ERROR_NETNAME_DELETED) {
		t.Fatalf("packet %p key %d: %v, want the AcceptEx with ERROR_NETNAME_DELETED", got, key, err)
	}
	var flags uint32
	wantErr(t, "WSAGetOverlappedResult", a.WSAGetOverlappedResult(l, ov, &qty, false, &flags), wsa.WSAECONNRESET)
}

// TestDenyInboundDatagrams: datagrams from a denied source are dropped,
// for blocking and overlapped receives.
func TestDenyInboundDatagrams(t *testing.T) {
	a, b, f := hosts(t, filter.Config{Rules: rules(t, "deny in udp 198.18.0.2")})
	u := sock(t, a.Session, wsa.SOCK_DGRAM)
	must(t, a.Bind(u, &wsa.SockaddrInet4{Port: 5353}))
	must(t, a.SetsockoptInt(u, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, 10000))
	bs := sock(t, b.Session, wsa.SOCK_DGRAM)
	as := sock(t, a.Session, wsa.SOCK_DGRAM)
	send := func() {
		t.Helper()
		_, err := b.Sendto(bs, []byte("denied"), 0, &wsa.SockaddrInet4{Port: 5353, Addr: addrA})
		must(t, err)
		time.Sleep(20 * time.Millisecond) // the denied one first
		_, err = a.Sendto(as, []byte("allowed"), 0, &wsa.SockaddrInet4{Port: 5353, Addr: loop4})
		must(t, err)
	}
	send()
	buf := make([]byte, 64)
	n, from, err := a.Recvfrom(u, buf, 0)
	must(t, err)
	if string(buf[:n]) != "allowed" || from.AddrPort().Addr().As4() != loop4 {
		t.Fatalf("recvfrom: %q from %v", buf[:n], from)
	}

	ev, err := a.WSACreateEvent()
	must(t, err)
	ov := &wsa.Overlapped{HEvent: ev}
	var got, flags uint32
	var src wsa.Sockaddr
	err = a.WSARecvFrom(u, [][]byte{buf}, &got, &flags, &src, ov, nil)
	wantErr(t, "overlapped WSARecvFrom", err, wsa.WSA_IO_PENDING)
	send()
	must(t, a.WSAGetOverlappedResult(u, ov, &got, true, &flags))
	if string(buf[:got]) != "allowed" || src.AddrPort().Addr().As4() != loop4 {
		t.Fatalf("overlapped recvfrom: %q from %v", buf[:got], src)
	}
	if f.Stats().DeniedIn != 2 {
		t.Errorf("stats %+v", f.Stats())
	}
}

// TestReload: rules come from a file, again on Reload; a file that does
// not parse leaves the rules in force.
func TestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules")
	must(t, os.WriteFile(path, []byte("# nothing denied\n"), 0o644))
	a, b, f := hosts(t, filter.Config{RulesFile: path})
	listener(t, b.Session, 7)
	c := sock(t, a.Session, wsa.SOCK_STREAM)
	must(t, a.Connect(c, &wsa.SockaddrInet4{Port: 7, Addr: addrB}))

	must(t, os.WriteFile(path, []byte("deny out tcp 198.18.0.2 7\n"), 0o644))
	must(t, f.Reload())
	c2 := sock(t, a.Session, wsa.SOCK_STREAM)
	wantErr(t, "connect after Reload", a.Connect(c2, &wsa.SockaddrInet4{Port: 7, Addr: addrB}), wsa.WSAEACCES)

	must(t, os.WriteFile(path, []byte("deny sideways\n"), 0o644))
	if err := f.Reload(); err == nil {
		t.Fatal("a bad file reloaded")
	}
	if len(f.Rules()) != 1 {
		t.Fatalf("rules after a failed Reload: %v", f.Rules())
	}
	f.SetRules(nil)
	must(t, a.Connect(c2, &wsa.SockaddrInet4{Port: 7, Addr: addrB}))

	if _, err := filter.New(a.Catalog, filter.Config{RulesFile: filepath.Join(t.TempDir(), "none")}); err == nil {
		t.Error("New with a missing rules file succeeded")
	}
}

// noGoroutinesIn fails t if goroutines running code of pkg (e.g.
// "lsp/shaper.") outlive the test's host (a few seconds' grace).
func noGoroutinesIn(t *testing.T, pkg string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, pkg) && !strings.Contains(g, "noGoroutinesIn") {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines in %s remain:\n%s", len(left), pkg, strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

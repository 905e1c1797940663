package netstack_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
)

func TestProtocols(t *testing.T) {
	ps := netstack.Protocols()
	want := []struct {
		name           string
		id             wsa.GUID
		af, typ, proto int32
		flags          uint32
		min, max       int32
		msgSize        uint32
		maxOffset      int32
	}{
		{"MSAFD Tcpip [TCP/IP]", wsa.MSAFD_TCPIP_PROVIDER_ID, wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, 0x20066, 16, 16, 0, 0},
		{"MSAFD Tcpip [UDP/IP]", wsa.MSAFD_TCPIP_PROVIDER_ID, wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, 0x20609, 16, 16, 0xFFBB, 0},
		{"MSAFD Tcpip [TCP/IPv6]", wsa.MSAFD_TCPIP6_PROVIDER_ID, wsa.AF_INET6, wsa.SOCK_STREAM, wsa.IPPROTO_TCP, 0x20066, 28, 28, 0, 0},
		{"MSAFD Tcpip [UDP/IPv6]", wsa.MSAFD_TCPIP6_PROVIDER_ID, wsa.AF_INET6, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP, 0x20609, 28, 28, 0xFFBB, 0},
		{"MSAFD Tcpip [RAW/IP]", wsa.MSAFD_TCPIP_PROVIDER_ID, wsa.AF_INET, wsa.SOCK_RAW, 0, 0x20609, 16, 16, 0x8000, 255},
		{"MSAFD Tcpip [RAW/IPv6]", wsa.MSAFD_TCPIP6_PROVIDER_ID, wsa.AF_INET6, wsa.SOCK_RAW, 0, 0x20609, 28, 28, 0x8000, 255},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d entries, want %d", len(ps), len(want))
	}
	for i, w := range want {
		p := ps[i]
		if p.ProtocolName != w.name || p.ProviderId != w.id || p.AddressFamily != w.af || p.SocketType != w.typ ||
			p.Protocol != w.proto || p.ServiceFlags1 != w.flags || p.MinSockAddr != w.min || p.MaxSockAddr != w.max ||
			p.MessageSize != w.msgSize || p.ProviderFlags != wsa.PFL_MATCHES_PROTOCOL_ZERO || p.Version != 2 ||
			p.ProtocolChain.ChainLen != 1 || p.ProtocolMaxOffset != w.maxOffset || p.NetworkByteOrder != wsa.BIGENDIAN ||
			p.SecurityScheme != wsa.SECURITY_PROTOCOL_NONE || p.ServiceFlags2 != 0 || p.ServiceFlags3 != 0 || p.ServiceFlags4 != 0 {
			t.Errorf("entry %d = %+v, want %+v", i, p, w)
		}
	}
	if wsa.MSAFD_TCPIP_PROVIDER_ID.String() != "{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}" ||
		wsa.MSAFD_TCPIP6_PROVIDER_ID.String() != "{F9EAB0C0-26D4-11D0-BBBF-00AA006C34E4}" {
		t.Error("provider GUIDs are not MSAFD's")
	}
}

func TestInstall(t *testing.T) {
	st := newStack(t)
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := netstack.Install(cat, netstack.DefaultPath, st); err != nil {
		t.Fatal(err)
	}
	got := cat.WSCEnumProtocols(nil)
	// The RAW entries come after the four of earlier versions, whose ids
	// stay (Windows puts RAW/IP at 1003; see InstallProtocols).
	names := []string{"MSAFD Tcpip [TCP/IP]", "MSAFD Tcpip [UDP/IP]", "MSAFD Tcpip [TCP/IPv6]", "MSAFD Tcpip [UDP/IPv6]",
		"MSAFD Tcpip [RAW/IP]", "MSAFD Tcpip [RAW/IPv6]"}
	for i, p := range got {
		if p.CatalogEntryId != uint32(1001+i) || p.ProtocolName != names[i] || p.ProtocolChain.ChainEntries[0] != p.CatalogEntryId {
			t.Errorf("entry %d: id %d name %q chain %v", i, p.CatalogEntryId, p.ProtocolName, p.ProtocolChain)
		}
	}
	if len(got) != 6 {
		t.Fatalf("%d entries installed", len(got))
	}
	for _, id := range []wsa.GUID{wsa.MSAFD_TCPIP_PROVIDER_ID, wsa.MSAFD_TCPIP6_PROVIDER_ID} {
		if p, err := cat.WSCGetProviderPath(id); err != nil || p != netstack.DefaultPath {
			t.Errorf("path of %v: %q %v", id, p, err)
		}
	}
	// socket(AF_INET, SOCK_STREAM, 0) selects TCP/IP through
	// PFL_MATCHES_PROTOCOL_ZERO.
	e, _, _, _, err := cat.Select(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 0)
	if err != nil || e.Info.CatalogEntryId != 1001 {
		t.Errorf("Select(AF_INET, SOCK_STREAM, 0) = %d, %v", e.Info.CatalogEntryId, err)
	}
	// socket(AF_INET, SOCK_RAW, n) selects RAW/IP for any n in 0..255, and
	// AF_INET6 RAW/IPv6; 256 matches nothing.
	for _, c := range []struct {
		af, proto int32
		id        uint32
	}{{wsa.AF_INET, wsa.IPPROTO_ICMP, 1005}, {wsa.AF_INET, 0, 1005}, {wsa.AF_INET, 255, 1005}, {wsa.AF_INET6, wsa.IPPROTO_ICMPV6, 1006}} {
		e, _, _, _, err := cat.Select(c.af, wsa.SOCK_RAW, c.proto, nil, 0)
		if err != nil || e.Info.CatalogEntryId != c.id {
			t.Errorf("Select(%d, SOCK_RAW, %d) = %d, %v; want %d", c.af, c.proto, e.Info.CatalogEntryId, err, c.id)
		}
	}
	if _, _, _, _, err := cat.Select(wsa.AF_INET, wsa.SOCK_RAW, 256, nil, 0); !errors.Is(err, wsa.WSAEPROTONOSUPPORT) {
		t.Errorf("Select(AF_INET, SOCK_RAW, 256): %v", err)
	}
	// The RAW entries share MSAFD's provider ids with TCP and UDP.
	for _, id := range []uint32{1005, 1006} {
		e, _ := cat.ByID(id)
		want := wsa.MSAFD_TCPIP_PROVIDER_ID
		if e.Info.AddressFamily == wsa.AF_INET6 {
			want = wsa.MSAFD_TCPIP6_PROVIDER_ID
		}
		if e.Info.ProviderId != want {
			t.Errorf("entry %d: provider id %v", id, e.Info.ProviderId)
		}
	}
	// A second Install under the same path fails and leaves nothing new.
	if err := netstack.Install(cat, netstack.DefaultPath, st); err == nil {
		t.Error("second Install succeeded")
	}
	if n := len(cat.WSCEnumProtocols(nil)); n != 6 {
		t.Errorf("%d entries after a failed Install", n)
	}
}

func TestStartup(t *testing.T) {
	st := newStack(t)
	p := netstack.New(st)
	up := providertest.NewUpcalls()
	info := netstack.Protocols()[0]
	for _, c := range []struct {
		version uint16
		want    error
	}{
		{wsa.MAKEWORD(1, 1), wsa.WSAVERNOTSUPPORTED},
		{wsa.MAKEWORD(2, 0), wsa.WSAVERNOTSUPPORTED},
		{wsa.MAKEWORD(2, 1), wsa.WSAVERNOTSUPPORTED},
		{wsa.MAKEWORD(0, 9), wsa.WSAVERNOTSUPPORTED},
	} {
		if _, _, err := p.Startup(c.version, &info, up); !errors.Is(err, c.want) {
			t.Errorf("Startup(%#x): %v, want %v", c.version, err, c.want)
		}
	}
	if _, _, err := p.Startup(wsa.WINSOCK_VERSION, &info, nil); err == nil {
		t.Error("Startup without an upcall table succeeded")
	}
	d, pt1, err := p.Startup(wsa.MAKEWORD(2, 2), &info, up)
	if err != nil || d.Version != 0x0202 || d.HighVersion != 0x0202 || d.Description == "" {
		t.Fatalf("Startup(2.2) = %+v, %v", d, err)
	}
	d, pt2, err := p.Startup(wsa.MAKEWORD(3, 0), &info, up)
	if err != nil || d.Version != 0x0202 {
		t.Fatalf("Startup(3.0) = %+v, %v", d, err)
	}
	if pt1 != pt2 {
		t.Error("two Startups with one upcall table gave different procedure tables")
	}

	// A socket made now is closed by the last WSPCleanup, and a call
	// blocked on it returns WSAEINTR.
	tcp := netstack.Protocols()[1] // UDP/IP, needs a catalog id: any will do here
	tcp.CatalogEntryId = 1002
	s, err := pt1.WSPSocket(wsa.AF_INET, wsa.SOCK_DGRAM, 0, &tcp, 0, wsa.WSA_FLAG_OVERLAPPED)
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := up.Socket(s); !ok || h.CatalogEntryID != 1002 {
		t.Fatalf("handle entry %+v %v", h, ok)
	}
	if err := pt1.WSPBind(s, &wsa.SockaddrInet4{}); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() {
		var flags uint32
		_, err := pt1.WSPRecv(s, [][]byte{make([]byte, 4)}, &flags, nil, nil, nil)
		blocked <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := pt1.WSPCleanup(); err != nil {
		t.Fatal(err)
	}
	if up.Sockets() != 1 {
		t.Fatal("first WSPCleanup closed the socket")
	}
	if err := pt1.WSPCleanup(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, wsa.WSAEINTR) {
			t.Errorf("blocked recv after WSPCleanup: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked recv did not return after WSPCleanup")
	}
	if up.Sockets() != 0 {
		t.Errorf("%d handles left after the last WSPCleanup", up.Sockets())
	}
	if err := pt1.WSPCleanup(); !errors.Is(err, wsa.WSANOTINITIALISED) {
		t.Errorf("extra WSPCleanup: %v", err)
	}
	if _, err := pt1.WSPSocket(wsa.AF_INET, wsa.SOCK_DGRAM, 0, &tcp, 0, 0); !errors.Is(err, wsa.WSANOTINITIALISED) {
		t.Errorf("WSPSocket after cleanup: %v", err)
	}
}

// netstackHosts returns a loopback host with its provider.
func loopbackHost(t *testing.T) (providertest.Host, *netstack.Provider, *stack.Stack) {
	t.Helper()
	st := newStack(t)
	if _, err := st.AddLoopback(stack.NICConfig{}); err != nil {
		t.Fatal(err)
	}
	h, p := host(t, st, lo4, lo6)
	return h, p, st
}

// sockets and small helpers for the provider-specific tests.
type tenv struct {
	t *testing.T
	h providertest.Host
}

func (e tenv) sock(af, typ int32) wsa.Socket {
	e.t.Helper()
	for _, p := range e.h.Protocols {
		if p.AddressFamily == af && p.SocketType == typ {
			s, err := e.h.Procs.WSPSocket(af, typ, 0, &p, 0, wsa.WSA_FLAG_OVERLAPPED)
			if err != nil {
				e.t.Fatal(err)
			}
			e.t.Cleanup(func() { _ = e.h.Procs.WSPCloseSocket(s) })
			return s
		}
	}
	e.t.Fatal("no entry")
	return 0
}

func (e tenv) pair() (wsa.Socket, wsa.Socket) {
	e.t.Helper()
	p := e.h.Procs
	l := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
	must(e.t, p.WSPBind(l, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	must(e.t, p.WSPListen(l, 5))
	name, err := p.WSPGetSockName(l)
	must(e.t, err)
	c := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
	must(e.t, p.WSPConnect(c, name, nil, nil, nil, nil))
	s, _, err := p.WSPAccept(l, nil, 0)
	must(e.t, err)
	e.t.Cleanup(func() { _ = p.WSPCloseSocket(s) })
	return c, s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func want(t *testing.T, err, w error, what string) {
	t.Helper()
	if !errors.Is(err, w) {
		t.Fatalf("%s: %v, want %v", what, err, w)
	}
}

// TestOutOfBand: gVisor has no TCP urgent data, so MSG_OOB is refused,
// SIOCATMARK always says "no urgent data", SO_OOBINLINE is only stored.
func TestOutOfBand(t *testing.T) {
	h, _, _ := loopbackHost(t)
	e := tenv{t, h}
	c, s := e.pair()
	p := h.Procs
	_, err := p.WSPSend(c, [][]byte{[]byte("!")}, wsa.MSG_OOB, nil, nil, nil)
	want(t, err, wsa.WSAEOPNOTSUPP, "send MSG_OOB")
	flags := uint32(wsa.MSG_OOB)
	_, err = p.WSPRecv(s, [][]byte{make([]byte, 1)}, &flags, nil, nil, nil)
	want(t, err, wsa.WSAEOPNOTSUPP, "recv MSG_OOB")
	on := []byte{1, 0, 0, 0}
	must(t, p.WSPSetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_OOBINLINE, on))
	flags = wsa.MSG_OOB
	_, err = p.WSPRecv(s, [][]byte{make([]byte, 1)}, &flags, nil, nil, nil)
	want(t, err, wsa.WSAEINVAL, "recv MSG_OOB with SO_OOBINLINE")
}

// TestNotYet covers what returns WSAEOPNOTSUPP until the I/O-model issue.
func TestNotYet(t *testing.T) {
	h, _, _ := loopbackHost(t)
	e := tenv{t, h}
	p := h.Procs
	s := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
	_, err := p.WSPDuplicateSocket(s, 1)
	want(t, err, wsa.WSAEOPNOTSUPP, "WSADuplicateSocket")
	_, err = p.WSPJoinLeaf(s, nil, nil, nil, nil, nil, 0)
	want(t, err, wsa.WSAEOPNOTSUPP, "WSAJoinLeaf")
	_, err = p.WSPGetQOSByName(s, nil)
	want(t, err, wsa.WSAEOPNOTSUPP, "WSAGetQOSByName")
	want(t, p.WSPCancelBlockingCall(), wsa.WSAEOPNOTSUPP, "WSACancelBlockingCall")
	want(t, p.WSPConnect(s, &wsa.SockaddrInet4{Port: 1, Addr: [4]byte{127, 0, 0, 1}}, []byte("data"), nil, nil, nil), wsa.WSAEOPNOTSUPP, "connect data")
	out := make([]byte, 8)
	n, err := p.WSPIoctl(s, wsa.SIO_BASE_HANDLE, nil, out, nil, nil, nil)
	if err != nil || n != 8 || wsa.Socket(out[0])|wsa.Socket(out[1])<<8 != s {
		t.Errorf("SIO_BASE_HANDLE = %v %d %v", out, n, err)
	}
}

// TestConnectTimeout: a handshake nobody answers fails WSAETIMEDOUT after
// the provider's connect timeout.
func TestConnectTimeout(t *testing.T) {
	a, b := newStack(t), newStack(t)
	_, _, err := stack.Pipe(a, b, 0,
		stack.NICConfig{Addrs: []netip.Prefix{netip.PrefixFrom(p4a, 24)}},
		stack.NICConfig{Addrs: []netip.Prefix{netip.PrefixFrom(p4b, 24)}})
	must(t, err)
	cli, prov := host(t, b, p4b, netip.Addr{})
	e := tenv{t, cli}
	p := cli.Procs
	nowhere := &wsa.SockaddrInet4{Port: 80, Addr: netip.MustParseAddr("198.18.0.99").As4()}
	prov.SetConnectTimeout(200 * time.Millisecond)
	s := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
	start := time.Now()
	want(t, p.WSPConnect(s, nowhere, nil, nil, nil, nil), wsa.WSAETIMEDOUT, "connect to a silent address")
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Errorf("connect timed out after %v", d)
	}
	// Non-blocking: SO_ERROR reports it.
	n := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
	_, err = p.WSPIoctl(n, wsa.FIONBIO, []byte{1, 0, 0, 0}, nil, nil, nil, nil)
	must(t, err)
	want(t, p.WSPConnect(n, nowhere, nil, nil, nil, nil), wsa.WSAEWOULDBLOCK, "non-blocking connect")
	want(t, p.WSPConnect(n, nowhere, nil, nil, nil, nil), wsa.WSAEALREADY, "connect while pending")
	deadline := time.Now().Add(5 * time.Second)
	b4 := make([]byte, 4)
	for {
		_, err := p.WSPGetSockOpt(n, wsa.SOL_SOCKET, wsa.SO_ERROR, b4)
		must(t, err)
		if v := wsa.Errno(uint32(b4[0]) | uint32(b4[1])<<8); v != 0 {
			if v != wsa.WSAETIMEDOUT {
				t.Fatalf("SO_ERROR = %v", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SO_ERROR never set")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConnectTupleInUse: a connection whose client closed first stays in
// TIME_WAIT on the client's port; binding that port again is allowed (the
// bind table holds open sockets only), but connecting it to the same peer
// again fails WSAEADDRINUSE, not WSAEADDRNOTAVAIL, on connect and on
// ConnectEx alike; the same socket can still connect to another peer.
func TestConnectTupleInUse(t *testing.T) {
	h, _, _ := loopbackHost(t)
	e := tenv{t, h}
	p := h.Procs
	listen := func() wsa.Sockaddr {
		l := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
		must(t, p.WSPBind(l, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
		must(t, p.WSPListen(l, 5))
		name, err := p.WSPGetSockName(l)
		must(t, err)
		return name
	}
	to := listen()
	first := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
	must(t, p.WSPConnect(first, to, nil, nil, nil, nil))
	from, err := p.WSPGetSockName(first)
	must(t, err)
	must(t, p.WSPCloseSocket(first)) // the client closes first: TIME_WAIT here

	c := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
	must(t, p.WSPBind(c, from))
	want(t, p.WSPConnect(c, to, nil, nil, nil, nil), wsa.WSAEADDRINUSE, "connect over a TIME_WAIT 4-tuple")
	must(t, p.WSPConnect(c, listen(), nil, nil, nil, nil))
	must(t, p.WSPCloseSocket(c)) // frees the port in the bind table

	x := e.sock(wsa.AF_INET, wsa.SOCK_STREAM)
	must(t, p.WSPBind(x, from))
	in, out := make([]byte, 16), make([]byte, 8)
	_ = wsa.WSAID_CONNECTEX.Marshal(in)
	_, err = p.WSPIoctl(x, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in, out, nil, nil, nil)
	must(t, err)
	fn, _ := provider.ExtensionFunction(uintptr(binary.LittleEndian.Uint64(out)))
	connectEx := fn.(provider.ConnectExFunc)
	want(t, connectEx(x, to, nil, nil, nil), wsa.WSAEADDRINUSE, "ConnectEx over a TIME_WAIT 4-tuple")
}

// TestEphemeralChurn: bind to port 0 then connect never fails while ports
// are free, however many recently closed connections still hold their
// ports in gVisor. The client closes first, so every connection leaves a
// TIME_WAIT on its client port; an ephemeral port must not be one of those
// (Windows hands out only ports no socket and no TCB holds). Were it
// chosen among them, about churnConns²/2 / 16,384 of the picks would land
// on one, and connect would fail (it failed WSAEADDRNOTAVAIL).
//
// It is not in providertest: on the host provider its TIME_WAITs would
// fill the kernel's ports, shared by every test, for a minute.
func TestEphemeralChurn(t *testing.T) {
	const churnConns = 2000
	for _, h := range []providertest.Harness{loopbackHarness(), pipeHarness()} {
		for af, fam := range map[int32]string{wsa.AF_INET: "IPv4", wsa.AF_INET6: "IPv6"} {
			t.Run(h.Name+"/"+fam, func(t *testing.T) {
				srv, cli := h.New(t)
				srvA, wild := srv.Addr4, netip.IPv4Unspecified()
				if af == wsa.AF_INET6 {
					srvA, wild = srv.Addr6, netip.IPv6Unspecified()
				}
				entry := func(h providertest.Host) wsa.ProtocolInfo {
					for _, p := range h.Protocols {
						if p.AddressFamily == af && p.SocketType == wsa.SOCK_STREAM {
							return p
						}
					}
					t.Fatal("no entry")
					return wsa.ProtocolInfo{}
				}
				sinfo, cinfo := entry(srv), entry(cli)
				p, sp := cli.Procs, srv.Procs
				l, err := sp.WSPSocket(af, wsa.SOCK_STREAM, 0, &sinfo, 0, wsa.WSA_FLAG_OVERLAPPED)
				must(t, err)
				must(t, sp.WSPBind(l, wsa.SockaddrFromAddrPort(netip.AddrPortFrom(srvA, 0))))
				must(t, sp.WSPListen(l, 5))
				to, err := sp.WSPGetSockName(l)
				must(t, err)
				from := wsa.SockaddrFromAddrPort(netip.AddrPortFrom(wild, 0))
				for i := range churnConns {
					c, err := p.WSPSocket(af, wsa.SOCK_STREAM, 0, &cinfo, 0, wsa.WSA_FLAG_OVERLAPPED)
					must(t, err)
					must(t, p.WSPBind(c, from))
					if err := p.WSPConnect(c, to, nil, nil, nil, nil); err != nil {
						n, _ := p.WSPGetSockName(c)
						t.Fatalf("connection %d from %v: connect: %v", i, n.AddrPort(), err)
					}
					s, _, err := sp.WSPAccept(l, nil, 0)
					must(t, err)
					must(t, p.WSPCloseSocket(c))
					must(t, sp.WSPCloseSocket(s))
				}
				must(t, sp.WSPCloseSocket(l))
			})
		}
	}
}

package providertest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Host is one host of a test: a started provider (Procs, from WSPStartup
// with Upcalls) and the catalog entries it serves, with their catalog ids
// assigned. Addr4 and Addr6 are the host's addresses; an invalid one skips
// the tests of that family.
type Host struct {
	Procs     provider.ProcTable
	Protocols []wsa.ProtocolInfo
	Addr4     netip.Addr
	Addr6     netip.Addr
	Upcalls   *Upcalls
}

// Harness makes the hosts of one test. New is called once per (sub)test,
// which should get fresh hosts (new stacks): tests bind fixed ports and
// count sockets. server and client may be the same Host (loopback). New
// registers its own cleanup with t.
//
// Unroutable4 and Unroutable6, if valid, are addresses the client has no
// route to (connect fails WSAENETUNREACH or WSAEHOSTUNREACH at once); the
// tests needing them are skipped otherwise.
type Harness struct {
	Name                     string
	New                      func(t *testing.T) (server, client Host)
	Unroutable4, Unroutable6 netip.Addr
}

// Run runs the Winsock-semantics suite against h: every rule of spec §5
// that is a base provider's behaviour, with the exact Winsock errors, over
// IPv4 and IPv6. Subtests run in parallel, each on fresh hosts.
func Run(t *testing.T, h Harness) {
	t.Run(h.Name, func(t *testing.T) {
		for _, g := range groups {
			t.Run(g.name, func(t *testing.T) {
				for _, c := range g.cases {
					t.Run(c.name, func(t *testing.T) {
						for _, fam := range []int32{wsa.AF_INET, wsa.AF_INET6} {
							if c.only != 0 && c.only != fam {
								continue
							}
							t.Run(famName(fam), func(t *testing.T) {
								t.Parallel()
								srv, cli := h.New(t)
								e := newEnv(t, h, srv, cli, fam)
								if e == nil {
									return
								}
								c.fn(e)
							})
						}
					})
				}
			})
		}
	})
}

// testCase is one test of the suite; only restricts it to one family.
type testCase struct {
	name string
	only int32
	fn   func(e *env)
}

type group struct {
	name  string
	cases []testCase
}

// groups is filled by the suite_*.go files.
var groups []group

func addGroup(name string, cases ...testCase) bool {
	groups = append(groups, group{name, cases})
	return true
}

func famName(af int32) string {
	if af == wsa.AF_INET {
		return "IPv4"
	}
	return "IPv6"
}

// env is one test's view: the hosts, the family, and helpers that make WSP
// calls readable. Helpers fail the test on unexpected errors.
type env struct {
	t          *testing.T
	h          Harness
	srv, cli   Host
	af         int32
	srvA, cliA netip.Addr // the hosts' addresses in the family
}

func newEnv(t *testing.T, h Harness, srv, cli Host, af int32) *env {
	e := &env{t: t, h: h, srv: srv, cli: cli, af: af}
	if af == wsa.AF_INET {
		e.srvA, e.cliA = srv.Addr4, cli.Addr4
	} else {
		e.srvA, e.cliA = srv.Addr6, cli.Addr6
	}
	if !e.srvA.IsValid() || !e.cliA.IsValid() {
		t.Skipf("hosts have no %s address", famName(af))
		return nil
	}
	return e
}

// other returns the other family.
func other(af int32) int32 {
	if af == wsa.AF_INET {
		return wsa.AF_INET6
	}
	return wsa.AF_INET
}

// entry finds the catalog entry of h for (af, typ): a base entry, or a
// chain entry for a host that is a protocol chain (see ChainHarness).
func (e *env) entry(h Host, af, typ int32) wsa.ProtocolInfo {
	e.t.Helper()
	for _, p := range h.Protocols {
		if p.AddressFamily == af && p.SocketType == typ && !p.IsLayered() {
			return p
		}
	}
	e.t.Fatalf("no catalog entry for af %d type %d", af, typ)
	return wsa.ProtocolInfo{}
}

// sockOf makes a socket of family af (closed at the end of the test).
func (e *env) sockOf(h Host, af, typ int32) wsa.Socket {
	e.t.Helper()
	info := e.entry(h, af, typ)
	s, err := h.Procs.WSPSocket(af, typ, 0, &info, 0, wsa.WSA_FLAG_OVERLAPPED)
	if err != nil {
		e.t.Fatalf("WSPSocket(%d, %d): %v", af, typ, err)
	}
	e.t.Cleanup(func() { _ = h.Procs.WSPCloseSocket(s) })
	return s
}

// sock makes a socket of the test's family on h.
func (e *env) sock(h Host, typ int32) wsa.Socket { e.t.Helper(); return e.sockOf(h, e.af, typ) }

// sa makes a sockaddr of the family of a (v4-mapped addresses stay IPv6).
func sa(a netip.Addr, port int) wsa.Sockaddr {
	return wsa.SockaddrFromAddrPort(netip.AddrPortFrom(a, uint16(port)))
}

// any returns the unspecified address of the test's family.
func (e *env) anyAddr() netip.Addr {
	if e.af == wsa.AF_INET {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// nonLocal is an address no test host has.
func (e *env) nonLocal() netip.Addr {
	if e.af == wsa.AF_INET {
		return netip.MustParseAddr("192.0.2.123")
	}
	return netip.MustParseAddr("2001:db8:ffff::123")
}

// check fails the test if err is not want (nil for success).
func (e *env) check(err error, want error, what string) {
	e.t.Helper()
	if want == nil {
		if err != nil {
			e.t.Fatalf("%s: %v (%s)", what, err, errName(err))
		}
		return
	}
	if !errors.Is(err, want) {
		e.t.Fatalf("%s: got %v (%s), want %v (%s)", what, err, errName(err), want, errName(want))
	}
}

func errName(err error) string {
	var en wsa.Errno
	if errors.As(err, &en) {
		return en.Name()
	}
	if err == nil {
		return "nil"
	}
	return "not an Errno"
}

func (e *env) bind(h Host, s wsa.Socket, a netip.Addr, port int) {
	e.t.Helper()
	e.check(h.Procs.WSPBind(s, sa(a, port)), nil, "bind")
}

func (e *env) name(h Host, s wsa.Socket) netip.AddrPort {
	e.t.Helper()
	n, err := h.Procs.WSPGetSockName(s)
	e.check(err, nil, "getsockname")
	return n.AddrPort()
}

func (e *env) port(h Host, s wsa.Socket) int { e.t.Helper(); return int(e.name(h, s).Port()) }

// listener makes a listening TCP socket on the server bound to its address
// and an ephemeral port, and returns it with the address to connect to.
func (e *env) listener() (wsa.Socket, wsa.Sockaddr) {
	e.t.Helper()
	l := e.sock(e.srv, wsa.SOCK_STREAM)
	e.bind(e.srv, l, e.srvA, 0)
	e.check(e.srv.Procs.WSPListen(l, wsa.SOMAXCONN), nil, "listen")
	return l, sa(e.srvA, e.port(e.srv, l))
}

func (e *env) connect(h Host, s wsa.Socket, to wsa.Sockaddr) error {
	return h.Procs.WSPConnect(s, to, nil, nil, nil, nil)
}

func (e *env) accept(l wsa.Socket) wsa.Socket {
	e.t.Helper()
	c, _, err := e.srv.Procs.WSPAccept(l, nil, 0)
	e.check(err, nil, "accept")
	e.t.Cleanup(func() { _ = e.srv.Procs.WSPCloseSocket(c) })
	return c
}

// pair returns a connected TCP pair: the client's socket and the server's
// accepted one.
func (e *env) pair() (cli, srv wsa.Socket) {
	e.t.Helper()
	l, to := e.listener()
	c := e.sock(e.cli, wsa.SOCK_STREAM)
	e.check(e.connect(e.cli, c, to), nil, "connect")
	return c, e.accept(l)
}

// udp makes a UDP socket on h bound to its address and an ephemeral port.
func (e *env) udp(h Host) (wsa.Socket, wsa.Sockaddr) {
	e.t.Helper()
	s := e.sock(h, wsa.SOCK_DGRAM)
	a := e.cliA
	if h.Addr4 == e.srv.Addr4 && h.Addr6 == e.srv.Addr6 {
		a = e.srvA
	}
	e.bind(h, s, a, 0)
	return s, sa(a, e.port(h, s))
}

func (e *env) send(h Host, s wsa.Socket, data []byte) {
	e.t.Helper()
	n, err := h.Procs.WSPSend(s, [][]byte{data}, 0, nil, nil, nil)
	e.check(err, nil, "send")
	if int(n) != len(data) {
		e.t.Fatalf("send: %d of %d bytes", n, len(data))
	}
}

func (e *env) sendTo(h Host, s wsa.Socket, data []byte, to wsa.Sockaddr) {
	e.t.Helper()
	n, err := h.Procs.WSPSendTo(s, [][]byte{data}, 0, to, nil, nil, nil)
	e.check(err, nil, "sendto")
	if int(n) != len(data) {
		e.t.Fatalf("sendto: %d of %d bytes", n, len(data))
	}
}

func (e *env) recv(h Host, s wsa.Socket, buf []byte, flags uint32) (int, error) {
	n, err := h.Procs.WSPRecv(s, [][]byte{buf}, &flags, nil, nil, nil)
	return int(n), err
}

// recvFull reads exactly len(want) bytes (with a time-out) and compares.
func (e *env) recvFull(h Host, s wsa.Socket, want []byte) {
	e.t.Helper()
	e.setTimeout(h, s, wsa.SO_RCVTIMEO, 10*time.Second)
	got := make([]byte, 0, len(want))
	buf := make([]byte, len(want))
	for len(got) < len(want) {
		n, err := e.recv(h, s, buf[:len(want)-len(got)], 0)
		e.check(err, nil, "recv")
		if n == 0 {
			e.t.Fatalf("recv: connection closed after %d of %d bytes", len(got), len(want))
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, want) {
		e.t.Fatalf("recv: got %q, want %q", got, want)
	}
}

// recvEOF expects the peer's FIN: recv returns 0.
func (e *env) recvEOF(h Host, s wsa.Socket) {
	e.t.Helper()
	e.setTimeout(h, s, wsa.SO_RCVTIMEO, 10*time.Second)
	n, err := e.recv(h, s, make([]byte, 16), 0)
	e.check(err, nil, "recv at EOF")
	if n != 0 {
		e.t.Fatalf("recv at EOF: %d bytes", n)
	}
}

// recvErr reads (discarding data) until recv fails, and checks the error.
func (e *env) recvErr(h Host, s wsa.Socket, want error) {
	e.t.Helper()
	e.setTimeout(h, s, wsa.SO_RCVTIMEO, 10*time.Second)
	buf := make([]byte, 64<<10)
	for {
		n, err := e.recv(h, s, buf, 0)
		if err != nil {
			e.check(err, want, "recv")
			return
		}
		if n == 0 {
			e.t.Fatalf("recv: got EOF, want %v", want)
		}
	}
}

func (e *env) setInt(h Host, s wsa.Socket, level, name int32, v int32) error {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, uint32(v))
	return h.Procs.WSPSetSockOpt(s, level, name, b)
}

func (e *env) mustSetInt(h Host, s wsa.Socket, level, name int32, v int32) {
	e.t.Helper()
	e.check(e.setInt(h, s, level, name, v), nil, "setsockopt")
}

func (e *env) getInt(h Host, s wsa.Socket, level, name int32) int32 {
	e.t.Helper()
	b := make([]byte, 4)
	n, err := h.Procs.WSPGetSockOpt(s, level, name, b)
	e.check(err, nil, "getsockopt")
	if n != 4 {
		e.t.Fatalf("getsockopt(%d, %d): length %d, want 4", level, name, n)
	}
	return int32(binary.LittleEndian.Uint32(b))
}

func (e *env) setTimeout(h Host, s wsa.Socket, name int32, d time.Duration) {
	e.t.Helper()
	e.mustSetInt(h, s, wsa.SOL_SOCKET, name, int32(d/time.Millisecond))
}

func (e *env) setLinger(h Host, s wsa.Socket, onoff, secs uint16) {
	e.t.Helper()
	b := make([]byte, wsa.SizeofLinger)
	_ = wsa.Linger{Onoff: onoff, Linger: secs}.Marshal(b)
	e.check(h.Procs.WSPSetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_LINGER, b), nil, "SO_LINGER")
}

func (e *env) getLinger(h Host, s wsa.Socket) wsa.Linger {
	e.t.Helper()
	b := make([]byte, wsa.SizeofLinger)
	n, err := h.Procs.WSPGetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_LINGER, b)
	e.check(err, nil, "get SO_LINGER")
	if n != wsa.SizeofLinger {
		e.t.Fatalf("SO_LINGER length %d", n)
	}
	l, _ := wsa.UnmarshalLinger(b)
	return l
}

func (e *env) ioctl(h Host, s wsa.Socket, code uint32, in []byte, outLen int) ([]byte, error) {
	out := make([]byte, outLen)
	n, err := h.Procs.WSPIoctl(s, code, in, out, nil, nil, nil)
	return out[:n], err
}

func (e *env) setNonblocking(h Host, s wsa.Socket, on bool) {
	e.t.Helper()
	in := make([]byte, 4)
	if on {
		in[0] = 1
	}
	_, err := e.ioctl(h, s, wsa.FIONBIO, in, 0)
	e.check(err, nil, "FIONBIO")
}

func (e *env) fionread(h Host, s wsa.Socket) int {
	e.t.Helper()
	out, err := e.ioctl(h, s, wsa.FIONREAD, nil, 4)
	e.check(err, nil, "FIONREAD")
	if len(out) != 4 {
		e.t.Fatalf("FIONREAD wrote %d bytes", len(out))
	}
	return int(binary.LittleEndian.Uint32(out))
}

// eventually polls cond (a test may poll; providers may not) until it holds
// or 10 s pass.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// async runs fn in a goroutine and returns a channel with its error.
func async(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() {
		asyncGoroutines.Store((<-chan error)(ch), currentGoroutine())
		defer asyncGoroutines.Delete((<-chan error)(ch))
		ch <- fn()
	}()
	return ch
}

// await waits up to 10 s for an async result.
func (e *env) await(ch <-chan error, what string) error {
	e.t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		e.t.Fatalf("%s did not return", what)
		return nil
	}
}

// pastBuffers is the size of a send made after fill that must not complete
// while the peer does not read: more than any send and receive buffer
// (gVisor's or the kernel's, auto-tuned) could still take.
const pastBuffers = 16 << 20

// fill makes s non-blocking and sends until nothing more fits, the peer not
// reading: until, after a pause for the data in flight to be acknowledged,
// not a byte more is accepted. It returns the bytes sent.
func (e *env) fill(h Host, s wsa.Socket) int {
	e.t.Helper()
	e.setNonblocking(h, s, true)
	chunk := make([]byte, 64<<10)
	total, idle := 0, 0
	for round := 0; round < 100; round++ {
		sent := 0
		for i := 0; ; i++ {
			if i == 4096 {
				e.t.Fatalf("send buffer never filled (%d bytes)", total)
			}
			n, err := h.Procs.WSPSend(s, [][]byte{chunk}, 0, nil, nil, nil)
			sent += int(n)
			if errors.Is(err, wsa.WSAEWOULDBLOCK) {
				break
			}
			e.check(err, nil, "send while filling")
		}
		total += sent
		// Two quiet rounds in a row: what was in flight has landed in the
		// peer's receive buffer (a loaded machine can hold it longer than
		// one round).
		if idle = idle + 1; sent > 0 {
			idle = 0
		}
		if idle == 2 {
			return total
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("the connection kept taking data (%d bytes)", total)
	return 0
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

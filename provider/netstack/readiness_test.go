package netstack

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
)

// start returns a procedure table over a fresh loopback stack.
func start(t *testing.T) (provider.ProcTable, *providertest.Upcalls) {
	t.Helper()
	st, err := stack.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	up := providertest.NewUpcalls()
	p := New(st)
	_, pt, err := p.Startup(wsa.WINSOCK_VERSION, nil, up)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pt.WSPCleanup() })
	return pt, up
}

func newSock(t *testing.T, pt provider.ProcTable, typ int32) wsa.Socket {
	t.Helper()
	info := Protocols()[0]
	if typ == wsa.SOCK_DGRAM {
		info = Protocols()[1]
	}
	s, err := pt.WSPSocket(wsa.AF_INET, typ, 0, &info, 0, wsa.WSA_FLAG_OVERLAPPED)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sockOf(t *testing.T, up *providertest.Upcalls, h wsa.Socket) *socket {
	t.Helper()
	ctx, err := up.WPUQuerySocketHandleContext(h)
	if err != nil {
		t.Fatal(err)
	}
	return ctx.(*socket)
}

// waitCond waits for a socket's conditions to satisfy f, blocking on the
// readiness core between checks, as select will.
func waitCond(t *testing.T, s *socket, what string, f func(conditions) bool) conditions {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		ch := s.rd.Changed()
		c := s.conditions()
		if f(c) {
			return c
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; conditions %+v", what, c)
		}
	}
}

func TestConditions(t *testing.T) {
	pt, up := start(t)
	lo := &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	l := newSock(t, pt, wsa.SOCK_STREAM)
	if err := pt.WSPBind(l, lo); err != nil {
		t.Fatal(err)
	}
	if err := pt.WSPListen(l, 5); err != nil {
		t.Fatal(err)
	}
	ls := sockOf(t, up, l)
	if c := ls.conditions(); c.Accept || c.Readable {
		t.Fatalf("idle listener: %+v", c)
	}
	name, _ := pt.WSPGetSockName(l)

	c := newSock(t, pt, wsa.SOCK_STREAM)
	cs := sockOf(t, up, c)
	if _, err := pt.WSPIoctl(c, wsa.FIONBIO, []byte{1, 0, 0, 0}, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := pt.WSPConnect(c, name, nil, nil, nil, nil); !errors.Is(err, wsa.WSAEWOULDBLOCK) {
		t.Fatalf("connect: %v", err)
	}
	waitCond(t, cs, "connected and writable", func(c conditions) bool { return c.Connected && c.Writable })
	waitCond(t, ls, "a connection to accept", func(c conditions) bool { return c.Accept && c.Readable })
	s, _, err := pt.WSPAccept(l, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ss := sockOf(t, up, s)
	if c := ss.conditions(); c.Readable || !c.Writable || !c.Connected || c.Closed {
		t.Fatalf("fresh accepted socket: %+v", c)
	}
	if _, err := pt.WSPSend(c, [][]byte{[]byte("x")}, 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitCond(t, ss, "readable", func(c conditions) bool { return c.Readable })
	if err := pt.WSPShutdown(c, wsa.SD_SEND); err != nil {
		t.Fatal(err)
	}
	waitCond(t, ss, "closed by the peer", func(c conditions) bool { return c.Closed && c.Readable })

	// A failed connect.
	f := newSock(t, pt, wsa.SOCK_STREAM)
	fs := sockOf(t, up, f)
	if _, err := pt.WSPIoctl(f, wsa.FIONBIO, []byte{1, 0, 0, 0}, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := pt.WSPCloseSocket(l); err != nil {
		t.Fatal(err)
	}
	if err := pt.WSPConnect(f, name, nil, nil, nil, nil); !errors.Is(err, wsa.WSAEWOULDBLOCK) {
		t.Fatalf("connect: %v", err)
	}
	cf := waitCond(t, fs, "failure", func(c conditions) bool { return c.Failed != nil })
	if cf.Failed != wsa.WSAECONNREFUSED {
		t.Fatalf("failed with %v", cf.Failed)
	}
	if c := ls.conditions(); c != (conditions{}) {
		t.Fatalf("closed socket conditions %+v", c)
	}
}

func TestBlockInterrupt(t *testing.T) {
	pt, up := start(t)
	d := newSock(t, pt, wsa.SOCK_DGRAM)
	if err := pt.WSPBind(d, &wsa.SockaddrInet4{}); err != nil {
		t.Fatal(err)
	}
	s := sockOf(t, up, d)
	// Time-out.
	start := time.Now()
	err := s.rd.Block(false, 30*time.Millisecond, func() error { return wsa.WSAEWOULDBLOCK })
	if err != wsa.WSAETIMEDOUT || time.Since(start) < 25*time.Millisecond {
		t.Fatalf("block with a time-out: %v after %v", err, time.Since(start))
	}
	// Non-blocking: one try.
	tries := 0
	if err := s.rd.Block(true, 0, func() error { tries++; return wsa.WSAEWOULDBLOCK }); err != wsa.WSAEWOULDBLOCK || tries != 1 {
		t.Fatalf("non-blocking: %v after %d tries", err, tries)
	}
	// An event wakes the waiter, which tries again.
	tries = 0
	done := make(chan error, 1)
	go func() {
		done <- s.rd.Block(false, 0, func() error {
			tries++
			if tries == 3 { // the first try, the armed one, then after the event
				return nil
			}
			return wsa.WSAEWOULDBLOCK
		})
	}()
	var err2 error
	for waiting := true; waiting; {
		s.rd.NotifyEvent(0)
		select {
		case err2 = <-done:
			waiting = false
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := err2; err != nil || tries != 3 {
		t.Fatalf("after an event: %v, %d tries", err, tries)
	}
	// Close ends the wait with WSAEINTR; nothing polls meanwhile.
	tries = 0
	go func() { done <- s.rd.Block(false, 0, func() error { tries++; return wsa.WSAEWOULDBLOCK }) }()
	time.Sleep(20 * time.Millisecond)
	if err := pt.WSPCloseSocket(d); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != wsa.WSAEINTR || tries > 2 {
		t.Fatalf("after close: %v, %d tries", err, tries)
	}
	if err := s.rd.Block(false, 0, func() error { return nil }); err != wsa.WSAEINTR {
		t.Fatalf("block on a closed socket: %v", err)
	}
}

// TestNonOverlappedIgnoresTimeouts: SO_RCVTIMEO only applies to overlapped
// sockets (WSA_FLAG_OVERLAPPED).
func TestNonOverlappedIgnoresTimeouts(t *testing.T) {
	pt, _ := start(t)
	info := Protocols()[1]
	d, err := pt.WSPSocket(wsa.AF_INET, wsa.SOCK_DGRAM, 0, &info, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := pt.WSPBind(d, &wsa.SockaddrInet4{}); err != nil {
		t.Fatal(err)
	}
	if err := pt.WSPSetSockOpt(d, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, []byte{10, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var flags uint32
		_, err := pt.WSPRecv(d, [][]byte{make([]byte, 4)}, &flags, nil, nil, nil)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("recv on a non-overlapped socket timed out: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	_ = pt.WSPCloseSocket(d)
	if err := <-done; !errors.Is(err, wsa.WSAEINTR) {
		t.Fatalf("recv after close: %v", err)
	}
}

// TestDatagramQuirks documents where gVisor limits what Winsock reports:
// FIONREAD is the size of the next datagram, not of all queued ones, and an
// ICMP port unreachable reaches only connected sockets.
func TestDatagramQuirks(t *testing.T) {
	pt, _ := start(t)
	a := newSock(t, pt, wsa.SOCK_DGRAM)
	lo := &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := pt.WSPBind(a, lo); err != nil {
		t.Fatal(err)
	}
	to, _ := pt.WSPGetSockName(a)
	b := newSock(t, pt, wsa.SOCK_DGRAM)
	for _, n := range []int{3, 5} {
		if _, err := pt.WSPSendTo(b, [][]byte{make([]byte, n)}, 0, to, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]byte, 4)
	if _, err := pt.WSPIoctl(a, wsa.FIONREAD, nil, out, nil, nil, nil); err != nil || out[0] != 3 {
		t.Fatalf("FIONREAD = %v, %v (gVisor: the next datagram's size)", out, err)
	}

	// Unconnected: no WSAECONNRESET (Windows would report one).
	if err := pt.WSPCloseSocket(a); err != nil {
		t.Fatal(err)
	}
	if _, err := pt.WSPSendTo(b, [][]byte{[]byte("x")}, 0, to, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := pt.WSPSetSockOpt(b, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, []byte{50, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	var flags uint32
	if _, err := pt.WSPRecv(b, [][]byte{make([]byte, 4)}, &flags, nil, nil, nil); !errors.Is(err, wsa.WSAETIMEDOUT) {
		t.Fatalf("unconnected recv after ICMP: %v", err)
	}
}

func TestScatterWriter(t *testing.T) {
	a, b, c := make([]byte, 2), make([]byte, 0), make([]byte, 3)
	w := &scatterWriter{bufs: [][]byte{a, b, c}}
	if n, err := w.Write([]byte("ab")); n != 2 || err != nil {
		t.Fatal(n, err)
	}
	if n, err := w.Write([]byte("cdefg")); n != 3 || err != io.ErrShortWrite {
		t.Fatal(n, err)
	}
	if !w.full() || w.n != 5 || w.total != 5 || string(a)+string(c) != "abcde" {
		t.Fatalf("stream writer: %+v %q %q", w, a, c)
	}
	d := &scatterWriter{bufs: [][]byte{make([]byte, 4)}, discard: true}
	if n, err := d.Write([]byte("0123456789")); n != 10 || err != nil || d.n != 4 || d.total != 10 {
		t.Fatalf("datagram writer: %d %v %+v", n, err, d)
	}
}

func TestGatherReader(t *testing.T) {
	bufs := [][]byte{[]byte("ab"), nil, []byte("cde"), []byte("f")}
	for skip := 0; skip <= 6; skip++ {
		r := newGatherReader(bufs, skip)
		if r.Len() != 6-skip {
			t.Fatalf("skip %d: Len %d", skip, r.Len())
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, []byte("abcdef")[skip:]) || r.Len() != 0 {
			t.Fatalf("skip %d: %q %v", skip, got, err)
		}
	}
	r := newGatherReader(bufs, 1)
	p := make([]byte, 3)
	if n, _ := r.Read(p); n != 3 || string(p) != "bcd" || r.Len() != 2 {
		t.Fatalf("partial read %q, Len %d", p[:n], r.Len())
	}
}

func TestObservers(t *testing.T) {
	var r readiness
	r.init()
	var a, b int
	removeA := r.AddObserver(func(wsp.Event) { a++ })
	r.AddObserver(func(wsp.Event) { b++ })
	r.NotifyEvent(waiter.EventIn)
	removeA()
	r.NotifyEvent(waiter.EventIn)
	if a != 1 || b != 2 {
		t.Fatalf("observer calls a=%d b=%d", a, b)
	}
}

// TestImports checks the layering rules of DESIGN.md for the packages here.
func TestImports(t *testing.T) {
	for pkg, banned := range map[string][]string{
		"github.com/ws2go/ws2/provider/netstack":     {"github.com/ws2go/ws2/api"},
		"github.com/ws2go/ws2/provider/providertest": {"github.com/ws2go/ws2/api", "github.com/ws2go/ws2/provider/netstack", "github.com/ws2go/ws2/stack", "gvisor.dev/"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Skipf("go list: %v", err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range banned {
				if dep == b || strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b) {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}

// conditions is what socket.conditions returns.
type conditions = wsp.Conditions

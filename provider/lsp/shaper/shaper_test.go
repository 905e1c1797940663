package shaper_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider/lsp/shaper"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/wsa"
)

// host is a loopback host with the shaper over every entry.
func host(t *testing.T, l shaper.Limits) (*ws2.Host, *shaper.Shaper) {
	t.Helper()
	t.Cleanup(func() { noGoroutinesIn(t, "lsp/shaper.") }) // after Close
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	var ids []uint32
	for _, p := range h.Catalog.WSCEnumProtocols(nil) {
		ids = append(ids, p.CatalogEntryId)
	}
	sh, err := shaper.Install(h.Catalog, shaper.Config{Limits: l}, ids)
	if err != nil {
		t.Fatal(err)
	}
	return h, sh
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var loop4 = [4]byte{127, 0, 0, 1}

// pair returns a connected TCP pair (client, server side).
func pair(t *testing.T, s *api.Session) (wsa.Socket, wsa.Socket) {
	t.Helper()
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	defer s.Closesocket(l)
	must(t, s.Bind(l, &wsa.SockaddrInet4{Addr: loop4}))
	must(t, s.Listen(l, 1))
	to, err := s.Getsockname(l)
	must(t, err)
	c, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Connect(c, to))
	a, _, err := s.Accept(l)
	must(t, err)
	t.Cleanup(func() { _ = s.Closesocket(c); _ = s.Closesocket(a) })
	return c, a
}

// drain reads n bytes from s in a goroutine; the channel gets the error.
func drain(s *api.Session, h wsa.Socket, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for got := 0; got < n; {
			k, err := s.Recv(h, buf, 0)
			if err != nil {
				done <- err
				return
			}
			if k == 0 {
				done <- errors.New("EOF")
				return
			}
			got += int(k)
		}
		done <- nil
	}()
	return done
}

// TestSocketRate: 1 MB at 4 MB/s (bucket 64 KiB) takes at least 0.2 s. Only
// a lower bound is asserted: a slow machine only makes it longer.
func TestSocketRate(t *testing.T) {
	h, _ := host(t, shaper.Limits{SocketRate: 4 << 20, SocketBurst: 64 << 10})
	c, a := pair(t, h.Session)
	const total = 1 << 20
	done := drain(h.Session, a, total)
	chunk := make([]byte, 64<<10)
	start := time.Now()
	for sent := 0; sent < total; sent += len(chunk) {
		if _, err := h.Send(c, chunk, 0); err != nil {
			t.Fatal(err)
		}
	}
	must(t, <-done)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("1 MB at 4 MB/s took %v, want at least 0.2 s", d)
	}
}

// TestEntryRate: two sockets of one entry share its bucket: 2 × 512 KiB at
// 4 MB/s take at least 0.2 s too.
func TestEntryRate(t *testing.T) {
	h, _ := host(t, shaper.Limits{EntryRate: 4 << 20, EntryBurst: 64 << 10})
	c1, a1 := pair(t, h.Session)
	c2, a2 := pair(t, h.Session)
	const each = 512 << 10
	d1, d2 := drain(h.Session, a1, each), drain(h.Session, a2, each)
	start := time.Now()
	errs := make(chan error, 2)
	for _, c := range []wsa.Socket{c1, c2} {
		go func() {
			chunk := make([]byte, 32<<10)
			for sent := 0; sent < each; sent += len(chunk) {
				if _, err := h.Send(c, chunk, 0); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for _, ch := range []<-chan error{errs, errs, d1, d2} {
		must(t, <-ch)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("2 × 512 KiB at 4 MB/s took %v, want at least 0.2 s", d)
	}
}

// received sends 200 numbered datagrams and returns the numbers that
// arrived.
func received(t *testing.T, s *api.Session) []int {
	t.Helper()
	r, err := s.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, 0)
	must(t, err)
	defer s.Closesocket(r)
	must(t, s.Bind(r, &wsa.SockaddrInet4{Addr: loop4}))
	to, _ := s.Getsockname(r)
	u, err := s.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, 0)
	must(t, err)
	defer s.Closesocket(u)
	for i := range 200 {
		if n, err := s.Sendto(u, []byte{byte(i)}, 0, to); err != nil || n != 1 {
			t.Fatalf("sendto %d: %d %v", i, n, err)
		}
	}
	var got []int
	must(t, s.SetsockoptInt(r, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, 200))
	buf := make([]byte, 4)
	for {
		n, _, err := s.Recvfrom(r, buf, 0)
		if errors.Is(err, wsa.WSAETIMEDOUT) {
			return got
		}
		must(t, err)
		if n == 1 {
			got = append(got, int(buf[0]))
		}
	}
}

// TestLoss: datagrams are lost with the probability given, and the same
// seed loses the same ones.
func TestLoss(t *testing.T) {
	h, sh := host(t, shaper.Limits{Loss: 0.5, Seed: 42})
	first := received(t, h.Session)
	if n := len(first); n < 60 || n > 140 {
		t.Fatalf("%d of 200 datagrams arrived with loss 0.5", n)
	}
	sh.SetLimits(shaper.Limits{Loss: 0.5, Seed: 42})
	if again := received(t, h.Session); !slices.Equal(first, again) {
		t.Fatalf("the same seed lost other datagrams:\n%v\n%v", first, again)
	}
	sh.SetLimits(shaper.Limits{Loss: 0.5, Seed: 43})
	if other := received(t, h.Session); slices.Equal(first, other) {
		t.Fatal("another seed lost the same datagrams")
	}
	sh.SetLimits(shaper.Limits{})
	if all := received(t, h.Session); len(all) != 200 {
		t.Fatalf("%d of 200 datagrams arrived without loss", len(all))
	}
}

// TestDelay: every send is handed down Delay after it was issued; queued
// overlapped sends keep their order.
func TestDelay(t *testing.T) {
	const delay = 100 * time.Millisecond
	h, _ := host(t, shaper.Limits{Delay: delay})
	c, a := pair(t, h.Session)
	start := time.Now()
	if _, err := h.Send(c, []byte("a"), 0); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < delay {
		t.Fatalf("a blocking send returned after %v, want at least %v", d, delay)
	}
	ev, err := h.WSACreateEvent()
	must(t, err)
	var ovs []*wsa.Overlapped
	start = time.Now()
	for i := range 5 {
		ov := &wsa.Overlapped{HEvent: ev}
		if i < 4 {
			ov.HEvent = 0
		}
		var sent uint32
		err := h.WSASend(c, [][]byte{{'b' + byte(i)}}, &sent, 0, ov, nil)
		if !errors.Is(err, wsa.WSA_IO_PENDING) {
			t.Fatalf("overlapped send %d: %v, want WSA_IO_PENDING", i, err)
		}
		ovs = append(ovs, ov)
	}
	var n, flags uint32
	must(t, h.WSAGetOverlappedResult(c, ovs[4], &n, true, &flags))
	if d := time.Since(start); d < delay {
		t.Fatalf("overlapped sends completed after %v, want at least %v", d, delay)
	}
	buf := make([]byte, 16)
	got := ""
	must(t, h.SetsockoptInt(a, wsa.SOL_SOCKET, wsa.SO_RCVTIMEO, 10000))
	for len(got) < 6 {
		k, err := h.Recv(a, buf, 0)
		must(t, err)
		got += string(buf[:k])
	}
	if got != "abcdef" {
		t.Fatalf("received %q, want the sends in order", got)
	}
}

// TestCancelAndClose: sends waiting in the shaper are aborted by CancelIoEx
// and by closesocket.
func TestCancelAndClose(t *testing.T) {
	h, _ := host(t, shaper.Limits{SocketRate: 1024, SocketBurst: 1024})
	c, _ := pair(t, h.Session)
	big := make([]byte, 64<<10) // 64 s at 1 KB/s
	ev1, _ := h.WSACreateEvent()
	ev2, _ := h.WSACreateEvent()
	ov1, ov2 := &wsa.Overlapped{HEvent: ev1}, &wsa.Overlapped{HEvent: ev2}
	var sent uint32
	for _, ov := range []*wsa.Overlapped{ov1, ov2} {
		if err := h.WSASend(c, [][]byte{big}, &sent, 0, ov, nil); !errors.Is(err, wsa.WSA_IO_PENDING) {
			t.Fatalf("WSASend: %v", err)
		}
	}
	var n, flags uint32
	if err := h.WSAGetOverlappedResult(c, ov2, &n, false, &flags); !errors.Is(err, wsa.WSA_IO_INCOMPLETE) {
		t.Fatalf("queued send: %v", err)
	}
	must(t, h.CancelIoEx(c, ov2)) // the queued one
	if err := h.WSAGetOverlappedResult(c, ov2, &n, true, &flags); !errors.Is(err, wsa.WSA_OPERATION_ABORTED) {
		t.Fatalf("cancelled send: %v", err)
	}
	start := time.Now()
	blocked := make(chan error, 1)
	go func() { _, err := h.Send(c, []byte("x"), 0); blocked <- err }()
	waitGoroutineIn(t, "shaper.(*table).send(") // queued behind ov1, not racing the close
	must(t, h.Closesocket(c))
	if _, err := h.WSAWaitForMultipleEvents([]wsa.Handle{ev1}, false, 10000, false); err != nil {
		t.Fatal(err)
	}
	if !wsa.HasOverlappedIoCompleted(ov1) || wsa.Errno(ov1.Internal) != wsa.WSA_OPERATION_ABORTED {
		t.Fatalf("send being shaped after closesocket: %+v", *ov1)
	}
	select {
	case err := <-blocked:
		if err == nil {
			t.Fatal("a blocking send behind them succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocking send stayed blocked after closesocket")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("closesocket took %v to end the shaped sends", d)
	}
}

// goroutines returns the goroutines whose stack mentions s.
func goroutines(s string) []providertest.Goroutine {
	var found []providertest.Goroutine
	for _, g := range providertest.Goroutines() {
		if strings.Contains(g.Stack, s) && !strings.Contains(g.Stack, "shaper_test.goroutines") {
			found = append(found, g)
		}
	}
	return found
}

// waitGoroutineIn waits until a goroutine is blocked in fn.
func waitGoroutineIn(t *testing.T, fn string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		for _, g := range goroutines(fn) {
			if strings.HasPrefix(g.State, "chan receive") || strings.HasPrefix(g.State, "select") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no goroutine blocked in %s", fn)
		}
	}
}

// noGoroutinesIn fails t if goroutines running code of pkg (e.g.
// "lsp/shaper.") outlive the test's host (a few seconds' grace).
func noGoroutinesIn(t *testing.T, pkg string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := goroutines(pkg)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var stacks []string
			for _, g := range left {
				stacks = append(stacks, g.Stack)
			}
			t.Fatalf("%d goroutines in %s remain:\n%s", len(left), pkg, strings.Join(stacks, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

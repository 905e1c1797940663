package wsp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// TestConditionsMapping checks the I/O models' view of the conditions.
func TestConditionsMapping(t *testing.T) {
	failed := Conditions{Failed: wsa.WSAECONNREFUSED}
	if st := failed.SelectState(); st != [3]bool{false, false, true} {
		t.Errorf("failed connect in select sets %v, want except only", st)
	}
	if r := failed.PollEvents(true, wsa.POLLWRNORM|wsa.POLLRDNORM); r != wsa.POLLHUP|wsa.POLLERR|wsa.POLLWRNORM {
		t.Errorf("failed connect revents %#x", r)
	}
	if bits, code := failed.FDEvents(true); bits != wsa.FD_CONNECT || code[wsa.FD_CONNECT_BIT] != int32(wsa.WSAECONNREFUSED) {
		t.Errorf("failed connect FD_* %#x %v", bits, code)
	}
	// A FIN with data unread: FD_READ, no FD_CLOSE yet; then FD_CLOSE 0.
	fin := Conditions{Connected: true, Readable: true, Writable: true, Closed: true, Data: true}
	if bits, _ := fin.FDEvents(true); bits != wsa.FD_CONNECT|wsa.FD_READ|wsa.FD_WRITE {
		t.Errorf("FIN with data: %#x", bits)
	}
	fin.Data = false
	if bits, code := fin.FDEvents(true); bits != wsa.FD_CONNECT|wsa.FD_WRITE|wsa.FD_CLOSE || code[wsa.FD_CLOSE_BIT] != 0 {
		t.Errorf("FIN drained: %#x %v", bits, code)
	}
	if r := fin.PollEvents(true, wsa.POLLRDNORM); r != wsa.POLLRDNORM|wsa.POLLHUP {
		t.Errorf("FIN revents %#x", r)
	}
	reset := Conditions{Connected: true, Readable: true, Writable: true, Closed: true, CloseErr: wsa.WSAECONNRESET}
	if bits, code := reset.FDEvents(true); bits != wsa.FD_CONNECT|wsa.FD_CLOSE || code[wsa.FD_CLOSE_BIT] != int32(wsa.WSAECONNRESET) {
		t.Errorf("reset: %#x %v", bits, code)
	}
	if r := reset.PollEvents(true, 0); r != wsa.POLLHUP|wsa.POLLERR {
		t.Errorf("reset revents %#x", r)
	}
	oob := Conditions{Connected: true, OOB: true}
	if bits, _ := oob.FDEvents(true); bits != wsa.FD_CONNECT|wsa.FD_OOB {
		t.Errorf("urgent data: %#x", bits)
	}
	if st := oob.SelectState(); !st[2] {
		t.Error("urgent data not in exceptfds")
	}
	if r := oob.PollEvents(true, wsa.POLLIN); r != wsa.POLLRDBAND {
		t.Errorf("urgent data revents %#x", r)
	}
	if CloseCode(wsa.WSAETIMEDOUT) != int32(wsa.WSAECONNABORTED) || CloseCode(nil) != 0 {
		t.Error("CloseCode")
	}
	dg := Conditions{Readable: true, Writable: true}
	if bits, _ := dg.FDEvents(false); bits != wsa.FD_READ|wsa.FD_WRITE {
		t.Errorf("datagram: %#x", bits)
	}
}

func TestAddrs(t *testing.T) {
	a, err := ParseAddr(wsa.AF_INET6, wsa.SockaddrFromAddrPort(netip.MustParseAddrPort("[::ffff:0.0.0.0]:80")))
	if err != nil || !a.IsUnspecified() || a.Port() != 80 {
		t.Errorf("v4-mapped unspecified: %+v %v", a, err)
	}
	if _, err := ParseAddr(wsa.AF_INET6, &wsa.SockaddrInet4{}); err != wsa.WSAEFAULT {
		t.Errorf("sockaddr_in for AF_INET6: %v", err)
	}
	if _, err := ParseAddr(wsa.AF_INET, &wsa.SockaddrInet6{}); err != wsa.WSAEAFNOSUPPORT {
		t.Errorf("sockaddr_in6 for AF_INET: %v", err)
	}
	if _, err := ParseAddr(wsa.AF_INET, &wsa.SockaddrInet4{Port: 70000}); err != wsa.WSAEINVAL {
		t.Errorf("port out of range: %v", err)
	}
	sa := Sockaddr(wsa.AF_INET6, netip.MustParseAddr("127.0.0.1"), 9, 0)
	if sa.AddrPort() != netip.MustParseAddrPort("[::ffff:127.0.0.1]:9") {
		t.Errorf("IPv4 on a dual-stack socket: %v", sa.AddrPort())
	}
	sa = Sockaddr(wsa.AF_INET6, netip.MustParseAddr("fe80::1"), 9, 3)
	if sa.(*wsa.SockaddrInet6).ZoneId != 3 {
		t.Error("link-local without its scope id")
	}
	if !IsLimitedBroadcast(netip.MustParseAddr("255.255.255.255")) || IsLimitedBroadcast(netip.MustParseAddr("10.255.255.255")) {
		t.Error("IsLimitedBroadcast")
	}
}

func TestBacklog(t *testing.T) {
	for _, c := range []struct{ in, want int32 }{
		{wsa.SOMAXCONN, 4096}, {wsa.SOMAXCONN_HINT(5), 200}, {wsa.SOMAXCONN_HINT(70000), 65535}, {0, 1}, {7, 7},
	} {
		if got := Backlog(c.in); got != int(c.want) {
			t.Errorf("Backlog(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestReadinessBlock: Block waits for an event, ends with WSAETIMEDOUT at
// its time-out and with WSAEINTR when the socket closes.
func TestReadinessBlock(t *testing.T) {
	var r Readiness
	done := make(chan error, 1)
	go func() {
		done <- r.Block(false, 0, func() error { return wsa.WSAEWOULDBLOCK })
	}()
	time.Sleep(10 * time.Millisecond)
	// An event wakes it; the condition still does not hold: it waits on.
	r.Notify(EventIn)
	select {
	case err := <-done:
		t.Fatalf("Block returned before the condition held: %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	if err := r.Block(false, 20*time.Millisecond, func() error { return wsa.WSAEWOULDBLOCK }); err != wsa.WSAETIMEDOUT {
		t.Errorf("time-out: %v", err)
	}
	r.Close()
	if err := <-done; err != wsa.WSAEINTR {
		t.Errorf("after Close: %v", err)
	}
	if err := r.Block(false, 0, func() error { return nil }); err != wsa.WSAEINTR {
		t.Errorf("Block on a closed core: %v", err)
	}
}

// TestObserve: observers are called in the order they were added, with the
// event's mask and with 0 at Close; Unobserve removes one (any position,
// past the inline storage too), a second Unobserve is a no-op; installing
// and removing the first two allocate nothing.
func TestObserve(t *testing.T) {
	var r Readiness
	var calls []string
	add := func(name string) ObserverID {
		return r.Observe(func(m Event) { calls = append(calls, fmt.Sprint(name, m)) })
	}
	a, b, c := add("a"), add("b"), add("c")
	r.Notify(EventIn)
	r.Unobserve(b)
	r.Unobserve(b)
	r.Notify(EventOut)
	r.Unobserve(a)
	d := add("d")
	r.Close()
	want := []string{"a1", "b1", "c1", "a2", "c2", "c0", "d0"}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
	r.Unobserve(c)
	r.Unobserve(d)
	if n := r.Observers(); n != 0 {
		t.Fatalf("%d observers left", n)
	}

	var q Readiness
	fn := func(Event) {}
	if n := testing.AllocsPerRun(100, func() {
		x, y := q.Observe(fn), q.Observe(fn)
		q.Notify(EventIn)
		q.Unobserve(x)
		q.Unobserve(y)
	}); n != 0 {
		t.Fatalf("Observe/Notify/Unobserve: %v allocations", n)
	}
}

package netstack

import (
	"errors"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/wsa"
)

var loopback4 = &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}

// evPair returns a connected TCP pair over pt (client, accepted), closed at
// the end of the test.
func evPair(t *testing.T, pt provider.ProcTable) (wsa.Socket, wsa.Socket) {
	t.Helper()
	l := newSock(t, pt, wsa.SOCK_STREAM)
	t.Cleanup(func() { _ = pt.WSPCloseSocket(l) })
	must(t, pt.WSPBind(l, loopback4))
	must(t, pt.WSPListen(l, 5))
	name, err := pt.WSPGetSockName(l)
	must(t, err)
	c := newSock(t, pt, wsa.SOCK_STREAM)
	t.Cleanup(func() { _ = pt.WSPCloseSocket(c) })
	must(t, pt.WSPConnect(c, name, nil, nil, nil, nil))
	s, _, err := pt.WSPAccept(l, nil, 0)
	must(t, err)
	t.Cleanup(func() { _ = pt.WSPCloseSocket(s) })
	return c, s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newEvent(t *testing.T, up *providertest.Upcalls) (wsa.Handle, *providertest.Event) {
	t.Helper()
	h, err := up.WPUCreateEvent()
	must(t, err)
	return h, up.Event(h)
}

// waitRecord waits for ev and enumerates until want is recorded.
func waitRecord(t *testing.T, pt provider.ProcTable, s wsa.Socket, h wsa.Handle, ev *providertest.Event, want int32) wsa.NetworkEvents {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var acc wsa.NetworkEvents
	for acc.NetworkEvents&want != want {
		if left := time.Until(deadline); left <= 0 || !ev.Wait(left) {
			t.Fatalf("recorded %#x, want %#x", acc.NetworkEvents, want)
		}
		n, err := pt.WSPEnumNetworkEvents(s, h)
		must(t, err)
		acc.NetworkEvents |= n.NetworkEvents
		for i := range wsa.FD_MAX_EVENTS {
			if n.NetworkEvents&(1<<i) != 0 {
				acc.ErrorCode[i] = n.ErrorCode[i]
			}
		}
	}
	return acc
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestIdleRegistrations: 10,000 idle sockets registered with WSAEventSelect
// (listeners, connected and unconnected sockets) wake nothing, use no CPU
// and little memory; an event on one of them is recorded for that one only.
func TestIdleRegistrations(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 sockets")
	}
	pt, up := start(t)
	const n = 10000
	const mask = wsa.FD_READ | wsa.FD_ACCEPT | wsa.FD_CONNECT | wsa.FD_CLOSE
	evh, ev := newEvent(t, up)
	socks := make([]wsa.Socket, 0, n)
	for range n {
		socks = append(socks, newSock(t, pt, wsa.SOCK_STREAM))
	}
	c, s := evPair(t, pt)
	socks = append(socks, c, s)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, h := range socks {
		must(t, pt.WSPEventSelect(h, evh, mask))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(len(socks))
	t.Logf("%d bytes of heap per registration", per)
	if per > 1024 {
		t.Errorf("%d bytes per registration", per)
	}
	// FD_CONNECT was recorded for the connected pair at registration.
	for _, h := range []wsa.Socket{c, s} {
		r, err := pt.WSPEnumNetworkEvents(h, evh)
		must(t, err)
		if r.NetworkEvents != wsa.FD_CONNECT {
			t.Fatalf("connected socket at registration: %#x", r.NetworkEvents)
		}
	}

	runs, cpu0, wall := wsp.WorkerRuns.Load(), cpuTime(), time.Now()
	time.Sleep(time.Second)
	busy, elapsed := cpuTime()-cpu0, time.Since(wall)
	t.Logf("idle: %v CPU in %v", busy, elapsed)
	if r := wsp.WorkerRuns.Load() - runs; r != 0 {
		t.Errorf("%d evaluations while idle", r)
	}
	if busy > elapsed/10 {
		t.Errorf("idle process used %v CPU in %v", busy, elapsed)
	}
	if ev.Signaled() {
		t.Fatal("event signalled while idle")
	}

	// One event, one record.
	if _, err := pt.WSPSend(c, [][]byte{[]byte("x")}, 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if r := waitRecord(t, pt, s, evh, ev, wsa.FD_READ); r.NetworkEvents != wsa.FD_READ {
		t.Fatalf("record %#x", r.NetworkEvents)
	}
	for _, h := range socks[:100] {
		r, err := pt.WSPEnumNetworkEvents(h, 0)
		must(t, err)
		if r.NetworkEvents != 0 {
			t.Fatalf("idle socket recorded %#x", r.NetworkEvents)
		}
	}
}

// TestEventLoopNoLostEvents runs the classic WSAEventSelect loop (wait,
// enumerate, receive until WSAEWOULDBLOCK) against a sender writing small
// pieces, under the race detector: every byte arrives, no wake-up is lost.
func TestEventLoopNoLostEvents(t *testing.T) {
	pt, up := start(t)
	c, s := evPair(t, pt)
	evh, ev := newEvent(t, up)
	must(t, pt.WSPEventSelect(s, evh, wsa.FD_READ|wsa.FD_CLOSE))
	const total = 20000
	go func() {
		piece := make([]byte, 7)
		for sent := 0; sent < total; sent += len(piece) {
			if _, err := pt.WSPSend(c, [][]byte{piece[:min(len(piece), total-sent)]}, 0, nil, nil, nil); err != nil {
				return
			}
		}
		_ = pt.WSPShutdown(c, wsa.SD_SEND)
	}()
	got, closed := 0, false
	buf := make([]byte, 3)
	for !closed {
		if !ev.Wait(10 * time.Second) {
			t.Fatalf("no event after %d bytes", got)
		}
		r, err := pt.WSPEnumNetworkEvents(s, evh)
		must(t, err)
		if r.NetworkEvents&wsa.FD_CLOSE != 0 {
			if r.ErrorCode[wsa.FD_CLOSE_BIT] != 0 {
				t.Fatalf("FD_CLOSE error %d", r.ErrorCode[wsa.FD_CLOSE_BIT])
			}
			closed = true
		}
		if r.NetworkEvents&wsa.FD_READ == 0 {
			continue
		}
		var flags uint32
		n, err := pt.WSPRecv(s, [][]byte{buf}, &flags, nil, nil, nil) // one recv per FD_READ
		if err != nil && !errors.Is(err, wsa.WSAEWOULDBLOCK) {
			t.Fatal(err)
		}
		got += int(n)
	}
	if got != total {
		t.Fatalf("received %d of %d bytes before FD_CLOSE", got, total)
	}
}

// TestCloseCodes: FD_CLOSE after a local abort (shutdown(SD_RECEIVE) with
// data queued) is WSAECONNABORTED; after a reset with data queued, FD_READ
// comes first and FD_CLOSE (WSAECONNRESET) once the data is read.
func TestCloseCodes(t *testing.T) {
	pt, up := start(t)
	c, s := evPair(t, pt)
	evh, ev := newEvent(t, up)
	must(t, pt.WSPEventSelect(s, evh, wsa.FD_READ|wsa.FD_CLOSE))
	if _, err := pt.WSPSend(c, [][]byte{[]byte("data")}, 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitRecord(t, pt, s, evh, ev, wsa.FD_READ)
	must(t, pt.WSPShutdown(s, wsa.SD_RECEIVE))
	r := waitRecord(t, pt, s, evh, ev, wsa.FD_CLOSE)
	if r.NetworkEvents != wsa.FD_CLOSE || wsa.Errno(r.ErrorCode[wsa.FD_CLOSE_BIT]) != wsa.WSAECONNABORTED {
		t.Fatalf("local abort: %#x, error %d", r.NetworkEvents, r.ErrorCode[wsa.FD_CLOSE_BIT])
	}

	c2, s2 := evPair(t, pt)
	must(t, pt.WSPEventSelect(s2, evh, wsa.FD_READ|wsa.FD_CLOSE))
	if _, err := pt.WSPSend(c2, [][]byte{[]byte("last")}, 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitCond(t, sockOf(t, up, s2), "data", func(c conditions) bool { return c.Data })
	must(t, pt.WSPSetSockOpt(c2, wsa.SOL_SOCKET, wsa.SO_LINGER, []byte{1, 0, 0, 0}))
	must(t, pt.WSPCloseSocket(c2))
	waitCond(t, sockOf(t, up, s2), "reset", func(c conditions) bool { return c.Closed })
	r = waitRecord(t, pt, s2, evh, ev, wsa.FD_READ)
	if r.NetworkEvents != wsa.FD_READ {
		t.Fatalf("reset with data queued: %#x", r.NetworkEvents)
	}
	var flags uint32
	buf := make([]byte, 16)
	n, err := pt.WSPRecv(s2, [][]byte{buf}, &flags, nil, nil, nil)
	if err != nil || string(buf[:n]) != "last" {
		t.Fatalf("recv after the reset: %q, %v (gVisor keeps the data)", buf[:n], err)
	}
	r = waitRecord(t, pt, s2, evh, ev, wsa.FD_CLOSE)
	if r.NetworkEvents != wsa.FD_CLOSE || wsa.Errno(r.ErrorCode[wsa.FD_CLOSE_BIT]) != wsa.WSAECONNRESET {
		t.Fatalf("after draining: %#x, error %d", r.NetworkEvents, r.ErrorCode[wsa.FD_CLOSE_BIT])
	}
	// FD_CLOSE took gVisor's one report of the reset; receives still get it.
	for range 2 {
		if _, err := pt.WSPRecv(s2, [][]byte{buf}, &flags, nil, nil, nil); !errors.Is(err, wsa.WSAECONNRESET) {
			t.Fatalf("recv after FD_CLOSE: %v", err)
		}
	}
}

// TestWaitsEndOnClose: a socket closed by another goroutine while select or
// WSAPoll waits on it is reported (select: ready; WSAPoll: POLLNVAL), and
// the waits remove their observers when they return.
func TestWaitsEndOnClose(t *testing.T) {
	pt, up := start(t)
	poller := pt.(provider.Poller)
	_, s := evPair(t, pt)
	ss := sockOf(t, up, s)
	base := observerCount(ss)
	u := newSock(t, pt, wsa.SOCK_DGRAM)
	t.Cleanup(func() { _ = pt.WSPCloseSocket(u) })
	must(t, pt.WSPBind(u, loopback4))
	us := sockOf(t, up, u)

	// Observers come and go with each wait.
	if n, err := pt.WSPSelect(&wsa.FdSet{Array: []wsa.Socket{s}}, nil, nil, &wsa.Timeval{Usec: 20000}); n != 0 || err != nil {
		t.Fatalf("select: %d, %v", n, err)
	}
	if n, err := poller.WSPPoll([]wsa.PollFd{{Fd: s, Events: wsa.POLLIN}}, 20); n != 0 || err != nil {
		t.Fatalf("poll: %d, %v", n, err)
	}
	if got := observerCount(ss); got != base {
		t.Fatalf("%d observers after the waits, want %d", got, base)
	}

	var wg sync.WaitGroup
	wg.Add(2)
	var selN, pollN int32
	var selErr, pollErr error
	r := &wsa.FdSet{Array: []wsa.Socket{s}}
	fds := []wsa.PollFd{{Fd: u, Events: wsa.POLLIN}}
	go func() { defer wg.Done(); selN, selErr = pt.WSPSelect(r, nil, nil, &wsa.Timeval{Sec: 10}) }()
	go func() { defer wg.Done(); pollN, pollErr = poller.WSPPoll(fds, 10000) }()
	for observerCount(ss) == base || observerCount(us) == 0 {
		time.Sleep(time.Millisecond)
	}
	must(t, pt.WSPCloseSocket(s))
	must(t, pt.WSPCloseSocket(u))
	wg.Wait()
	if selErr != nil || selN != 1 || !r.IsSet(s) {
		t.Fatalf("select with the socket closed: %d %v %v", selN, r.Array, selErr)
	}
	if pollErr != nil || pollN != 1 || fds[0].REvents != wsa.POLLNVAL {
		t.Fatalf("poll with the socket closed: %d %+v %v", pollN, fds, pollErr)
	}
}

func observerCount(s *socket) int {
	return s.rd.Observers()
}

package integration

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// Issue 3 item 10, no busy waiting: with many idle sockets registered with
// each waiting model, the process uses (almost) no CPU.
//
// The test makes idlePairs loopback TCP connections on one userspace host
// (2 × idlePairs sockets, client ports from the provider's ephemeral range
// 49152–65535), then, one model at a time, registers every socket and
// leaves the process idle for idleInterval:
//
//	(a) WSAEventSelect(FD_READ|FD_CLOSE), one event object per socket, and
//	    goroutines blocked in WSAWaitForMultipleEvents on all of them (64
//	    events each, the Windows limit, so one goroutine per 64 sockets);
//	(b) one WSAPoll call over every socket (POLLRDNORM), blocked with no
//	    time-out in a goroutine;
//	(c) every socket associated with one completion port, a zero-byte
//	    overlapped WSARecv pending on each (the readiness probe IOCP servers
//	    use), and a goroutine blocked in GetQueuedCompletionStatus.
//
// What is asserted is a ratio, not a time: the process CPU time
// (getrusage(RUSAGE_SELF), user + system, all threads) consumed during the
// idle interval divided by the wall time of the interval must be below
// maxIdleCPU (5% of one CPU). A busy loop or a polling timer per socket
// would cost far more than that with this many sockets; parked goroutines
// cost nothing. Memory per socket (Go heap and RSS growth) is logged, not
// asserted.
//
// Both builds run 10,000 sockets (5,000 connections), the race build too
// (CI runs only `go test -race`), in about 4 s of setup with -race and
// 0.4 s without, plus 3 × 2.5 s of measurement. -short skips the test.
const (
	idlePairs    = 5000
	idleInterval = 2 * time.Second
	maxIdleCPU   = 0.05
)

// cpuTime is the process's user + system CPU time so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureIdle waits until the process is quiet (the registration's own
// work, such as a WSAPoll call registering its waiters, has finished: CPU
// below half the limit over 100 ms, for at most 5 s; a busy wait never gets
// there and fails the measurement that follows), then returns the CPU time
// used during idleInterval as a fraction of its wall time.
func measureIdle(t *testing.T) float64 {
	t.Helper()
	for settle := time.Now(); time.Since(settle) < 5*time.Second; {
		c0, w0 := cpuTime(t), time.Now()
		time.Sleep(100 * time.Millisecond)
		if float64(cpuTime(t)-c0)/float64(time.Since(w0)) < maxIdleCPU/2 {
			break
		}
	}
	c0, w0 := cpuTime(t), time.Now()
	time.Sleep(idleInterval)
	c1, w1 := cpuTime(t), time.Now()
	return float64(c1-c0) / float64(w1.Sub(w0))
}

func checkIdle(t *testing.T, model string, nsock int) {
	t.Helper()
	ratio := measureIdle(t)
	t.Logf("%s: %d sockets idle: CPU %.2f%% of one CPU over %v", model, nsock, 100*ratio, idleInterval)
	if ratio >= maxIdleCPU {
		t.Errorf("%s: the idle process used %.2f%% of a CPU (limit %.0f%%)", model, 100*ratio, 100*maxIdleCPU)
	}
}

// rssBytes is the peak resident set size.
func rssBytes() uint64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return uint64(ru.Maxrss) * 1024 // peak RSS, in KiB on Linux
}

func TestIdleNoBusyWait(t *testing.T) {
	if testing.Short() {
		t.Skip("idle CPU measurement: skipped with -short")
	}
	pairs := idlePairs
	start := time.Now()
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	rss0 := rssBytes()

	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	s := h.Session
	socks := idleConnections(t, s, pairs)
	n := len(socks)

	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	t.Logf("%d connections (%d sockets) in %v; per socket: Go heap %d B, peak RSS growth %d B",
		pairs, n, time.Since(start).Round(time.Millisecond),
		(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/int64(n), (int64(rssBytes())-int64(rss0))/int64(n))

	t.Run("WSAEventSelect", func(t *testing.T) { idleEventSelect(t, s, socks) })
	t.Run("WSAPoll", func(t *testing.T) { idlePoll(t, s, socks) })
	t.Run("IOCP", func(t *testing.T) { idlePort(t, s, socks) })
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// idleConnections makes pairs loopback TCP connections and returns both
// ends of each: socks[2i] the client, socks[2i+1] the accepted socket.
func idleConnections(t *testing.T, s *api.Session, pairs int) []wsa.Socket {
	t.Helper()
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Closesocket(l)
	if err := s.Bind(l, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(l, wsa.SOMAXCONN); err != nil {
		t.Fatal(err)
	}
	addr, err := s.Getsockname(l)
	if err != nil {
		t.Fatal(err)
	}
	socks := make([]wsa.Socket, 2*pairs)
	for i := range pairs {
		c, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
		if err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
		if err := s.Connect(c, addr); err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		a, _, err := s.Accept(l)
		if err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		socks[2*i], socks[2*i+1] = c, a
	}
	return socks
}

// idleEventSelect is model (a).
func idleEventSelect(t *testing.T, s *api.Session, socks []wsa.Socket) {
	evs := make([]wsa.Handle, len(socks))
	for i, h := range socks {
		ev, err := s.WSACreateEvent()
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = ev
		if err := s.WSAEventSelect(h, ev, wsa.FD_READ|wsa.FD_CLOSE); err != nil {
			t.Fatalf("WSAEventSelect %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	results := make(chan uint32, (len(evs)+63)/64)
	for i := 0; i < len(evs); i += wsa.WSA_MAXIMUM_WAIT_EVENTS {
		group := evs[i:min(len(evs), i+wsa.WSA_MAXIMUM_WAIT_EVENTS)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := s.WSAWaitForMultipleEvents(group, false, wsa.WSA_INFINITE, false)
			results <- r
		}()
	}
	checkIdle(t, "WSAEventSelect", len(socks))
	// Nothing may have woken a waiter during the idle interval.
	select {
	case r := <-results:
		t.Errorf("a wait ended while idle: %#x", r)
	default:
	}
	for i := 0; i < len(evs); i += wsa.WSA_MAXIMUM_WAIT_EVENTS {
		s.WSASetEvent(evs[i])
	}
	wg.Wait()
	for i, h := range socks {
		if err := s.WSAEventSelect(h, 0, 0); err != nil {
			t.Fatalf("cancel WSAEventSelect %d: %v", i, err)
		}
		s.WSACloseEvent(evs[i])
	}
	// WSAEventSelect made the sockets non-blocking; make them blocking
	// again for the next models.
	for _, h := range socks {
		var off uint32
		if err := s.Ioctlsocket(h, wsa.FIONBIO, &off); err != nil {
			t.Fatal(err)
		}
	}
}

// idlePoll is model (b).
func idlePoll(t *testing.T, s *api.Session, socks []wsa.Socket) {
	fds := make([]wsa.PollFd, len(socks))
	for i, h := range socks {
		fds[i] = wsa.PollFd{Fd: h, Events: wsa.POLLRDNORM}
	}
	type result struct {
		n   int32
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.WSAPoll(fds, -1)
		done <- result{n, err}
	}()
	checkIdle(t, "WSAPoll", len(socks))
	select {
	case r := <-done:
		t.Fatalf("WSAPoll returned while idle: %d %v", r.n, r.err)
	default:
	}
	// One byte from the first client wakes it: the accepted end is readable.
	if _, err := s.Send(socks[0], []byte{1}, 0); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(stepTimeout):
		t.Fatal("WSAPoll did not return for data")
	}
	if r.err != nil || r.n != 1 || fds[1].REvents&wsa.POLLRDNORM == 0 {
		t.Fatalf("WSAPoll: %d %v, revents of the accepted socket %#x", r.n, r.err, fds[1].REvents)
	}
	if n, err := s.Recv(socks[1], make([]byte, 1), 0); n != 1 || err != nil {
		t.Fatalf("recv: %d %v", n, err)
	}
}

// idlePort is model (c).
func idlePort(t *testing.T, s *api.Session, socks []wsa.Socket) {
	port, err := s.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ovs := make([]wsa.Overlapped, len(socks))
	var flags uint32
	for i, h := range socks {
		if _, err := s.CreateIoCompletionPort(wsa.Handle(h), port, uintptr(i), 0); err != nil {
			t.Fatalf("associate %d: %v", i, err)
		}
		f := flags
		if err := s.WSARecv(h, [][]byte{{}}, nil, &f, &ovs[i], nil); err != wsa.WSA_IO_PENDING {
			t.Fatalf("zero-byte WSARecv %d: %v, want WSA_IO_PENDING", i, err)
		}
	}
	type packet struct {
		key uintptr
		err error
	}
	done := make(chan packet, 1)
	go func() {
		var qty uint32
		var key uintptr
		var ov *wsa.Overlapped
		err := s.GetQueuedCompletionStatus(port, &qty, &key, &ov, wsa.WSA_INFINITE)
		done <- packet{key, err}
	}()
	checkIdle(t, "IOCP", len(socks))
	select {
	case p := <-done:
		t.Fatalf("GetQueuedCompletionStatus returned while idle: key %d %v", p.key, p.err)
	default:
	}
	// One byte to the accepted end of the last connection completes its
	// probe.
	last := len(socks) - 1
	if _, err := s.Send(socks[last-1], []byte{1}, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-done:
		if p.err != nil || p.key != uintptr(last) {
			t.Fatalf("completion: key %d %v, want key %d", p.key, p.err, last)
		}
	case <-time.After(stepTimeout):
		t.Fatal("no completion for data")
	}
	// The pending probes are aborted when the host closes.
	s.CloseHandle(port)
}

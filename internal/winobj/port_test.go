package winobj_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

type getResult struct {
	pkt winobj.Packet
	err error
}

func goGet(get func(time.Duration, *winobj.APCQueue) (winobj.Packet, error), timeout time.Duration) <-chan getResult {
	ch := make(chan getResult, 1)
	go func() {
		pkt, err := get(timeout, nil)
		ch <- getResult{pkt, err}
	}()
	return ch
}

func portWaitersReach(t *testing.T, p *winobj.Port, n int) {
	t.Helper()
	eventually(t, "port waiters", func() bool { return winobj.PortWaiters(p) == n })
}

func TestPortFIFO(t *testing.T) {
	p := winobj.NewPort(1)
	ov := new(wsa.Overlapped)
	for i := range 10 {
		pkt := winobj.Packet{Bytes: uint32(i), Key: uintptr(100 + i)}
		if i == 3 {
			pkt.Overlapped, pkt.Status = ov, wsa.ERROR_NETNAME_DELETED
		}
		if err := p.Post(pkt); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		pkt, err := p.Get(0, nil)
		if err != nil || pkt.Bytes != uint32(i) || pkt.Key != uintptr(100+i) {
			t.Fatalf("Get %d = %+v, %v", i, pkt, err)
		}
		if i == 3 && (pkt.Overlapped != ov || pkt.Status != wsa.ERROR_NETNAME_DELETED) {
			t.Fatalf("packet 3 lost its overlapped or status: %+v", pkt)
		}
	}
	if _, err := p.Get(0, nil); err != wsa.WAIT_TIMEOUT {
		t.Fatalf("Get on an empty port = %v, want WAIT_TIMEOUT", err)
	}
}

func TestPortConcurrencyDefault(t *testing.T) {
	if c := winobj.NewPort(0).Concurrency(); c != uint32(runtime.NumCPU()) {
		t.Fatalf("NewPort(0).Concurrency() = %d, want NumCPU %d", c, runtime.NumCPU())
	}
}

func TestPortGetMany(t *testing.T) {
	for _, tc := range []struct {
		posted, room, want int
	}{
		{1, 1, 1}, {1, 8, 1}, {5, 3, 3}, {5, 5, 5}, {5, 64, 5}, {100, 64, 64},
	} {
		p := winobj.NewPort(0)
		for i := range tc.posted {
			p.Post(winobj.Packet{Key: uintptr(i)})
		}
		out := make([]winobj.Packet, tc.room)
		n, err := p.GetMany(out, 0, nil)
		if n != tc.want || err != nil {
			t.Fatalf("posted %d, room %d: GetMany = %d, %v; want %d", tc.posted, tc.room, n, err, tc.want)
		}
		for i := range n {
			if out[i].Key != uintptr(i) {
				t.Fatalf("packet %d has key %d", i, out[i].Key)
			}
		}
	}
	p := winobj.NewPort(0)
	if _, err := p.GetMany(nil, 0, nil); err != wsa.WSA_INVALID_PARAMETER {
		t.Fatalf("GetMany(nil) = %v, want WSA_INVALID_PARAMETER", err)
	}
	// Blocks for the first packet, returns what is there.
	type res struct {
		n   int
		err error
	}
	ch := make(chan res, 1)
	out := make([]winobj.Packet, 8)
	go func() {
		n, err := p.GetMany(out, winobj.Infinite, nil)
		ch <- res{n, err}
	}()
	portWaitersReach(t, p, 1)
	p.Post(winobj.Packet{Key: 7})
	if r := recv(t, ch, "GetMany"); r.n != 1 || r.err != nil || out[0].Key != 7 {
		t.Fatalf("GetMany = %d, %v, %+v", r.n, r.err, out[0])
	}
}

// TestPortGetManyFunc: the packets go to put with their indexes, oldest
// first, also the first one handed to a blocked caller and those topped up
// after it; put is never called beyond max.
func TestPortGetManyFunc(t *testing.T) {
	p := winobj.NewPort(0)
	if _, err := p.GetManyFunc(0, func(int, winobj.Packet) { t.Fatal("put called") }, 0, nil); err != wsa.WSA_INVALID_PARAMETER {
		t.Fatalf("GetManyFunc(0) = %v, want WSA_INVALID_PARAMETER", err)
	}
	var got []uintptr
	put := func(i int, pkt winobj.Packet) {
		if i != len(got) {
			t.Errorf("put index %d after %d packets", i, len(got))
		}
		got = append(got, pkt.Key)
	}
	for i := range 5 {
		p.Post(winobj.Packet{Key: uintptr(i)})
	}
	if n, err := p.NewWorker().GetManyFunc(3, put, 0, nil); n != 3 || err != nil || fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("GetManyFunc = %d, %v, keys %v", n, err, got)
	}
	got = nil
	if n, err := p.GetManyFunc(8, put, 0, nil); n != 2 || err != nil || fmt.Sprint(got) != "[3 4]" {
		t.Fatalf("GetManyFunc = %d, %v, keys %v", n, err, got)
	}
	// A blocked caller: the packet handed to it first, then the rest.
	got = nil
	ch := make(chan int, 1)
	go func() {
		n, _ := p.GetManyFunc(4, put, winobj.Infinite, nil)
		ch <- n
	}()
	portWaitersReach(t, p, 1)
	p.Post(winobj.Packet{Key: 9})
	if n := recv(t, ch, "GetManyFunc"); n != 1 || fmt.Sprint(got) != "[9]" {
		t.Fatalf("blocked GetManyFunc = %d, keys %v", n, got)
	}
}

func TestPortTimeout(t *testing.T) {
	p := winobj.NewPort(1)
	start := time.Now()
	if _, err := p.Get(30*time.Millisecond, nil); err != wsa.WAIT_TIMEOUT {
		t.Fatalf("Get = %v, want WAIT_TIMEOUT", err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("Get timed out early")
	}
	if n, err := p.NewWorker().GetMany(make([]winobj.Packet, 4), 10*time.Millisecond, nil); n != 0 || err != wsa.WAIT_TIMEOUT {
		t.Fatalf("worker GetMany = %d, %v; want WAIT_TIMEOUT", n, err)
	}
	if winobj.PortWaiters(p) != 0 {
		t.Fatal("timed-out callers left queued")
	}
}

func TestPortClose(t *testing.T) {
	p := winobj.NewPort(2)
	p.Post(winobj.Packet{Key: 1})
	p.Get(0, nil)
	const n = 10
	var chans []<-chan getResult
	for i := range n {
		if i%2 == 0 {
			chans = append(chans, goGet(p.Get, winobj.Infinite))
		} else {
			chans = append(chans, goGet(p.NewWorker().Get, time.Hour))
		}
	}
	portWaitersReach(t, p, n)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range chans {
		if r := recv(t, ch, "Get"); r.err != wsa.ERROR_ABANDONED_WAIT_0 {
			t.Fatalf("Get after Close = %v, want ERROR_ABANDONED_WAIT_0", r.err)
		}
	}
	if err := p.Post(winobj.Packet{}); err != wsa.WSA_INVALID_HANDLE {
		t.Errorf("Post after Close = %v, want WSA_INVALID_HANDLE", err)
	}
	if _, err := p.Get(winobj.Infinite, nil); err != wsa.ERROR_ABANDONED_WAIT_0 {
		t.Errorf("Get after Close = %v, want ERROR_ABANDONED_WAIT_0", err)
	}
	if err := p.Close(); err != wsa.WSA_INVALID_HANDLE {
		t.Errorf("second Close = %v, want WSA_INVALID_HANDLE", err)
	}
	// Queued packets are discarded.
	q := winobj.NewPort(1)
	q.Post(winobj.Packet{})
	q.Close()
	if _, err := q.Get(0, nil); err != wsa.ERROR_ABANDONED_WAIT_0 {
		t.Errorf("Get of a closed port with packets = %v", err)
	}
}

// TestPortLIFO: the caller that blocked last gets the next packet.
func TestPortLIFO(t *testing.T) {
	p := winobj.NewPort(4)
	first := goGet(p.Get, winobj.Infinite)
	portWaitersReach(t, p, 1)
	second := goGet(p.NewWorker().Get, winobj.Infinite)
	portWaitersReach(t, p, 2)
	third := goGet(p.Get, winobj.Infinite)
	portWaitersReach(t, p, 3)
	for i, ch := range []<-chan getResult{third, second, first} {
		p.Post(winobj.Packet{Key: uintptr(i)})
		if r := recv(t, ch, "Get"); r.err != nil || r.pkt.Key != uintptr(i) {
			t.Fatalf("waiter %d: %+v, %v", i, r.pkt, r.err)
		}
	}
}

// TestPortConcurrencyLimit: with concurrency 2, a third worker gets no
// packet until a running worker comes back to the port or releases.
func TestPortConcurrencyLimit(t *testing.T) {
	p := winobj.NewPort(2)
	w1, w2, w3 := p.NewWorker(), p.NewWorker(), p.NewWorker()
	for i := range 4 {
		p.Post(winobj.Packet{Key: uintptr(i)})
	}
	for _, w := range []*winobj.Worker{w1, w2} {
		if _, err := w.Get(0, nil); err != nil {
			t.Fatal(err)
		}
	}
	if r := winobj.PortRunning(p); r != 2 {
		t.Fatalf("running = %d, want 2", r)
	}
	// Packets are queued, but two workers run: w3 must wait.
	if _, err := w3.Get(0, nil); err != wsa.WAIT_TIMEOUT {
		t.Fatalf("third worker's poll = %v, want WAIT_TIMEOUT", err)
	}
	ch := goGet(w3.Get, winobj.Infinite)
	portWaitersReach(t, p, 1)
	stays(t, ch, 30*time.Millisecond, "third worker")
	// Anonymous callers are not held back.
	if pkt, err := p.Get(0, nil); err != nil || pkt.Key != 2 {
		t.Fatalf("anonymous Get = %+v, %v", pkt, err)
	}
	// w1 releases its slot: w3 gets the next packet.
	w1.Release()
	if r := recv(t, ch, "third worker"); r.err != nil || r.pkt.Key != 3 {
		t.Fatalf("third worker = %+v, %v", r.pkt, r.err)
	}
	if r := winobj.PortRunning(p); r != 2 {
		t.Fatalf("running = %d, want 2", r)
	}
	w1.Release() // not running: no effect
	if r := winobj.PortRunning(p); r != 2 {
		t.Fatalf("running = %d after a second Release, want 2", r)
	}
	// A running worker coming back to the port takes a queued packet itself
	// (it frees its slot and fills it).
	p.Post(winobj.Packet{Key: 4})
	if pkt, err := w2.Get(0, nil); err != nil || pkt.Key != 4 {
		t.Fatalf("returning worker = %+v, %v", pkt, err)
	}
	// A worker that comes back to an empty port frees its slot for others.
	ch2 := goGet(w2.Get, winobj.Infinite)
	portWaitersReach(t, p, 1)
	if r := winobj.PortRunning(p); r != 1 {
		t.Fatalf("running = %d, want 1", r)
	}
	ch1 := goGet(w1.Get, winobj.Infinite)
	portWaitersReach(t, p, 2)
	p.Post(winobj.Packet{Key: 5}) // to w1, the most recent, and a slot is free
	if r := recv(t, ch1, "w1"); r.err != nil || r.pkt.Key != 5 {
		t.Fatalf("w1 = %+v, %v", r.pkt, r.err)
	}
	p.Post(winobj.Packet{Key: 6}) // w3 and w1 run: w2 must wait
	stays(t, ch2, 30*time.Millisecond, "w2")
	w3.Release()
	if r := recv(t, ch2, "w2"); r.err != nil || r.pkt.Key != 6 {
		t.Fatalf("w2 = %+v, %v", r.pkt, r.err)
	}
}

func TestWorkerConcurrentGetRefused(t *testing.T) {
	p := winobj.NewPort(1)
	w := p.NewWorker()
	ch := goGet(w.Get, winobj.Infinite)
	portWaitersReach(t, p, 1)
	if _, err := w.Get(0, nil); err != wsa.WSA_INVALID_PARAMETER {
		t.Fatalf("concurrent Get on one worker = %v, want WSA_INVALID_PARAMETER", err)
	}
	p.Post(winobj.Packet{Key: 9})
	if r := recv(t, ch, "Get"); r.pkt.Key != 9 {
		t.Fatalf("Get = %+v, %v", r.pkt, r.err)
	}
}

func TestPortAlertable(t *testing.T) {
	p := winobj.NewPort(1)
	q := winobj.NewAPCQueue()
	ran := 0
	q.Queue(func() { ran++ })
	if _, err := p.Get(winobj.Infinite, q); err != winobj.ErrIOCompletion || ran != 1 {
		t.Fatalf("Get = %v, ran %d; want ErrIOCompletion, 1", err, ran)
	}
	if winobj.ErrIOCompletion != wsa.WSA_WAIT_IO_COMPLETION {
		t.Fatal("ErrIOCompletion is not WAIT_IO_COMPLETION (192)")
	}
	// Packets first, APCs stay queued.
	p.Post(winobj.Packet{Key: 1})
	q.Queue(func() { ran++ })
	if pkt, err := p.Get(winobj.Infinite, q); err != nil || pkt.Key != 1 || ran != 1 {
		t.Fatalf("Get = %+v, %v, ran %d; want the packet and no APC", pkt, err, ran)
	}
	q.RunPending()
	// Queued during the wait.
	ch := make(chan error, 1)
	w := p.NewWorker()
	go func() {
		_, err := w.GetMany(make([]winobj.Packet, 4), winobj.Infinite, q)
		ch <- err
	}()
	portWaitersReach(t, p, 1)
	q.Queue(func() { ran++ })
	if err := recv(t, ch, "GetMany"); err != winobj.ErrIOCompletion || ran != 3 {
		t.Fatalf("GetMany = %v, ran %d; want ErrIOCompletion, 3", err, ran)
	}
	if winobj.PortWaiters(p) != 0 {
		t.Fatal("the interrupted Get is still queued")
	}
	// Not alertable: the APC does not run.
	q.Queue(func() { ran++ })
	if _, err := p.Get(10*time.Millisecond, nil); err != wsa.WAIT_TIMEOUT || ran != 3 {
		t.Fatalf("Get = %v, ran %d; want WAIT_TIMEOUT, 3", err, ran)
	}
}

// TestPortNoPacketLostOnTimeout: packets posted while waiters time out are
// all delivered exactly once.
func TestPortNoPacketLostOnTimeout(t *testing.T) {
	p := winobj.NewPort(0)
	const n = 2000
	got := make(chan uintptr, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for len(got) < n {
				if pkt, err := p.Get(time.Duration(len(got)%3)*50*time.Microsecond, nil); err == nil {
					got <- pkt.Key
				}
			}
		})
	}
	for i := range n {
		p.Post(winobj.Packet{Key: uintptr(i)})
	}
	wg.Wait()
	seen := make([]bool, n)
	for range n {
		k := <-got
		if seen[k] {
			t.Fatalf("packet %d delivered twice", k)
		}
		seen[k] = true
	}
}

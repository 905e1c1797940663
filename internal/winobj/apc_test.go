package winobj_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

func TestAPCQueueFIFO(t *testing.T) {
	q := winobj.NewAPCQueue()
	var got []int
	for i := range 5 {
		if err := q.Queue(func() { got = append(got, i) }); err != nil {
			t.Fatal(err)
		}
	}
	if q.Pending() != 5 {
		t.Fatalf("Pending = %d, want 5", q.Pending())
	}
	if n := q.RunPending(); n != 5 {
		t.Fatalf("RunPending = %d, want 5", n)
	}
	if !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("ran %v, want 0..4 in order", got)
	}
	if n := q.RunPending(); n != 0 {
		t.Fatalf("second RunPending = %d, want 0", n)
	}
}

func TestAPCQueuedByAPCRunsInSameTurn(t *testing.T) {
	q := winobj.NewAPCQueue()
	var got []string
	q.Queue(func() {
		got = append(got, "first")
		q.Queue(func() { got = append(got, "nested") })
	})
	q.Queue(func() { got = append(got, "second") })
	if n := q.RunPending(); n != 3 {
		t.Fatalf("RunPending = %d, want 3", n)
	}
	if !slices.Equal(got, []string{"first", "second", "nested"}) {
		t.Fatalf("ran %v", got)
	}
}

func TestAPCQueueErrors(t *testing.T) {
	q := winobj.NewAPCQueue()
	if err := q.Queue(nil); err != wsa.WSA_INVALID_PARAMETER {
		t.Errorf("Queue(nil) = %v, want WSA_INVALID_PARAMETER", err)
	}
	ran := false
	q.Queue(func() { ran = true })
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if n := q.RunPending(); n != 0 || ran {
		t.Errorf("RunPending after Close ran %d APCs", n)
	}
	if err := q.Queue(func() {}); err != wsa.WSA_INVALID_HANDLE {
		t.Errorf("Queue after Close = %v, want WSA_INVALID_HANDLE", err)
	}
	if err := q.Close(); err != wsa.WSA_INVALID_HANDLE {
		t.Errorf("second Close = %v, want WSA_INVALID_HANDLE", err)
	}
}

func TestAPCPanicLeavesQueueUsable(t *testing.T) {
	q := winobj.NewAPCQueue()
	q.Queue(func() { panic("boom") })
	ran := false
	q.Queue(func() { ran = true })
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic did not propagate")
			}
		}()
		q.RunPending()
	}()
	if q.Pending() != 1 {
		t.Fatalf("Pending = %d after the panic, want 1", q.Pending())
	}
	// The queue is runnable again: an alertable wait runs what is left.
	r, err := winobj.Wait([]*winobj.Event{winobj.NewEvent(true, false)}, false, winobj.Infinite, q)
	if r != wsa.WSA_WAIT_IO_COMPLETION || err != nil || !ran {
		t.Fatalf("Wait = %#x, %v, ran %v", r, err, ran)
	}
}

// TestAlertableWait covers which APCs an alertable wait runs, when, where,
// and what it returns.
func TestAlertableWait(t *testing.T) {
	t.Run("queued before", func(t *testing.T) {
		q := winobj.NewAPCQueue()
		me := goid()
		var ranIn []uint64
		for range 3 {
			q.Queue(func() { ranIn = append(ranIn, goid()) })
		}
		r, err := winobj.Wait([]*winobj.Event{winobj.NewEvent(true, false)}, false, winobj.Infinite, q)
		if r != wsa.WSA_WAIT_IO_COMPLETION || err != nil {
			t.Fatalf("Wait = %#x, %v; want WSA_WAIT_IO_COMPLETION", r, err)
		}
		if !slices.Equal(ranIn, []uint64{me, me, me}) {
			t.Fatalf("APCs ran in goroutines %v, want 3 × %d (the caller)", ranIn, me)
		}
	})
	t.Run("queued before, timeout 0", func(t *testing.T) {
		q := winobj.NewAPCQueue()
		q.Queue(func() {})
		r, err := winobj.Wait([]*winobj.Event{winobj.NewEvent(true, false)}, true, 0, q)
		if r != wsa.WSA_WAIT_IO_COMPLETION || err != nil {
			t.Fatalf("Wait = %#x, %v; want WSA_WAIT_IO_COMPLETION", r, err)
		}
	})
	t.Run("queued during", func(t *testing.T) {
		q := winobj.NewAPCQueue()
		e := winobj.NewEvent(false, false)
		ran := make(chan uint64, 1)
		ch := make(chan waitResult, 1)
		waiter := make(chan uint64, 1)
		go func() {
			waiter <- goid()
			r, err := winobj.Wait([]*winobj.Event{e}, false, winobj.Infinite, q)
			ch <- waitResult{r, err}
		}()
		id := <-waiter
		waitersReach(t, e, 1)
		q.Queue(func() { ran <- goid() })
		if res := recv(t, ch, "Wait"); res.r != wsa.WSA_WAIT_IO_COMPLETION || res.err != nil {
			t.Fatalf("Wait = %#x, %v; want WSA_WAIT_IO_COMPLETION", res.r, res.err)
		}
		if g := <-ran; g != id {
			t.Errorf("APC ran in goroutine %d, want the waiter %d", g, id)
		}
		if winobj.EventWaiters(e) != 0 {
			t.Error("wait left queued on the event")
		}
		e.Set() // not consumed by the ended wait
		if !e.IsSet() {
			t.Error("event consumed by a wait that ended with WSA_WAIT_IO_COMPLETION")
		}
	})
	t.Run("object signalled wins over APCs", func(t *testing.T) {
		// Windows checks the objects first (ReactOS ke/wait.c: the
		// alertability check comes only when the thread has to wait).
		q := winobj.NewAPCQueue()
		ran := false
		q.Queue(func() { ran = true })
		r, err := winobj.Wait([]*winobj.Event{winobj.NewEvent(false, false), winobj.NewEvent(false, true)}, false, winobj.Infinite, q)
		if r != 1 || err != nil || ran {
			t.Fatalf("Wait = %#x, %v, APC ran %v; want 1 and the APC left queued", r, err, ran)
		}
		if q.Pending() != 1 {
			t.Fatalf("Pending = %d, want 1", q.Pending())
		}
	})
	t.Run("not alertable", func(t *testing.T) {
		q := winobj.NewAPCQueue()
		ran := false
		q.Queue(func() { ran = true })
		r, err := winobj.Wait([]*winobj.Event{winobj.NewEvent(true, false)}, false, 20*time.Millisecond, nil)
		if r != wsa.WSA_WAIT_TIMEOUT || err != nil || ran {
			t.Fatalf("Wait = %#x, %v, APC ran %v; want WSA_WAIT_TIMEOUT and no APC", r, err, ran)
		}
		if q.Pending() != 1 {
			t.Fatalf("Pending = %d, want 1", q.Pending())
		}
	})
	t.Run("other queue", func(t *testing.T) {
		mine, other := winobj.NewAPCQueue(), winobj.NewAPCQueue()
		other.Queue(func() {})
		r, _ := winobj.Wait([]*winobj.Event{winobj.NewEvent(true, false)}, false, 20*time.Millisecond, mine)
		if r != wsa.WSA_WAIT_TIMEOUT || other.Pending() != 1 {
			t.Fatalf("Wait = %#x, other queue pending %d; want WSA_WAIT_TIMEOUT, 1", r, other.Pending())
		}
	})
}

// TestAPCsRunOneAtATime: goroutines sharing a queue never run two of its
// APCs at once, and every APC runs exactly once.
func TestAPCsRunOneAtATime(t *testing.T) {
	q := winobj.NewAPCQueue()
	never := winobj.NewEvent(true, false)
	stop := winobj.NewEvent(true, false)
	var inFlight, maxInFlight, ran atomic.Int32
	const total = 2000
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				r, _ := winobj.Wait([]*winobj.Event{never, stop}, false, winobj.Infinite, q)
				if r == 1 {
					return
				}
			}
		})
	}
	for range total {
		q.Queue(func() {
			n := inFlight.Add(1)
			if n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			ran.Add(1)
			inFlight.Add(-1)
		})
	}
	eventually(t, "all APCs ran", func() bool { return ran.Load() == total })
	stop.Set()
	wg.Wait()
	if m := maxInFlight.Load(); m != 1 {
		t.Fatalf("%d APCs of one queue ran at once", m)
	}
	if ran.Load() != total {
		t.Fatalf("%d APCs ran, want %d", ran.Load(), total)
	}
}

func TestSleepEx(t *testing.T) {
	if r := winobj.SleepEx(0, nil); r != 0 {
		t.Errorf("SleepEx(0, nil) = %#x", r)
	}
	start := time.Now()
	if r := winobj.SleepEx(20*time.Millisecond, nil); r != 0 || time.Since(start) < 20*time.Millisecond {
		t.Errorf("SleepEx(20ms, nil) = %#x after %v", r, time.Since(start))
	}
	q := winobj.NewAPCQueue()
	if r := winobj.SleepEx(20*time.Millisecond, q); r != 0 {
		t.Errorf("SleepEx(20ms, empty queue) = %#x", r)
	}
	ran := 0
	q.Queue(func() { ran++ })
	if r := winobj.SleepEx(0, q); r != wsa.WSA_WAIT_IO_COMPLETION || ran != 1 {
		t.Errorf("SleepEx(0, queue) = %#x, ran %d; want 0xC0, 1", r, ran)
	}
	q.Queue(func() { ran++ })
	if r := winobj.SleepEx(winobj.Infinite, q); r != wsa.WSA_WAIT_IO_COMPLETION || ran != 2 {
		t.Errorf("SleepEx(INFINITE, queue) = %#x, ran %d; want 0xC0, 2", r, ran)
	}
	// Queued during the sleep.
	done := make(chan uint32, 1)
	go func() { done <- winobj.SleepEx(winobj.Infinite, q) }()
	stays(t, done, 20*time.Millisecond, "SleepEx(INFINITE)")
	q.Queue(func() {})
	if r := recv(t, done, "SleepEx"); r != wsa.WSA_WAIT_IO_COMPLETION {
		t.Errorf("SleepEx = %#x, want 0xC0", r)
	}
}

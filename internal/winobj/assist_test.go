package winobj_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

// TestAssist: Assist hands its function to a goroutine blocked in a
// wait-any on the event, which runs it before it looks at its objects
// again; nobody waiting, a wait-all, or a closed event take nothing.
func TestAssist(t *testing.T) {
	e := winobj.NewEvent(true, false)
	if e.Assist(func() { t.Error("ran with nobody waiting") }) {
		t.Fatal("Assist with nobody waiting = true")
	}

	// A wait-any runs it in its own goroutine (ran is not synchronised:
	// the race detector checks that), then is released by the Set it did.
	other := winobj.NewEvent(false, false)
	ran := 0
	done := make(chan uint32)
	go func() {
		r, err := winobj.Wait([]*winobj.Event{other, e}, false, winobj.Infinite, nil)
		if err != nil {
			t.Error(err)
		}
		if ran != 1 {
			t.Errorf("wait returned with the function run %d times", ran)
		}
		done <- r
	}()
	for !e.Assist(func() { ran++; _ = e.Set() }) {
		runtime.Gosched() // until the wait is blocked
	}
	if r := <-done; r != wsa.WSA_WAIT_EVENT_0+1 {
		t.Fatalf("wait = %#x, want WSA_WAIT_EVENT_0+1", r)
	}

	// A function that signals nothing: the wait goes on, and ends with the
	// Set that comes later.
	_ = e.Reset()
	var n atomic.Int32
	go func() {
		r, _ := winobj.Wait([]*winobj.Event{e}, false, winobj.Infinite, nil)
		done <- r
	}()
	for !e.Assist(func() { n.Add(1) }) {
		runtime.Gosched()
	}
	for !e.Assist(func() { n.Add(1) }) { // the same wait, blocked again
		runtime.Gosched()
	}
	_ = e.Set()
	if r := <-done; r != wsa.WSA_WAIT_EVENT_0 || n.Load() != 2 {
		t.Fatalf("wait = %#x after %d functions, want WSA_WAIT_EVENT_0 after 2", r, n.Load())
	}

	// A wait-all is never picked.
	a, b := winobj.NewEvent(true, false), winobj.NewEvent(true, false)
	go func() {
		r, _ := winobj.Wait([]*winobj.Event{a, b}, true, winobj.Infinite, nil)
		done <- r
	}()
	for range 100 {
		if a.Assist(func() { t.Error("a wait-all ran it") }) {
			t.Fatal("Assist picked a wait-all")
		}
		runtime.Gosched()
	}
	_, _ = a.Set(), b.Set()
	<-done

	_ = e.Close()
	if e.Assist(func() { t.Error("ran on a closed event") }) {
		t.Fatal("Assist on a closed event = true")
	}
}

// TestAssistAlwaysRuns: whatever ends a wait (a Set, its timeout, an APC)
// at the time an Assist picks it, a function handed over runs exactly
// once, before the wait returns.
func TestAssistAlwaysRuns(t *testing.T) {
	e := winobj.NewEvent(false, false)
	apc := winobj.NewAPCQueue()
	var handed, ran atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = winobj.Wait([]*winobj.Event{e}, false, time.Microsecond, apc)
			}
		}()
	}
	for i := range 20000 {
		if e.Assist(func() { ran.Add(1) }) {
			handed.Add(1)
		}
		switch i % 3 {
		case 0:
			_ = e.Set()
		case 1:
			_ = apc.Queue(func() {})
		}
		runtime.Gosched()
	}
	close(stop)
	wg.Wait()
	if handed.Load() != ran.Load() {
		t.Fatalf("%d functions handed over, %d ran", handed.Load(), ran.Load())
	}
	t.Logf("%d functions handed over", handed.Load())
}

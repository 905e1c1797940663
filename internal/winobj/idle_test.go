//go:build unix

package winobj_test

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestIdleCostsNoCPU parks 10,000 goroutines in Wait, Port.Get and
// MessageQueue.Get on distinct objects (infinite and long timeouts,
// alertable and not) and checks that the process then uses almost no CPU:
// no blocked call polls.
func TestIdleCostsNoCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a second of idle time")
	}
	const n = 10000
	evs := make([]*winobj.Event, 0, n)
	ports := make([]*winobj.Port, 0, n)
	queues := make([]*winobj.MessageQueue, 0, n)
	var wg sync.WaitGroup
	var bad sync.Map
	for i := range n {
		timeout := winobj.Infinite
		if i%2 == 1 {
			timeout = time.Hour
		}
		switch i % 10 {
		case 0, 1, 2, 3, 4, 5:
			e := winobj.NewEvent(i%3 == 0, false)
			var apc *winobj.APCQueue
			if i%4 == 0 {
				apc = winobj.NewAPCQueue()
			}
			objs := []*winobj.Event{e}
			if i%5 == 0 {
				objs = append(objs, winobj.NewEvent(true, true))
			}
			evs = append(evs, e)
			wg.Go(func() {
				if r, err := winobj.Wait(objs, len(objs) == 2, timeout, apc); r != 0 || err != nil {
					bad.Store(i, r)
				}
			})
		case 6, 7, 8:
			p := winobj.NewPort(1)
			ports = append(ports, p)
			wg.Go(func() {
				var err error
				if i%2 == 0 {
					_, err = p.NewWorker().Get(timeout, nil)
				} else {
					_, err = p.Get(timeout, winobj.NewAPCQueue())
				}
				if err != wsa.ERROR_ABANDONED_WAIT_0 {
					bad.Store(i, err)
				}
			})
		case 9:
			q := winobj.NewMessageQueue()
			queues = append(queues, q)
			wg.Go(func() {
				if _, err := q.Get(timeout, nil); err != wsa.ERROR_ABANDONED_WAIT_0 {
					bad.Store(i, err)
				}
			})
		}
	}
	for _, e := range evs {
		waitersReach(t, e, 1)
	}
	for _, p := range ports {
		portWaitersReach(t, p, 1)
	}
	time.Sleep(100 * time.Millisecond) // message-queue readers park too
	runtime.GC()

	const idle = time.Second
	c0, w0 := cpuTime(t), time.Now()
	time.Sleep(idle)
	cpu, wall := cpuTime(t)-c0, time.Since(w0)
	t.Logf("%d blocked goroutines: %v CPU over %v (%.2f%%)", n, cpu, wall, 100*float64(cpu)/float64(wall))
	if limit := wall / 20; cpu > limit { // 50 ms per second
		t.Errorf("idle process used %v CPU over %v (limit %v): something polls", cpu, wall, limit)
	}

	for _, e := range evs {
		e.Set()
	}
	for _, p := range ports {
		p.Close()
	}
	for _, q := range queues {
		q.Close()
	}
	wg.Wait()
	bad.Range(func(k, v any) bool {
		t.Errorf("goroutine %v ended with %v", k, v)
		return true
	})
}

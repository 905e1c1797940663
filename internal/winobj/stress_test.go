package winobj_test

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

func stressDuration() time.Duration {
	if testing.Short() {
		return 300 * time.Millisecond
	}
	return 1500 * time.Millisecond
}

// TestStress runs, at the same time for a fixed time, goroutines that set,
// wait (any, all, alertable, with and without timeouts) and post, and checks
// that no wake-up, signal, packet or APC is lost or delivered twice.
func TestStress(t *testing.T) {
	d := stressDuration()
	var wg sync.WaitGroup
	wg.Go(func() { stressRings(t, d) })
	wg.Go(func() { stressTokens(t, d) })
	wg.Go(func() { stressPort(t, d) })
	wg.Go(func() { stressAPCs(t, d) })
	wg.Wait()
}

// stressRings passes one token around rings of auto-reset events: each
// member waits for its event and sets the next one. Exactly one event of a
// ring is set at any time, so no Set is ever coalesced; a lost wake-up stalls
// the ring (caught by a watchdog) and a lost signal leaves no token at the
// end.
func stressRings(t *testing.T, d time.Duration) {
	const rings, members = 12, 5
	stop := winobj.NewEvent(true, false)
	// gate is toggled (wait-all members pause while it is reset) and closed
	// to end the wait-all members.
	gate := winobj.NewEvent(true, true)
	// hot stays set and is never toggled, only contended: a wait-all on it
	// depends on its member event's Set alone.
	hot := winobj.NewEvent(true, true)
	apc := winobj.NewAPCQueue()
	var stopped atomic.Bool
	hops := make([]atomic.Int64, rings)
	evs := make([][]*winobj.Event, rings)
	var wg sync.WaitGroup
	for r := range rings {
		evs[r] = events(members, false, false)
		for m := range members {
			own, next := evs[r][m], evs[r][(m+1)%members]
			mode := (r + m) % 4
			wg.Go(func() {
				for {
					var res uint32
					var err error
					switch mode {
					case 0: // wait-any with the stop event, infinite
						res, err = winobj.Wait([]*winobj.Event{own, stop}, false, winobj.Infinite, nil)
					case 1: // short timeouts
						res, err = winobj.Wait([]*winobj.Event{stop, own}, false, time.Duration(rand.IntN(200))*time.Microsecond, nil)
						if res == 1 {
							res = 0
						} else if res == 0 {
							res = 1
						}
					case 2: // alertable, sharing an APC queue with other members
						res, err = winobj.Wait([]*winobj.Event{own, stop}, false, winobj.Infinite, apc)
					case 3: // wait-all with the gate, infinite; ended by closing the gate
						other := gate
						if r%2 == 1 {
							other = hot
						}
						res, err = winobj.Wait([]*winobj.Event{other, own}, true, winobj.Infinite, nil)
						if err == wsa.WSA_INVALID_HANDLE && stopped.Load() {
							return
						}
					}
					if err != nil {
						t.Errorf("Wait: %#x, %v", res, err)
						return
					}
					switch res {
					case 0:
						hops[r].Add(1)
						next.Set()
					case 1:
						return
					case wsa.WSA_WAIT_IO_COMPLETION:
					case wsa.WSA_WAIT_TIMEOUT:
						if stopped.Load() {
							return
						}
					default:
						t.Errorf("Wait = %#x", res)
						return
					}
				}
			})
		}
		evs[r][0].Set()
	}
	// Chaos: gate toggling and APCs for the alertable members.
	var chaos sync.WaitGroup
	chaos.Go(func() {
		for !stopped.Load() {
			gate.Reset()
			time.Sleep(50 * time.Microsecond)
			gate.Set()
			apc.Queue(func() {})
			time.Sleep(200 * time.Microsecond)
		}
	})
	// Contention on the gates' locks, so that Sets of the members' events
	// often find them busy and take the slow path for wait-all.
	for range 2 {
		chaos.Go(func() {
			for i := 0; !stopped.Load(); i++ {
				gate.IsSet()
				hot.IsSet()
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	// Watchdog: every ring must keep moving.
	last := make([]int64, rings)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		for r := range rings {
			h := hops[r].Load()
			if h == last[r] {
				t.Errorf("ring %d stalled at %d hops (lost wake-up)", r, h)
			}
			last[r] = h
		}
		if t.Failed() {
			break
		}
	}
	stopped.Store(true)
	chaos.Wait()
	stop.Set()
	gate.Close()
	hot.Close()
	wg.Wait()
	for r := range rings {
		n := 0
		for _, e := range evs[r] {
			if e.IsSet() {
				n++
			}
		}
		if n != 1 {
			t.Errorf("ring %d ends with %d tokens, want 1", r, n)
		}
	}
	var total int64
	for r := range rings {
		total += hops[r].Load()
	}
	t.Logf("rings: %d hops", total)
}

// stressTokens has goroutines compete for auto-reset events with random
// wait-any and wait-all waits: every event starts set (one token), a waiter
// that gets events owns their tokens and sets them back. Two owners of one
// token mean a double consumption; a token missing at the end means a
// signal consumed for nobody (e.g. a partial wait-all).
func stressTokens(t *testing.T, d time.Duration) {
	const nEvents, nWorkers = 10, 16
	evs := events(nEvents, false, true)
	owner := make([]atomic.Int32, nEvents)
	apc := winobj.NewAPCQueue()
	var stopped atomic.Bool
	var got, allGot atomic.Int64
	var wg sync.WaitGroup
	for w := range nWorkers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for !stopped.Load() {
				k := 1 + rng.IntN(3)
				idx := rng.Perm(nEvents)[:k]
				objs := make([]*winobj.Event, k)
				for i, x := range idx {
					objs[i] = evs[x]
				}
				all := rng.IntN(2) == 0
				var q *winobj.APCQueue
				if rng.IntN(4) == 0 {
					q = apc
				}
				r, err := winobj.Wait(objs, all, time.Duration(rng.IntN(3))*time.Millisecond, q)
				if err != nil {
					t.Errorf("Wait: %v", err)
					return
				}
				var mine []int
				switch {
				case r == wsa.WSA_WAIT_TIMEOUT || r == wsa.WSA_WAIT_IO_COMPLETION:
					continue
				case all && r == 0:
					mine = idx
					allGot.Add(1)
				case !all && r < uint32(k):
					mine = idx[r : r+1]
				default:
					t.Errorf("Wait(all=%v, %d objects) = %#x", all, k, r)
					return
				}
				got.Add(1)
				for _, x := range mine {
					if !owner[x].CompareAndSwap(0, int32(w+1)) {
						t.Errorf("event %d consumed twice (owners %d and %d)", x, owner[x].Load()-1, w)
						return
					}
				}
				if rng.IntN(8) == 0 {
					time.Sleep(20 * time.Microsecond)
				}
				for _, x := range mine {
					owner[x].Store(0)
					evs[x].Set()
				}
			}
		})
	}
	wg.Go(func() {
		for !stopped.Load() {
			apc.Queue(func() {})
			time.Sleep(100 * time.Microsecond)
		}
	})
	time.Sleep(d)
	stopped.Store(true)
	wg.Wait()
	for x, e := range evs {
		if !e.IsSet() {
			t.Errorf("event %d lost its token", x)
		}
		if n := winobj.EventWaiters(e); n != 0 {
			t.Errorf("event %d: %d waits left queued", x, n)
		}
	}
	if allGot.Load() == 0 {
		t.Error("no wait-all ever succeeded")
	}
	t.Logf("tokens: %d acquisitions, %d wait-all", got.Load(), allGot.Load())
}

// stressPort posts numbered packets from several producers to consumers of
// every kind (workers with GetMany, anonymous, timeouts), then checks each
// packet arrived exactly once and that no more than concurrency workers
// ever ran at once.
func stressPort(t *testing.T, d time.Duration) {
	const producers, workers, anon, conc = 4, 6, 2, 3
	p := winobj.NewPort(conc)
	var next atomic.Uint64
	var stopped atomic.Bool
	seen := sync.Map{}
	var received, running, maxRunning atomic.Int64
	var pwg, cwg sync.WaitGroup
	for range producers {
		pwg.Go(func() {
			for !stopped.Load() {
				k := next.Add(1)
				if err := p.Post(winobj.Packet{Key: uintptr(k), Bytes: uint32(k)}); err != nil {
					t.Errorf("Post: %v", err)
					return
				}
				if k%64 == 0 {
					time.Sleep(50 * time.Microsecond)
				}
			}
		})
	}
	record := func(pkts []winobj.Packet) bool {
		for _, pkt := range pkts {
			if _, dup := seen.LoadOrStore(pkt.Key, true); dup {
				t.Errorf("packet %d delivered twice", pkt.Key)
				return false
			}
			received.Add(1)
		}
		return true
	}
	for i := range workers {
		cwg.Go(func() {
			w := p.NewWorker()
			out := make([]winobj.Packet, 1+i%4)
			for {
				n, err := w.GetMany(out, time.Duration(i%3)*time.Millisecond, nil)
				switch err {
				case nil:
				case wsa.WAIT_TIMEOUT:
					continue
				case wsa.ERROR_ABANDONED_WAIT_0:
					return
				default:
					t.Errorf("GetMany: %v", err)
					return
				}
				r := running.Add(1)
				for m := maxRunning.Load(); r > m && !maxRunning.CompareAndSwap(m, r); m = maxRunning.Load() {
				}
				ok := record(out[:n])
				if i%2 == 0 {
					time.Sleep(10 * time.Microsecond)
				}
				running.Add(-1)
				if i == 0 {
					w.Release()
				}
				if !ok {
					return
				}
			}
		})
	}
	for range anon {
		cwg.Go(func() {
			for {
				pkt, err := p.Get(winobj.Infinite, nil)
				if err == wsa.ERROR_ABANDONED_WAIT_0 {
					return
				}
				if err != nil || !record([]winobj.Packet{pkt}) {
					t.Errorf("Get: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(d)
	stopped.Store(true)
	pwg.Wait()
	posted := int64(next.Load())
	eventually(t, "all packets received", func() bool { return received.Load() == posted })
	p.Close()
	cwg.Wait()
	if m := maxRunning.Load(); m > conc {
		t.Errorf("%d workers ran at once, concurrency %d", m, conc)
	}
	t.Logf("port: %d packets, at most %d workers running", posted, maxRunning.Load())
}

// stressAPCs queues APCs from several goroutines to a queue that several
// goroutines wait on alertably (Wait, SleepEx, Port.Get) and checks each
// runs exactly once.
func stressAPCs(t *testing.T, d time.Duration) {
	q := winobj.NewAPCQueue()
	never := winobj.NewEvent(true, false)
	port := winobj.NewPort(1)
	var queued, ran atomic.Int64
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			for !stopped.Load() {
				switch i % 3 {
				case 0:
					winobj.Wait([]*winobj.Event{never}, false, 5*time.Millisecond, q)
				case 1:
					winobj.SleepEx(5*time.Millisecond, q)
				case 2:
					port.Get(5*time.Millisecond, q)
				}
			}
		})
	}
	var qwg sync.WaitGroup
	for range 3 {
		qwg.Go(func() {
			for !stopped.Load() {
				queued.Add(1)
				if err := q.Queue(func() { ran.Add(1) }); err != nil {
					t.Errorf("Queue: %v", err)
				}
				if queued.Load()%16 == 0 {
					time.Sleep(20 * time.Microsecond)
				}
			}
		})
	}
	time.Sleep(d)
	stopped.Store(true)
	qwg.Wait()
	wg.Wait()
	q.RunPending()
	if ran.Load() != queued.Load() {
		t.Errorf("%d APCs ran, %d queued", ran.Load(), queued.Load())
	}
	t.Logf("apcs: %d", ran.Load())
}

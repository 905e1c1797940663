package winobj_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		ms   uint32
		want time.Duration
	}{
		{0, 0},
		{1, time.Millisecond},
		{1500, 1500 * time.Millisecond},
		{wsa.WSA_INFINITE, winobj.Infinite},
		{0xFFFFFFFE, 0xFFFFFFFE * time.Millisecond},
	} {
		if got := winobj.Millis(tc.ms); got != tc.want {
			t.Errorf("Millis(%#x) = %v, want %v", tc.ms, got, tc.want)
		}
	}
}

func TestEventState(t *testing.T) {
	for _, manual := range []bool{false, true} {
		for _, initial := range []bool{false, true} {
			e := winobj.NewEvent(manual, initial)
			if e.IsSet() != initial || e.ManualReset() != manual {
				t.Errorf("NewEvent(%v, %v): IsSet %v, ManualReset %v", manual, initial, e.IsSet(), e.ManualReset())
			}
			if err := e.Set(); err != nil || !e.IsSet() {
				t.Errorf("Set: %v, IsSet %v", err, e.IsSet())
			}
			if err := e.Set(); err != nil || !e.IsSet() {
				t.Errorf("second Set: %v, IsSet %v", err, e.IsSet())
			}
			if err := e.Reset(); err != nil || e.IsSet() {
				t.Errorf("Reset: %v, IsSet %v", err, e.IsSet())
			}
			if err := e.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			for name, f := range map[string]func() error{"Set": e.Set, "Reset": e.Reset, "Close": e.Close} {
				if err := f(); err != wsa.WSA_INVALID_HANDLE {
					t.Errorf("%s after Close = %v, want WSA_INVALID_HANDLE", name, err)
				}
			}
		}
	}
}

func TestWaitParameters(t *testing.T) {
	set := winobj.NewEvent(true, true)
	closed := winobj.NewEvent(true, true)
	closed.Close()
	many := func(n int) []*winobj.Event {
		es := events(n, true, false)
		es[n-1].Set()
		return es
	}
	for _, tc := range []struct {
		name    string
		objs    []*winobj.Event
		all     bool
		want    uint32
		wantErr error
	}{
		{"none", nil, false, wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_PARAMETER},
		{"none all", []*winobj.Event{}, true, wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_PARAMETER},
		{"64 any", many(64), false, wsa.WSA_WAIT_EVENT_0 + 63, nil},
		{"64 all", events(64, true, true), true, wsa.WSA_WAIT_EVENT_0, nil},
		{"65 any", many(65), false, wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_PARAMETER},
		{"65 all", events(65, true, true), true, wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_PARAMETER},
		{"nil", []*winobj.Event{set, nil}, false, wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_HANDLE},
		{"closed any", []*winobj.Event{set, closed}, false, wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_HANDLE},
		{"closed all", []*winobj.Event{set, closed}, true, wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_HANDLE},
		{"duplicate any", []*winobj.Event{set, set}, false, wsa.WSA_WAIT_EVENT_0, nil},
		{"duplicate all", []*winobj.Event{set, set}, true, wsa.WSA_WAIT_FAILED, wsa.WSA_INVALID_PARAMETER},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := winobj.Wait(tc.objs, tc.all, 0, nil)
			if r != tc.want || err != tc.wantErr {
				t.Fatalf("Wait = %#x, %v; want %#x, %v", r, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestWaitPoll checks timeout 0 (a poll): the result, and which events it
// consumes, for every mix of states.
func TestWaitPoll(t *testing.T) {
	type ev struct{ manual, set bool }
	A, M := ev{false, true}, ev{true, true}   // signalled auto / manual
	a, m := ev{false, false}, ev{true, false} // non-signalled
	for _, tc := range []struct {
		name  string
		evs   []ev
		all   bool
		want  uint32
		after []bool // IsSet of each event afterwards
	}{
		{"one unset", []ev{a}, false, wsa.WSA_WAIT_TIMEOUT, []bool{false}},
		{"one auto", []ev{A}, false, 0, []bool{false}},
		{"one manual", []ev{M}, false, 0, []bool{true}},
		{"any lowest", []ev{a, A, M, A}, false, 1, []bool{false, false, true, true}},
		{"any lowest manual", []ev{m, M, A}, false, 1, []bool{false, true, true}},
		{"any none", []ev{a, m, a}, false, wsa.WSA_WAIT_TIMEOUT, []bool{false, false, false}},
		{"all set", []ev{A, M, A}, true, 0, []bool{false, true, false}},
		{"all one missing", []ev{A, M, a}, true, wsa.WSA_WAIT_TIMEOUT, []bool{true, true, false}},
		{"all manual missing", []ev{A, m}, true, wsa.WSA_WAIT_TIMEOUT, []bool{true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := make([]*winobj.Event, len(tc.evs))
			for i, e := range tc.evs {
				es[i] = winobj.NewEvent(e.manual, e.set)
			}
			r, err := winobj.Wait(es, tc.all, 0, nil)
			if r != tc.want || err != nil {
				t.Fatalf("Wait = %#x, %v; want %#x", r, err, tc.want)
			}
			for i, e := range es {
				if e.IsSet() != tc.after[i] {
					t.Errorf("event %d IsSet = %v, want %v", i, e.IsSet(), tc.after[i])
				}
			}
		})
	}
}

func TestWaitTimeout(t *testing.T) {
	e := winobj.NewEvent(false, false)
	for _, all := range []bool{false, true} {
		start := time.Now()
		r, err := winobj.Wait([]*winobj.Event{e}, all, 30*time.Millisecond, nil)
		if r != wsa.WSA_WAIT_TIMEOUT || err != nil {
			t.Fatalf("Wait = %#x, %v; want WSA_WAIT_TIMEOUT", r, err)
		}
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Errorf("timed out after %v, before the 30ms timeout", d)
		}
		if n := winobj.EventWaiters(e); n != 0 {
			t.Errorf("%d waits left queued after the timeout", n)
		}
	}
}

// TestWaitBlocksThenReleases: a blocked wait-any returns the index of the
// event that was set.
func TestWaitBlocksThenReleases(t *testing.T) {
	es := events(5, false, false)
	ch := goWait(es, false, winobj.Infinite, nil)
	for _, e := range es {
		waitersReach(t, e, 1)
	}
	es[3].Set()
	if res := recv(t, ch, "Wait"); res.r != 3 || res.err != nil {
		t.Fatalf("Wait = %#x, %v; want 3", res.r, res.err)
	}
	if es[3].IsSet() {
		t.Error("auto-reset event still set after releasing a wait")
	}
	for i, e := range es {
		if n := winobj.EventWaiters(e); n != 0 {
			t.Errorf("event %d: %d waits left queued", i, n)
		}
	}
}

func TestWaitDuplicateAnyReturnsLowestIndex(t *testing.T) {
	a, b := winobj.NewEvent(false, false), winobj.NewEvent(false, false)
	ch := goWait([]*winobj.Event{a, b, a, b}, false, winobj.Infinite, nil)
	waitersReach(t, b, 1)
	b.Set()
	if res := recv(t, ch, "Wait"); res.r != 1 || res.err != nil {
		t.Fatalf("Wait = %#x, %v; want 1", res.r, res.err)
	}
}

// TestReleaseCounts: Set once releases every waiter of a manual-reset event
// and exactly one of an auto-reset event.
func TestReleaseCounts(t *testing.T) {
	const n = 20
	for _, tc := range []struct {
		manual   bool
		released int
		setAfter bool
	}{
		{manual: true, released: n, setAfter: true},
		{manual: false, released: 1, setAfter: false},
	} {
		e := winobj.NewEvent(tc.manual, false)
		results := make(chan waitResult, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				r, err := winobj.Wait([]*winobj.Event{e}, false, winobj.Infinite, nil)
				results <- waitResult{r, err}
			})
		}
		waitersReach(t, e, n)
		e.Set()
		for range tc.released {
			if res := recv(t, results, "Wait"); res.r != 0 || res.err != nil {
				t.Fatalf("Wait = %#x, %v; want 0", res.r, res.err)
			}
		}
		stays(t, results, 50*time.Millisecond, "an extra waiter")
		if e.IsSet() != tc.setAfter {
			t.Errorf("manual=%v: IsSet = %v after the release, want %v", tc.manual, e.IsSet(), tc.setAfter)
		}
		if got := winobj.EventWaiters(e); got != n-tc.released {
			t.Errorf("manual=%v: %d waiters left, want %d", tc.manual, got, n-tc.released)
		}
		if !tc.manual {
			// Each further Set releases one more.
			for k := 1; k < n; k++ {
				e.Set()
				recv(t, results, "Wait")
			}
		}
		wg.Wait()
	}
}

// TestWaitAllAtomic: a wait-all returns only when all its events are
// signalled together, and consumes the auto-reset ones together.
func TestWaitAllAtomic(t *testing.T) {
	a := winobj.NewEvent(false, false) // auto
	m := winobj.NewEvent(true, false)  // manual
	b := winobj.NewEvent(false, false) // auto
	ch := goWait([]*winobj.Event{a, m, b}, true, winobj.Infinite, nil)
	waitersReach(t, a, 1)
	a.Set()
	m.Set()
	stays(t, ch, 50*time.Millisecond, "wait-all with one event unsignalled")
	if !a.IsSet() || !m.IsSet() {
		t.Fatal("a partial wait-all consumed an event")
	}
	b.Set()
	if res := recv(t, ch, "wait-all"); res.r != wsa.WSA_WAIT_EVENT_0 || res.err != nil {
		t.Fatalf("Wait = %#x, %v; want WSA_WAIT_EVENT_0", res.r, res.err)
	}
	if a.IsSet() || b.IsSet() || !m.IsSet() {
		t.Errorf("after wait-all: a %v b %v m %v; want false false true", a.IsSet(), b.IsSet(), m.IsSet())
	}
	for _, e := range []*winobj.Event{a, m, b} {
		if n := winobj.EventWaiters(e); n != 0 {
			t.Errorf("%d waits left queued", n)
		}
	}
}

// TestWaitAllNoPartialConsumption: a wait-any that competes for one event
// of a wait-all takes it whole; the wait-all consumes nothing until it has
// all of its events at once.
func TestWaitAllNoPartialConsumption(t *testing.T) {
	a, b := winobj.NewEvent(false, false), winobj.NewEvent(false, false)
	all := goWait([]*winobj.Event{a, b}, true, winobj.Infinite, nil)
	waitersReach(t, b, 1)
	anyA := goWait([]*winobj.Event{a}, false, winobj.Infinite, nil)
	waitersReach(t, a, 2)

	a.Set() // the wait-all cannot use it (b is unset): the wait-any gets it
	if res := recv(t, anyA, "wait-any"); res.r != 0 || res.err != nil {
		t.Fatalf("wait-any = %#x, %v", res.r, res.err)
	}
	b.Set() // now a is gone: the wait-all must not take b alone
	stays(t, all, 50*time.Millisecond, "wait-all")
	if !b.IsSet() {
		t.Fatal("wait-all consumed b without a")
	}
	if r, _ := winobj.Wait([]*winobj.Event{b}, false, 0, nil); r != 0 {
		t.Fatalf("b was not available to a wait-any: %#x", r)
	}
	b.Set()
	a.Set()
	if res := recv(t, all, "wait-all"); res.r != 0 || res.err != nil {
		t.Fatalf("wait-all = %#x, %v", res.r, res.err)
	}
	if a.IsSet() || b.IsSet() {
		t.Error("wait-all did not consume both auto-reset events")
	}
}

// TestWaitAllServedInOrder: when a wait-all that queued first can be
// satisfied, a later wait-any on the same auto-reset event does not take it
// away.
func TestWaitAllServedInOrder(t *testing.T) {
	a, b := winobj.NewEvent(false, false), winobj.NewEvent(false, true)
	all := goWait([]*winobj.Event{a, b}, true, winobj.Infinite, nil)
	waitersReach(t, a, 1)
	anyA := goWait([]*winobj.Event{a}, false, winobj.Infinite, nil)
	waitersReach(t, a, 2)
	a.Set()
	if res := recv(t, all, "wait-all"); res.r != 0 || res.err != nil {
		t.Fatalf("wait-all = %#x, %v", res.r, res.err)
	}
	stays(t, anyA, 30*time.Millisecond, "wait-any")
	a.Set()
	recv(t, anyA, "wait-any")
}

func TestCloseEndsWaits(t *testing.T) {
	for _, all := range []bool{false, true} {
		a, b := winobj.NewEvent(true, false), winobj.NewEvent(true, true)
		ch := goWait([]*winobj.Event{a, b}, all, winobj.Infinite, nil)
		if !all {
			// b is set: the wait-any returns at once.
			if res := recv(t, ch, "Wait"); res.r != 1 {
				t.Fatalf("Wait = %#x, %v", res.r, res.err)
			}
			b.Reset()
			ch = goWait([]*winobj.Event{a, b}, all, winobj.Infinite, nil)
		}
		waitersReach(t, a, 1)
		a.Close()
		if res := recv(t, ch, "Wait"); res.r != wsa.WSA_WAIT_FAILED || res.err != wsa.WSA_INVALID_HANDLE {
			t.Fatalf("all=%v: Wait = %#x, %v; want WSA_WAIT_FAILED, WSA_INVALID_HANDLE", all, res.r, res.err)
		}
		if n := winobj.EventWaiters(b); n != 0 {
			t.Errorf("%d waits left on the other event", n)
		}
	}
}

// TestTimedOutWaitsLeaveNothing: many timed-out and satisfied waits leave
// no queued waits behind (no leak on events that are never set).
func TestTimedOutWaitsLeaveNothing(t *testing.T) {
	never := winobj.NewEvent(true, false)
	es := events(8, false, false)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			objs := append([]*winobj.Event{never}, es[i%8])
			winobj.Wait(objs, i%2 == 0, time.Duration(1+i%5)*time.Millisecond, nil)
		})
	}
	for range 16 {
		for _, e := range es {
			e.Set()
		}
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	for _, e := range append(es, never) {
		if n := winobj.EventWaiters(e); n != 0 {
			t.Fatalf("%d waits left queued", n)
		}
	}
}

func TestWaitErrorsAreErrno(t *testing.T) {
	_, err := winobj.Wait(nil, false, 0, nil)
	var errno wsa.Errno
	if !errors.As(err, &errno) || errno != wsa.WSA_INVALID_PARAMETER {
		t.Fatalf("error %v is not wsa.WSA_INVALID_PARAMETER", err)
	}
}

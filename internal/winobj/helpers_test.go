package winobj_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/internal/winobj"
)

// TestMain fails the run if goroutines outlive the tests: the package
// starts none of its own, and every test joins the ones it starts.
// (testutil.WaitGoroutines wants a testing.TB; TestMain has none, so a
// FakeTB collects its verdict and the dump of every goroutine.)
func TestMain(m *testing.M) {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		var tb testutil.FakeTB
		testutil.WaitGoroutines(&tb, base)
		if tb.Failed() {
			fmt.Fprintln(os.Stderr, tb.Failures())
			code = 1
		}
	}
	os.Exit(code)
}

// eventually polls cond until it holds (test synchronisation only: it is how
// a test learns that goroutines are parked inside the package).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// waitersReach waits until n waits are queued on e.
func waitersReach(t *testing.T, e *winobj.Event, n int) {
	t.Helper()
	eventually(t, strconv.Itoa(n)+" waiters on the event", func() bool { return winobj.EventWaiters(e) == n })
}

// stays checks that ch receives nothing for d: a blocked call stays blocked.
func stays[T any](t *testing.T, ch <-chan T, d time.Duration, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s returned early: %v", what, v)
	case <-time.After(d):
	}
}

// recv receives from ch or fails the test after 10 s.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return", what)
		panic("unreachable")
	}
}

// goid returns the calling goroutine's id, parsed from its stack header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	b = b[:bytes.IndexByte(b, ' ')]
	n, _ := strconv.ParseUint(string(b), 10, 64)
	return n
}

type waitResult struct {
	r   uint32
	err error
}

// goWait runs Wait in a new goroutine and returns the channel of its result.
func goWait(objs []*winobj.Event, all bool, timeout time.Duration, apc *winobj.APCQueue) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		r, err := winobj.Wait(objs, all, timeout, apc)
		ch <- waitResult{r, err}
	}()
	return ch
}

func events(n int, manual, initial bool) []*winobj.Event {
	es := make([]*winobj.Event, n)
	for i := range es {
		es[i] = winobj.NewEvent(manual, initial)
	}
	return es
}

package testutil

import (
	"runtime"
	"testing"
	"time"
)

// goroutineWait bounds how long WaitGoroutines waits for goroutines to
// end; the package's own tests shorten it.
var goroutineWait = 5 * time.Second

// LeakCheck records the number of goroutines now; the returned check fails
// t, with a dump of every goroutine, if within a few seconds that number
// has not come back down to it. Tests using it must not run in parallel
// with others.
//
//	check := testutil.LeakCheck(t)
//	… start and stop things …
//	check()
func LeakCheck(t testing.TB) (check func()) {
	t.Helper()
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		WaitGoroutines(t, before)
	}
}

// WaitGoroutines waits, within a few seconds, until no more than want
// goroutines run, and fails t with a dump of every goroutine otherwise.
func WaitGoroutines(t testing.TB, want int) {
	t.Helper()
	deadline := time.Now().Add(goroutineWait)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutine leak: %d goroutines, want at most %d:\n%s", n, want, buf)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package testutil

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// shortWait makes WaitGoroutines give up sooner for the test.
func shortWait(t *testing.T, d time.Duration) {
	old := goroutineWait
	goroutineWait = d
	t.Cleanup(func() { goroutineWait = old })
}

// settle waits until the goroutine count has not changed for 50ms (at
// most a second): the goroutines of the tests that ran before this one may
// still be ending, and each that ends would hide one leaked here.
func settle() {
	n, since := runtime.NumGoroutine(), time.Now()
	for start := time.Now(); time.Since(start) < time.Second; time.Sleep(5 * time.Millisecond) {
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		} else if time.Since(since) >= 50*time.Millisecond {
			return
		}
	}
}

// leakedGoroutine blocks until release is closed.
func leakedGoroutine(release <-chan struct{}) { <-release }

// TestLeakCheckDetectsLeak: goroutines started after LeakCheck and still
// running fail the fake test, with a dump naming them.
func TestLeakCheckDetectsLeak(t *testing.T) {
	shortWait(t, 200*time.Millisecond)
	settle()
	var f FakeTB
	base := runtime.NumGoroutine()
	check := LeakCheck(&f)
	release := make(chan struct{})
	for range 3 {
		go leakedGoroutine(release)
	}
	start := time.Now()
	check()
	close(release)
	if !f.Failed() {
		t.Fatal("LeakCheck did not fail with a goroutine leaked")
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("LeakCheck gave up after %v, before its deadline", d)
	}
	msg := f.Failures()
	if !strings.Contains(msg, "goroutine leak") || !strings.Contains(msg, "leakedGoroutine") {
		t.Fatalf("failure lacks the leak or the goroutine's stack:\n%s", msg)
	}
	// Once released, the goroutine ends: back to the count at LeakCheck.
	WaitGoroutines(t, base)
}

// TestLeakCheckWaits: a goroutine that ends a little after the check
// begins is not a leak.
func TestLeakCheckWaits(t *testing.T) {
	var f FakeTB
	check := LeakCheck(&f)
	release := make(chan struct{})
	go leakedGoroutine(release)
	time.AfterFunc(100*time.Millisecond, func() { close(release) })
	check()
	if f.Failed() {
		t.Fatalf("LeakCheck failed for a goroutine that ended in time:\n%s", f.Failures())
	}
}

// TestLeakCheckClean: nothing started, nothing reported, no waiting.
func TestLeakCheckClean(t *testing.T) {
	var f FakeTB
	check := LeakCheck(&f)
	start := time.Now()
	check()
	if f.Failed() {
		t.Fatalf("LeakCheck failed with nothing started:\n%s", f.Failures())
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("LeakCheck took %v with nothing to wait for", d)
	}
}

// TestWaitGoroutines checks the bound it is given, not the count at the
// call.
func TestWaitGoroutines(t *testing.T) {
	shortWait(t, 200*time.Millisecond)
	settle()
	release := make(chan struct{})
	defer close(release)
	base := runtime.NumGoroutine()
	for range 3 {
		go leakedGoroutine(release)
	}

	var f FakeTB
	WaitGoroutines(&f, base+3)
	if f.Failed() {
		t.Fatalf("WaitGoroutines(base+3) with 3 started failed:\n%s", f.Failures())
	}
	WaitGoroutines(&f, base+1)
	if !f.Failed() || !strings.Contains(f.Failures(), "want at most") {
		t.Fatalf("WaitGoroutines(base+1) with 3 started: failed=%v %q", f.Failed(), f.Failures())
	}
}

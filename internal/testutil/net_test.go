package testutil

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// freeAddr returns a loopback TCP address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDialRetry: the listener comes up after the first attempts fail.
func TestDialRetry(t *testing.T) {
	addr := freeAddr(t)
	up := make(chan net.Listener, 1)
	time.AfterFunc(150*time.Millisecond, func() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen %s: %v", addr, err)
		}
		up <- ln
	})
	calls := 0
	start := time.Now()
	c := DialRetry(t, "tcp", addr, 10*time.Second, func() error { calls++; return nil })
	defer c.Close()
	ln := <-up
	if ln == nil {
		t.FailNow()
	}
	defer ln.Close()
	if c.RemoteAddr().String() != addr {
		t.Errorf("connected to %v, want %s", c.RemoteAddr(), addr)
	}
	if calls == 0 || time.Since(start) < 100*time.Millisecond {
		t.Errorf("connected after %v and %d failed attempts; the listener was late", time.Since(start), calls)
	}
	// nil alive: dials at once when the listener is there.
	DialRetry(t, "tcp", addr, time.Second, nil).Close()
}

// TestDialRetryServerGone: alive's error ends the retries at once.
func TestDialRetryServerGone(t *testing.T) {
	addr := freeAddr(t)
	var f FakeTB
	start := time.Now()
	c := DialRetry(&f, "tcp", addr, 10*time.Second, func() error { return errors.New("exit status 3") })
	if c != nil {
		c.Close()
		t.Fatal("DialRetry returned a connection")
	}
	if !f.Failed() || !strings.Contains(f.Failures(), "server gone: exit status 3") {
		t.Fatalf("failed=%v: %q", f.Failed(), f.Failures())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v, not at once", d)
	}
}

// TestDialRetryTimeout: nobody listens; DialRetry fails t after timeout.
func TestDialRetryTimeout(t *testing.T) {
	addr := freeAddr(t)
	var f FakeTB
	start := time.Now()
	if c := DialRetry(&f, "tcp", addr, 200*time.Millisecond, nil); c != nil {
		c.Close()
		t.Fatal("DialRetry returned a connection")
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("gave up after %v, before the timeout", d)
	}
	if !f.Failed() || !strings.Contains(f.Failures(), "still failing after 200ms") {
		t.Fatalf("failed=%v: %q", f.Failed(), f.Failures())
	}
}

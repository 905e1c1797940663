package testutil

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// TestLockedBuffer writes from several goroutines while reading (the race
// detector checks the locking) and checks that nothing is lost and that
// Bytes returns a copy.
func TestLockedBuffer(t *testing.T) {
	var b LockedBuffer
	var _ io.Writer = &b
	var _ fmt.Stringer = &b
	if b.String() != "" || len(b.Bytes()) != 0 {
		t.Fatalf("zero LockedBuffer holds %q", b.String())
	}
	const writers, lines = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				if n, err := fmt.Fprintf(&b, "w%d l%d\n", w, i); err != nil || n == 0 {
					t.Errorf("write: %d, %v", n, err)
				}
				_ = b.String()
				_ = b.Bytes()
			}
		}()
	}
	wg.Wait()
	got := b.String()
	if n := strings.Count(got, "\n"); n != writers*lines {
		t.Fatalf("%d lines, want %d", n, writers*lines)
	}
	for w := range writers {
		if !strings.Contains(got, fmt.Sprintf("w%d l%d\n", w, lines-1)) {
			t.Errorf("writer %d's last line missing", w)
		}
	}
	if string(b.Bytes()) != got {
		t.Fatal("Bytes and String differ")
	}
	c := b.Bytes()
	c[0] = '!'
	if b.String() != got {
		t.Fatal("changing what Bytes returned changed the buffer")
	}
}

package testutil

import (
	"bytes"
	"testing"
)

func TestRandomBytes(t *testing.T) {
	if b := RandomBytes(t, 0); len(b) != 0 {
		t.Fatalf("RandomBytes(0) = %d bytes", len(b))
	}
	a, b := RandomBytes(t, 4096), RandomBytes(t, 4096)
	if len(a) != 4096 || len(b) != 4096 {
		t.Fatalf("lengths %d, %d, want 4096", len(a), len(b))
	}
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 4096)) {
		t.Fatal("RandomBytes returned the same or zero bytes twice")
	}
}

package testutil

import (
	"crypto/rand"
	"testing"
)

// RandomBytes returns n random bytes, or fails t.
func RandomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

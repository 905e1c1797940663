package main

import (
	"io"
	"os"
	"testing"
)

// TestReadmeProgram runs the README program and checks what it prints, so the README
// stays true.
func TestReadmeProgram(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	main()
	os.Stdout = old
	w.Close()
	out, _ := io.ReadAll(r)
	want := "hello, winsock\nA non-blocking socket operation could not be completed immediately.\n"
	if got := string(out); got != want {
		t.Fatalf("program printed %q, want %q", got, want)
	}
}

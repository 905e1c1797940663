package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPcapFile: records reach the file within the flush interval while it
// is open, and all of them on Close.
func TestPcapFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.pcap")
	p, err := createPcap(path)
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Repeat([]byte{0xa1}, 24)
	if _, err := p.Write(first); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * pcapFlushInterval)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(b, first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v the file holds %d bytes, want %d", 10*pcapFlushInterval, len(b), len(first))
		}
		time.Sleep(20 * time.Millisecond)
	}
	var want bytes.Buffer
	want.Write(first)
	for i := range 1000 {
		rec := bytes.Repeat([]byte{byte(i)}, 100+i)
		want.Write(rec)
		if _, err := p.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("file holds %d bytes, want %d", len(b), want.Len())
	}
}

package api_test

import (
	"testing"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// batchSize is the batch of the GetQueuedCompletionStatusEx allocation
// test and benchmark.
const batchSize = 16

// postBatch queues batchSize packets on port.
func postBatch(tb testing.TB, s *api.Session, port wsa.Handle, ov *wsa.Overlapped) {
	for i := range batchSize {
		if err := s.PostQueuedCompletionStatus(port, uint32(i), uintptr(i), ov); err != nil {
			tb.Fatal(err)
		}
	}
}

// checkBatch checks that entries hold the packets postBatch queued.
func checkBatch(tb testing.TB, err error, removed uint32, entries []api.OverlappedEntry, ov *wsa.Overlapped) {
	if err != nil || removed != batchSize {
		tb.Fatalf("GetQueuedCompletionStatusEx: %d removed, %v", removed, err)
	}
	for i, e := range entries {
		if e.CompletionKey != uintptr(i) || e.NumberOfBytesTransferred != uint32(i) || e.Overlapped != ov || e.Internal != 0 {
			tb.Fatalf("entry %d: %+v", i, e)
		}
	}
}

// TestGQCSExAllocs: removing a batch of packets allocates nothing, for an
// anonymous caller and for a CompletionWorker (a []winobj.Packet per call
// before).
func TestGQCSExAllocs(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	port := newPort(t, s, 0)
	w, err := s.NewCompletionWorker(port)
	must(t, err)
	ov := &wsa.Overlapped{}
	entries := make([]api.OverlappedEntry, batchSize)
	for _, c := range []struct {
		name string
		get  func(removed *uint32) error
	}{
		{"session", func(removed *uint32) error {
			return s.GetQueuedCompletionStatusEx(port, entries, removed, 0, false)
		}},
		{"worker", func(removed *uint32) error {
			return w.GetQueuedCompletionStatusEx(entries, removed, 0, true)
		}},
	} {
		var removed uint32
		postBatch(t, s, port, ov) // warm up the port's queue
		checkBatch(t, c.get(&removed), removed, entries, ov)
		allocs := testing.AllocsPerRun(100, func() {
			postBatch(t, s, port, ov)
			clear(entries)
			err := c.get(&removed)
			checkBatch(t, err, removed, entries, ov)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per posted and removed batch of %d", c.name, allocs, batchSize)
		}
	}
	w.Release()
}

// BenchmarkGQCSEx posts a batch of 16 packets and removes them with one
// GetQueuedCompletionStatusEx: 0 allocs/op.
func BenchmarkGQCSEx(b *testing.B) {
	env := newIOEnv(b)
	s := env.start(b)
	port, err := s.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, 0)
	must(b, err)
	ov := &wsa.Overlapped{}
	entries := make([]api.OverlappedEntry, batchSize)
	var removed uint32
	b.ReportAllocs()
	for b.Loop() {
		postBatch(b, s, port, ov)
		if err := s.GetQueuedCompletionStatusEx(port, entries, &removed, 0, false); err != nil || removed != batchSize {
			b.Fatalf("GetQueuedCompletionStatusEx: %d removed, %v", removed, err)
		}
	}
}

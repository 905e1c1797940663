package providertest

import (
	"testing"
	"time"
)

// TestUpcallsWaitMessage: WaitMessage pops messages in order, waits for one
// posted later, and times out when none comes.
func TestUpcallsWaitMessage(t *testing.T) {
	u := NewUpcalls()
	_ = u.WPUPostMessage(1, 0x401, 2, 3)
	_ = u.WPUPostMessage(1, 0x401, 2, 4)
	for _, lp := range []uintptr{3, 4} {
		if m, ok := u.WaitMessage(time.Second); !ok || m.LParam != lp {
			t.Fatalf("WaitMessage = %+v, %v; want lParam %d", m, ok, lp)
		}
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		_ = u.WPUPostMessage(1, 0x401, 2, 5)
	}()
	if m, ok := u.WaitMessage(5 * time.Second); !ok || m.LParam != 5 {
		t.Fatalf("WaitMessage for a later message = %+v, %v", m, ok)
	}
	start := time.Now()
	if m, ok := u.WaitMessage(30 * time.Millisecond); ok || time.Since(start) < 25*time.Millisecond {
		t.Fatalf("WaitMessage with nothing posted = %+v, %v after %v", m, ok, time.Since(start))
	}
}

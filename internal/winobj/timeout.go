package winobj

import (
	"time"

	"github.com/ws2go/ws2/wsa"
)

// Infinite is the timeout of a wait that never times out (INFINITE). Every
// negative duration means the same.
const Infinite time.Duration = -1

// Millis converts a Win32 timeout in milliseconds (a DWORD dwTimeout or
// dwMilliseconds) to the duration the functions of this package take:
// WSA_INFINITE (0xFFFFFFFF) becomes [Infinite], anything else that many
// milliseconds (0 stays 0: poll).
func Millis(ms uint32) time.Duration {
	if ms == wsa.WSA_INFINITE {
		return Infinite
	}
	return time.Duration(ms) * time.Millisecond
}

// deadline is the timer of one blocking call: a nil channel for an infinite
// wait (it never fires) and for a poll (the caller never blocks).
type deadline struct {
	t *time.Timer
}

func newDeadline(d time.Duration) deadline {
	if d <= 0 {
		return deadline{}
	}
	return deadline{time.NewTimer(d)}
}

// C returns the channel that receives when the time is up, or nil.
func (d deadline) C() <-chan time.Time {
	if d.t == nil {
		return nil
	}
	return d.t.C
}

func (d deadline) stop() {
	if d.t != nil {
		d.t.Stop()
	}
}

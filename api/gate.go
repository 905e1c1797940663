package api

import (
	"sync"
	"sync/atomic"
)

// gateClosed is the high bit of refGate.n; the low bits count users.
const gateClosed = int64(1) << 62

// refGate counts the calls in progress on an object (a socket, or a Session
// instance for the calls that are not on a socket) and lets one closer wait
// until they have all returned. enter and leave are a CAS and an add on the
// object's own word: no lock, no shared counter on the hot path.
type refGate struct {
	n    atomic.Int64
	idle gateIdler // if set, told once right after the last user has left

	// done is made by the first shut that has users to wait for (most
	// gates are never waited on: no channel for them) and closed by
	// finish; finished records that finish ran. Both under mu.
	mu       sync.Mutex
	done     chan struct{}
	finished bool
}

// gateIdler is told when its gate is closed and has no user left.
type gateIdler interface{ gateIdle() }

func (g *refGate) init(idle gateIdler) { g.idle = idle }

func (g *refGate) finish() {
	g.mu.Lock()
	g.finished = true
	if g.done != nil {
		close(g.done)
	}
	g.mu.Unlock()
	if g.idle != nil {
		g.idle.gateIdle()
	}
}

// closedChan is the channel shut returns for a gate already finished.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// enter registers a user; false once the gate is closed.
func (g *refGate) enter() bool {
	for {
		n := g.n.Load()
		if n&gateClosed != 0 {
			return false
		}
		if g.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// closed reports whether the gate is closed (enter would fail).
func (g *refGate) closed() bool { return g.n.Load()&gateClosed != 0 }

// leave ends a successful enter.
func (g *refGate) leave() {
	if g.n.Add(-1) == gateClosed {
		g.finish()
	}
}

// close closes the gate: further enters fail, and the last user's leave
// finishes it. It may be called more than once.
func (g *refGate) close() {
	if old := g.n.Or(gateClosed); old == 0 {
		g.finish()
	}
}

// shut closes the gate (further enters fail) and returns a channel closed
// when the last user has left. It may be called more than once.
func (g *refGate) shut() <-chan struct{} {
	g.close()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished {
		return closedChan
	}
	if g.done == nil {
		g.done = make(chan struct{})
	}
	return g.done
}

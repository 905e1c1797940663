package api

import "sync/atomic"

// gateClosed is the high bit of refGate.n; the low bits count users.
const gateClosed = int64(1) << 62

// refGate counts the calls in progress on an object (a socket, or a Session
// instance for the calls that are not on a socket) and lets one closer wait
// until they have all returned. enter and leave are a CAS and an add on the
// object's own word: no lock, no shared counter on the hot path.
type refGate struct {
	n    atomic.Int64
	done chan struct{} // closed once: closed and no user left
	idle func()        // if set, called once right after done is closed
}

func (g *refGate) init(idle func()) {
	g.done = make(chan struct{})
	g.idle = idle
}

func (g *refGate) finish() {
	close(g.done)
	if g.idle != nil {
		g.idle()
	}
}

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

// shut closes the gate (further enters fail) and returns a channel closed
// when the last user has left. It may be called more than once.
func (g *refGate) shut() <-chan struct{} {
	if old := g.n.Or(gateClosed); old == 0 {
		g.finish()
	}
	return g.done
}

package providertest

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// asyncGoroutines maps the channel returned by async to the id of the
// goroutine running the call, for waitParked.
var asyncGoroutines sync.Map // <-chan error → uint64

// currentGoroutine returns the calling goroutine's id, from the header of
// its stack trace ("goroutine 42 [running]:").
func currentGoroutine() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
		return id
	}
	return 0
}

// Goroutine is one goroutine of a runtime.Stack dump of all goroutines.
type Goroutine struct {
	ID uint64
	// State is the scheduler state from the header ("running",
	// "select", "chan receive", "sync.Mutex.Lock", ...), without the
	// time blocked ("select, 2 minutes" is "select").
	State string
	// Stack is the goroutine's whole record: its header line and its
	// frames.
	Stack string
}

// Goroutines returns every goroutine of the process, from
// runtime.Stack(buf, true). Tests use it to wait until a call blocks, or
// to find goroutines that outlive what started them. (It lives here rather
// than in internal/testutil because this package may import only wsa and
// provider; see imports_test.go.)
func Goroutines() []Goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []Goroutine
	for _, rec := range bytes.Split(buf, []byte("\n\n")) {
		head, _, _ := bytes.Cut(rec, []byte("\n"))
		head = bytes.TrimPrefix(head, []byte("goroutine "))
		id, rest, ok := bytes.Cut(head, []byte(" ["))
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(string(id), 10, 64)
		if err != nil {
			continue
		}
		state, _, _ := bytes.Cut(rest, []byte("]"))
		state, _, _ = bytes.Cut(state, []byte(",")) // "select, 2 minutes"
		gs = append(gs, Goroutine{ID: n, State: string(state), Stack: string(rec)})
	}
	return gs
}

// goroutineStates returns the scheduler state of every goroutine, by id.
func goroutineStates() map[uint64]string {
	states := make(map[uint64]string)
	for _, g := range Goroutines() {
		states[g.ID] = g.State
	}
	return states
}

// blockedStates are the scheduler states of a goroutine blocked on a
// channel, which is how every blocking call of a provider waits (see
// wsp.Readiness). A goroutine in any other state may not have reached its
// blocking point yet: running, runnable, in a system call, but also parked
// on a mutex or for the garbage collector ("sync.Mutex.Lock", "GC assist
// wait") on its way there, which waitParked once took for blocked (a
// closesocket then ran before the call had looked up its handle, which
// failed WSAENOTSOCK instead of WSAEINTR).
var blockedStates = map[string]bool{
	"select":         true,
	"chan receive":   true,
	"chan send":      true,
	"sync.Cond.Wait": true,
}

// waitParked waits until the goroutines of the given async calls are
// blocked on a channel (blockedStates), so that what the test does next
// happens while they block rather than racing their start. A call that
// already returned counts as parked.
// After 10 s it gives up and lets the test go on (the assertions that follow
// then report what went wrong).
func (e *env) waitParked(calls ...<-chan error) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		states := goroutineStates()
		all := true
		for _, ch := range calls {
			v, ok := asyncGoroutines.Load(ch)
			if !ok {
				if len(ch) == 0 {
					all = false // not started yet
				}
				continue // or already returned
			}
			if st, alive := states[v.(uint64)]; alive && !blockedStates[st] {
				all = false
			}
		}
		if all {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

package api

import (
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

// handleKind says what a handle-table slot holds. Sockets and the other
// handles (event objects, the APC queue that stands for the Session's
// thread, completion ports, message queues standing for windows) share one
// table, so no two objects ever share a value, as in a Windows process handle
// table.
type handleKind uint8

const (
	kindSocket handleKind = iota + 1
	kindEvent
	kindAPCQueue
	kindPort
	kindMsgQueue
)

// handleEntry is one live handle. Exactly one of the object pointers is set,
// according to kind. Entries are immutable once published; identity (the
// pointer) tells a reused value from the object that had it before.
type handleEntry struct {
	kind  handleKind
	h     uintptr
	sock  *socketObj
	event *winobj.Event
	apc   *winobj.APCQueue
	port  *winobj.Port
	mq    *winobj.MessageQueue
}

// Handle-table geometry. A handle is index*4 (multiples of 4 as in Windows,
// never 0 and never INVALID_SOCKET). Index 0 is never used. The table is a
// directory of fixed chunks of atomic slots: the directory is replaced (copy
// on grow) under the lock, chunks never move, so a lookup is two dependent
// loads and one atomic load, with no lock.
const (
	chunkBits  = 10
	chunkSize  = 1 << chunkBits
	maxHandles = 1 << 24 // indexes; beyond that WSAEMFILE
)

type chunk [chunkSize]atomic.Pointer[handleEntry]

type handleTable struct {
	dir atomic.Pointer[[]*chunk]

	mu     sync.Mutex
	free   []uint32 // freed indexes, reused LIFO (Windows reuses values at once)
	next   uint32   // lowest never-used index
	closed bool
}

func newHandleTable() *handleTable {
	t := &handleTable{next: 1}
	dir := []*chunk{new(chunk)}
	t.dir.Store(&dir)
	return t
}

// slot returns the slot of handle h, or nil for a value that cannot be a
// handle of this table.
func (t *handleTable) slot(h uintptr) *atomic.Pointer[handleEntry] {
	if h == 0 || h&3 != 0 {
		return nil
	}
	idx := h >> 2
	dir := *t.dir.Load()
	if c := idx >> chunkBits; c < uintptr(len(dir)) {
		return &dir[c][idx&(chunkSize-1)]
	}
	return nil
}

// lookup returns the live entry for h, or nil. Lock-free.
func (t *handleTable) lookup(h uintptr) *handleEntry {
	if s := t.slot(h); s != nil {
		return s.Load()
	}
	return nil
}

// socket returns the socket object of h, or nil if h is not a live socket.
func (t *handleTable) socket(h wsa.Socket) *socketObj {
	if e := t.lookup(uintptr(h)); e != nil && e.kind == kindSocket {
		return e.sock
	}
	return nil
}

// insert allocates a handle for e (filling e.h) and publishes it. It fails
// with WSANOTINITIALISED once the table is closed and WSAEMFILE when full.
func (t *handleTable) insert(e *handleEntry) (uintptr, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, wsa.WSANOTINITIALISED
	}
	var idx uint32
	if n := len(t.free); n > 0 {
		idx = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		if t.next >= maxHandles {
			return 0, wsa.WSAEMFILE
		}
		idx = t.next
		t.next++
		dir := *t.dir.Load()
		if c := int(idx >> chunkBits); c >= len(dir) {
			grown := make([]*chunk, c+1, 2*(c+1))
			copy(grown, dir)
			grown[c] = new(chunk)
			t.dir.Store(&grown)
		}
	}
	e.h = uintptr(idx) << 2
	t.slot(e.h).Store(e)
	return e.h, nil
}

// remove frees e's handle if the slot still holds e (and not an object that
// reused the value since). It reports whether it did.
func (t *handleTable) remove(e *handleEntry) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.slot(e.h)
	if s == nil || !s.CompareAndSwap(e, nil) {
		return false
	}
	t.free = append(t.free, uint32(e.h>>2))
	return true
}

// close empties the table and returns the entries it held; later inserts
// fail with WSANOTINITIALISED.
func (t *handleTable) close() []*handleEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	var held []*handleEntry
	for _, c := range *t.dir.Load() {
		for i := range c {
			if e := c[i].Swap(nil); e != nil {
				held = append(held, e)
			}
		}
	}
	t.free = nil
	return held
}

// object returns the live entry of h if it is of kind k, or nil.
func (t *handleTable) object(h wsa.Handle, k handleKind) *handleEntry {
	if e := t.lookup(uintptr(h)); e != nil && e.kind == k {
		return e
	}
	return nil
}

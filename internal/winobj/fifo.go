package winobj

// fifo is an unbounded first-in first-out queue on a slice, with amortised
// O(1) push and pop. Popped slots are zeroed so the queue keeps no
// references to values it has handed out. Not safe for concurrent use: every
// owner guards it with its own mutex.
type fifo[T any] struct {
	buf  []T
	head int
}

func (f *fifo[T]) len() int { return len(f.buf) - f.head }

func (f *fifo[T]) push(v T) { f.buf = append(f.buf, v) }

// pop removes the oldest value; the queue must not be empty.
func (f *fifo[T]) pop() T {
	var zero T
	v := f.buf[f.head]
	f.buf[f.head] = zero
	f.head++
	switch n := len(f.buf) - f.head; {
	case n == 0:
		f.buf, f.head = f.buf[:0], 0
	case f.head >= 64 && f.head >= n:
		// More than half the slice is dead: slide the live part down.
		copy(f.buf, f.buf[f.head:])
		clear(f.buf[n:])
		f.buf, f.head = f.buf[:n], 0
	}
	return v
}

// peek returns the oldest value without removing it; the queue must not be
// empty.
func (f *fifo[T]) peek() T { return f.buf[f.head] }

// clear drops every value.
func (f *fifo[T]) clear() {
	clear(f.buf)
	f.buf, f.head = nil, 0
}

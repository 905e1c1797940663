package netstack

import (
	"io"

	"github.com/ws2go/ws2/provider/internal/wsp"
)

// bufLen is the total length of a WSABUF array.
func bufLen(bufs [][]byte) int { return wsp.BufLen(bufs) }

// scatterWriter is the io.Writer handed to Endpoint.Read: it copies what
// gVisor gives straight into the caller's buffers, in order, with no
// intermediate copy.
//
// When the buffers are full, a stream writer refuses the rest with
// io.ErrShortWrite (gVisor then keeps it queued for the next read); a
// datagram writer (discard set) swallows it, so the rest of a datagram
// larger than the buffers is dropped as Winsock does, and counts it in
// total so the caller can report WSAEMSGSIZE.
type scatterWriter struct {
	bufs    [][]byte
	i       int  // current buffer
	off     int  // offset in bufs[i]
	n       int  // bytes copied into bufs
	total   int  // bytes offered by gVisor
	discard bool // datagram: drop what does not fit instead of refusing it
}

// Write implements io.Writer.
func (w *scatterWriter) Write(p []byte) (int, error) {
	w.total += len(p)
	done := 0
	for done < len(p) && w.i < len(w.bufs) {
		c := copy(w.bufs[w.i][w.off:], p[done:])
		done += c
		w.off += c
		if w.off == len(w.bufs[w.i]) {
			w.i++
			w.off = 0
		}
	}
	w.n += done
	if done < len(p) {
		if w.discard {
			return len(p), nil
		}
		w.total -= len(p) - done
		return done, io.ErrShortWrite
	}
	return done, nil
}

// full reports whether every buffer is filled.
func (w *scatterWriter) full() bool {
	for w.i < len(w.bufs) && len(w.bufs[w.i]) == 0 {
		w.i++
	}
	return w.i >= len(w.bufs)
}

// gatherReader is the tcpip.Payloader handed to Endpoint.Write: gVisor reads
// the caller's buffers through it directly into its own segment views, the
// only copy on the send path.
type gatherReader struct {
	bufs [][]byte
	i    int // current buffer
	off  int // offset in bufs[i]
	left int // bytes not yet read
}

// newGatherReader returns a reader over bufs starting at byte offset skip.
func newGatherReader(bufs [][]byte, skip int) *gatherReader {
	r := new(gatherReader)
	r.reset(bufs, skip)
	return r
}

// reset makes r a reader over bufs starting at byte offset skip, so that
// an operation reuses one reader for all its attempts.
func (r *gatherReader) reset(bufs [][]byte, skip int) {
	*r = gatherReader{bufs: bufs, left: bufLen(bufs) - skip}
	for skip > 0 && r.i < len(bufs) {
		if skip < len(bufs[r.i]) {
			r.off = skip
			break
		}
		skip -= len(bufs[r.i])
		r.i++
	}
}

// Read implements io.Reader.
func (r *gatherReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.i < len(r.bufs) {
		c := copy(p[n:], r.bufs[r.i][r.off:])
		n += c
		r.off += c
		if r.off == len(r.bufs[r.i]) {
			r.i++
			r.off = 0
		}
	}
	r.left -= n
	return n, nil
}

// Len implements tcpip.Payloader: the bytes not yet read.
func (r *gatherReader) Len() int { return r.left }

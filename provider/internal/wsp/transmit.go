package wsp

import (
	"io"
	"os"

	"github.com/ws2go/ws2/wsa"
)

// TransmitFile and TransmitPackets (spec §2.7, §5.10), independent of the
// transport: the data is read from the file with ReadAt in chunks of
// bytesPerSend / sendSize (default 64 KiB, at most 1 MiB) and handed to the
// provider's non-blocking send steps, in the goroutine that tries the
// operation (the issuing call, then the socket's pump when the connection
// has room again); no goroutine is started per operation.

const (
	defaultChunk = 64 << 10
	maxChunk     = 1 << 20
	tfKnown      = wsa.TF_DISCONNECT | wsa.TF_REUSE_SOCKET | wsa.TF_WRITE_BEHIND | wsa.TF_USE_SYSTEM_THREAD | wsa.TF_USE_KERNEL_APC
)

// CheckTransmitFlags validates TransmitFile/TransmitPackets flags:
// TF_DISCONNECT, TF_REUSE_SOCKET (only with TF_DISCONNECT),
// TF_WRITE_BEHIND and the TF_USE_* worker hints; any other bit is
// WSAEINVAL.
func CheckTransmitFlags(flags uint32) error {
	if flags&^tfKnown != 0 {
		return wsa.WSAEINVAL
	}
	if flags&wsa.TF_REUSE_SOCKET != 0 && flags&wsa.TF_DISCONNECT == 0 {
		return wsa.WSAEINVAL
	}
	return nil
}

// ChunkSize is the read size for bytesPerSend / sendSize n.
func ChunkSize(n uint32) int {
	switch {
	case n == 0:
		return defaultChunk
	case n > maxChunk:
		return maxChunk
	}
	return int(n)
}

// Segment is a piece of what a transmit sends: memory, or a range of a
// file (Left -1: to the end of the file).
type Segment struct {
	Mem  []byte
	File *os.File
	Off  int64
	Left int64
	EOP  bool
	pos  int // memory: bytes sent
}

// FileSegments are TransmitFile's segments: buffers.Head, then
// bytesToWrite bytes of file (0: to its end) from the offset in ov (Offset,
// OffsetHigh), or, without an OVERLAPPED, from the file's current offset
// (returned as start); then buffers.Tail. file may be nil.
func FileSegments(file *os.File, bytesToWrite uint32, ov *wsa.Overlapped, buffers *wsa.TransmitFileBuffers) (segs []Segment, start int64, err error) {
	if buffers != nil && len(buffers.Head) > 0 {
		segs = append(segs, Segment{Mem: buffers.Head})
	}
	if file != nil {
		if ov != nil {
			start = int64(ov.OffsetHigh)<<32 | int64(ov.Offset)
		} else if start, err = file.Seek(0, io.SeekCurrent); err != nil {
			return nil, 0, wsa.WSAEINVAL
		}
		left := int64(-1)
		if bytesToWrite != 0 {
			left = int64(bytesToWrite)
		}
		segs = append(segs, Segment{File: file, Off: start, Left: left})
	}
	if buffers != nil && len(buffers.Tail) > 0 {
		segs = append(segs, Segment{Mem: buffers.Tail})
	}
	return segs, start, nil
}

// PacketSegments are TransmitPackets' elements: each memory
// (TP_ELEMENT_MEMORY: Buffer, or its first Length bytes) or a file range
// (TP_ELEMENT_FILE: Length bytes of File from FileOffset; Length 0 to the
// end of the file; FileOffset -1 the file's current offset). An element
// must be exactly one of the two (TP_ELEMENT_EOP may be added), else
// WSAEINVAL; a Length beyond Buffer is WSAEFAULT; a file element without a
// file WSAEINVAL.
func PacketSegments(elements []wsa.TransmitPacketsElement) ([]Segment, error) {
	segs := make([]Segment, 0, len(elements))
	for _, e := range elements {
		kind := e.Flags &^ wsa.TP_ELEMENT_EOP
		seg := Segment{EOP: e.Flags&wsa.TP_ELEMENT_EOP != 0}
		switch kind {
		case wsa.TP_ELEMENT_MEMORY:
			seg.Mem = e.Buffer
			if e.Length != 0 {
				if int64(e.Length) > int64(len(e.Buffer)) {
					return nil, wsa.WSAEFAULT
				}
				seg.Mem = e.Buffer[:e.Length]
			}
		case wsa.TP_ELEMENT_FILE:
			if e.File == nil {
				return nil, wsa.WSAEINVAL
			}
			seg.File, seg.Off, seg.Left = e.File, e.FileOffset, -1
			if e.FileOffset == -1 {
				off, err := e.File.Seek(0, io.SeekCurrent)
				if err != nil {
					return nil, wsa.WSAEINVAL
				}
				seg.Off = off
			} else if e.FileOffset < 0 {
				return nil, wsa.WSAEINVAL
			}
			if e.Length != 0 {
				seg.Left = int64(e.Length)
			}
		default:
			return nil, wsa.WSAEINVAL
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

// StreamTransmitter is the state of one TransmitFile or TransmitPackets on
// a stream socket; Try is its operation's try step.
type StreamTransmitter struct {
	// SendAll sends all of bufs (total bytes), *sent of them already, with
	// the socket's non-blocking steps: WSAEWOULDBLOCK until all is
	// buffered.
	SendAll func(bufs [][]byte, total int, sent *int) error
	// Disconnect, if set, runs after the data (TF_DISCONNECT) until it
	// returns something other than WSAEWOULDBLOCK.
	Disconnect func() error

	segs  []Segment
	i     int
	buf   []byte // chunk buffer
	chunk []byte // file data read and not yet all sent
	cpos  int
	sent  int64
	// fileSent counts the bytes sent from files (TransmitFile's file, to
	// advance its offset when ov is nil).
	fileSent int64
}

// NewStreamTransmitter returns a transmitter of segs reading files in
// chunks of chunk bytes.
func NewStreamTransmitter(segs []Segment, chunk int, sendAll func([][]byte, int, *int) error) *StreamTransmitter {
	t := &StreamTransmitter{SendAll: sendAll, segs: segs}
	for _, s := range segs {
		if s.File != nil {
			t.buf = make([]byte, chunk)
			break
		}
	}
	return t
}

// Sent is the bytes sent so far.
func (t *StreamTransmitter) Sent() uint32 { return uint32(t.sent) }

// FileSent is the bytes sent from files so far.
func (t *StreamTransmitter) FileSent() int64 { return t.fileSent }

// Try is the operation's try step.
func (t *StreamTransmitter) Try() (uint32, uint32, error) {
	for t.i < len(t.segs) {
		seg := &t.segs[t.i]
		if seg.File == nil {
			before := seg.pos
			err := t.SendAll([][]byte{seg.Mem}, len(seg.Mem), &seg.pos)
			t.sent += int64(seg.pos - before)
			if err != nil {
				return uint32(t.sent), 0, err
			}
			t.i++
			continue
		}
		if t.cpos == len(t.chunk) {
			if seg.Left == 0 {
				t.i++
				t.chunk, t.cpos = nil, 0
				continue
			}
			size := len(t.buf)
			if seg.Left > 0 && seg.Left < int64(size) {
				size = int(seg.Left)
			}
			n, err := seg.File.ReadAt(t.buf[:size], seg.Off)
			if n == 0 {
				if err == nil || err == io.EOF {
					seg.Left = 0 // the end of the file
					continue
				}
				return uint32(t.sent), 0, wsa.WSAEINVAL
			}
			t.chunk, t.cpos = t.buf[:n], 0
			seg.Off += int64(n)
			if seg.Left > 0 {
				seg.Left -= int64(n)
			}
		}
		before := t.cpos
		err := t.SendAll([][]byte{t.chunk}, len(t.chunk), &t.cpos)
		t.sent += int64(t.cpos - before)
		t.fileSent += int64(t.cpos - before)
		if err != nil {
			return uint32(t.sent), 0, err
		}
	}
	if t.Disconnect != nil {
		if err := t.Disconnect(); err != nil {
			return uint32(t.sent), 0, err
		}
	}
	return uint32(t.sent), 0, nil
}

// DgramTransmitter is TransmitPackets on a connected datagram socket:
// consecutive elements are combined into one datagram up to one marked
// TP_ELEMENT_EOP or the last.
type DgramTransmitter struct {
	// Send sends one datagram with the socket's non-blocking step
	// (WSAEWOULDBLOCK to wait).
	Send func(bufs [][]byte) error
	// Limit is the largest datagram; more is WSAEMSGSIZE.
	Limit int

	segs []Segment
	i    int
	next int      // first element after the current datagram
	dg   [][]byte // the current datagram, nil before it is built
	size int
	sent int64
}

// NewDgramTransmitter returns a transmitter of segs.
func NewDgramTransmitter(segs []Segment, limit int, send func([][]byte) error) *DgramTransmitter {
	return &DgramTransmitter{Send: send, Limit: limit, segs: segs}
}

// Sent is the bytes sent so far.
func (d *DgramTransmitter) Sent() uint32 { return uint32(d.sent) }

// Try is the operation's try step.
func (d *DgramTransmitter) Try() (uint32, uint32, error) {
	for d.i < len(d.segs) {
		if d.dg == nil {
			if err := d.build(); err != nil {
				return uint32(d.sent), 0, err
			}
		}
		if err := d.Send(d.dg); err != nil {
			return uint32(d.sent), 0, err
		}
		d.sent += int64(d.size)
		d.i, d.dg = d.next, nil
	}
	return uint32(d.sent), 0, nil
}

// build gathers the elements of the next datagram, reading file ranges
// into memory.
func (d *DgramTransmitter) build() error {
	var dg [][]byte
	size := 0
	j := d.i
	for ; j < len(d.segs); j++ {
		seg := d.segs[j]
		b := seg.Mem
		if seg.File != nil {
			n := int64(d.Limit - size + 1)
			if seg.Left >= 0 && seg.Left < n {
				n = seg.Left
			}
			b = make([]byte, n)
			m, err := seg.File.ReadAt(b, seg.Off)
			if err != nil && err != io.EOF {
				return wsa.WSAEINVAL
			}
			b = b[:m]
		}
		dg = append(dg, b)
		size += len(b)
		if size > d.Limit {
			return wsa.WSAEMSGSIZE
		}
		if seg.EOP {
			j++
			break
		}
	}
	d.dg, d.size, d.next = dg, size, j
	return nil
}

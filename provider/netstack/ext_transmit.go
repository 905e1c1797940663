package netstack

import (
	"io"
	"os"

	"github.com/ws2go/ws2/wsa"
)

// TransmitFile and TransmitPackets (spec §2.7, §5.10).
//
// Both are one operation of the socket's send queue (so they start after the
// sends issued before them, and later sends wait for them), run by the same
// try/queue machinery as WSASend: the data is read from the file with ReadAt
// in chunks of bytesPerSend / sendSize (default 64 KiB, at most 1 MiB), in
// the goroutine that tries the operation (the issuing call, then the
// socket's pump when the connection has room again); no goroutine is
// started per operation. The completion's bytes are everything sent.
//
// flags: TF_DISCONNECT shuts the connection down (our FIN) after the data;
// with TF_REUSE_SOCKET (only with TF_DISCONNECT, else WSAEINVAL) the
// operation then completes only once the connection is disconnected (the
// peer's FIN), as DisconnectEx does, and the socket is reusable as after
// DisconnectEx(TF_REUSE_SOCKET). TF_WRITE_BEHIND and the TF_USE_* worker hints are
// accepted and ignored; any other bit is WSAEINVAL. A file that cannot be
// read completes the operation with WSAEINVAL (Windows would report the
// file system's error). Without an OVERLAPPED the call blocks.

const (
	defaultChunk = 64 << 10
	maxChunk     = 1 << 20
	tfKnown      = wsa.TF_DISCONNECT | wsa.TF_REUSE_SOCKET | wsa.TF_WRITE_BEHIND | wsa.TF_USE_SYSTEM_THREAD | wsa.TF_USE_KERNEL_APC
)

// newTransmitDisconnector is the tail of a transmit with TF_DISCONNECT.
func newTransmitDisconnector(s *socket, flags uint32) *disconnector {
	reuse := flags&wsa.TF_REUSE_SOCKET != 0
	return &disconnector{s: s, reuse: reuse, noWait: !reuse}
}

// checkTransmitFlags validates TransmitFile/TransmitPackets flags.
func checkTransmitFlags(flags uint32) error {
	if flags&^tfKnown != 0 {
		return wsa.WSAEINVAL
	}
	if flags&wsa.TF_REUSE_SOCKET != 0 && flags&wsa.TF_DISCONNECT == 0 {
		return wsa.WSAEINVAL
	}
	return nil
}

func chunkSize(n uint32) int {
	switch {
	case n == 0:
		return defaultChunk
	case n > maxChunk:
		return maxChunk
	}
	return int(n)
}

// segment is a piece of what a transmit sends: memory, or a range of a
// file (left -1: to the end of the file).
type segment struct {
	mem  []byte
	file *os.File
	off  int64
	left int64
	pos  int // memory: bytes sent
	eop  bool
}

// transmitter is the state of one TransmitFile or TransmitPackets on a
// stream socket.
type transmitter struct {
	s     *socket
	segs  []segment
	i     int
	buf   []byte // chunk buffer
	chunk []byte // file data read and not yet all sent
	cpos  int
	sent  int64
	disc  *disconnector
	// fileSent counts the bytes sent from segment fileSeg (TransmitFile's
	// file, to advance its offset when ov is nil).
	fileSent int64
}

func (t *transmitter) try() (uint32, uint32, error) {
	for t.i < len(t.segs) {
		seg := &t.segs[t.i]
		if seg.file == nil {
			before := seg.pos
			err := t.s.sendAll([][]byte{seg.mem}, len(seg.mem), &seg.pos)
			t.sent += int64(seg.pos - before)
			if err != nil {
				return uint32(t.sent), 0, err
			}
			t.i++
			continue
		}
		if t.cpos == len(t.chunk) {
			if seg.left == 0 {
				t.i++
				t.chunk, t.cpos = nil, 0
				continue
			}
			size := len(t.buf)
			if seg.left > 0 && seg.left < int64(size) {
				size = int(seg.left)
			}
			n, err := seg.file.ReadAt(t.buf[:size], seg.off)
			if n == 0 {
				if err == nil || err == io.EOF {
					seg.left = 0 // the end of the file
					continue
				}
				return uint32(t.sent), 0, wsa.WSAEINVAL
			}
			t.chunk, t.cpos = t.buf[:n], 0
			seg.off += int64(n)
			if seg.left > 0 {
				seg.left -= int64(n)
			}
		}
		before := t.cpos
		err := t.s.sendAll([][]byte{t.chunk}, len(t.chunk), &t.cpos)
		t.sent += int64(t.cpos - before)
		t.fileSent += int64(t.cpos - before)
		if err != nil {
			return uint32(t.sent), 0, err
		}
	}
	if t.disc != nil {
		if err := t.disc.try(); err != nil {
			return uint32(t.sent), 0, err
		}
	}
	return uint32(t.sent), 0, nil
}

// transmitFile is TransmitFile on a connected stream socket (a datagram
// socket is WSAEOPNOTSUPP; an unconnected one WSAENOTCONN; after
// shutdown(SD_SEND) WSAESHUTDOWN): buffers.Head, then bytesToWrite bytes
// of file (0: to its end) from the offset in ov (Offset, OffsetHigh), or,
// without an OVERLAPPED, from the file's current offset, which then
// advances past the bytes sent; then buffers.Tail. file may be nil.
func (ss *session) transmitFile(h wsa.Socket, file *os.File, bytesToWrite, bytesPerSend uint32, ov *wsa.Overlapped, buffers *wsa.TransmitFileBuffers, flags uint32) error {
	s, up, err := ss.extSocket(h)
	if err != nil {
		return err
	}
	if !s.stream {
		return wsa.WSAEOPNOTSUPP
	}
	if err := checkTransmitFlags(flags); err != nil {
		return err
	}
	if err := s.checkSendStream(0); err != nil {
		return err
	}
	t := &transmitter{s: s}
	if buffers != nil && len(buffers.Head) > 0 {
		t.segs = append(t.segs, segment{mem: buffers.Head})
	}
	var start int64
	if file != nil {
		if ov != nil {
			start = int64(ov.OffsetHigh)<<32 | int64(ov.Offset)
		} else if start, err = file.Seek(0, io.SeekCurrent); err != nil {
			return wsa.WSAEINVAL
		}
		left := int64(-1)
		if bytesToWrite != 0 {
			left = int64(bytesToWrite)
		}
		t.segs = append(t.segs, segment{file: file, off: start, left: left})
		t.buf = make([]byte, chunkSize(bytesPerSend))
	}
	if buffers != nil && len(buffers.Tail) > 0 {
		t.segs = append(t.segs, segment{mem: buffers.Tail})
	}
	if flags&wsa.TF_DISCONNECT != 0 {
		t.disc = newTransmitDisconnector(s, flags)
	}
	op := s.newOp(up, ov, nil, nil)
	op.try = t.try
	op.partial = func() uint32 { return uint32(t.sent) }
	if file != nil && ov == nil {
		op.finish = func(error) { _, _ = file.Seek(start+t.fileSent, io.SeekStart) }
	}
	_, err = extCall(s, &s.ovq.send, op)
	return err
}

// transmitPackets is TransmitPackets: the elements in order, each memory
// (TP_ELEMENT_MEMORY: Buffer, or its first Length bytes) or a file range
// (TP_ELEMENT_FILE: Length bytes of File from FileOffset; Length 0 to the
// end of the file; FileOffset -1 the file's current offset). An element
// must be exactly one of the two (TP_ELEMENT_EOP may be added), else
// WSAEINVAL; a Length beyond Buffer is WSAEFAULT; a file element without a
// file WSAEINVAL.
//
// On a connected stream socket the elements are sent as one stream (as
// TransmitFile). On a connected datagram socket (unconnected: WSAENOTCONN)
// consecutive elements are combined into one datagram up to one marked
// TP_ELEMENT_EOP or the last; TF_DISCONNECT (and so TF_REUSE_SOCKET) is
// WSAEINVAL there.
func (ss *session) transmitPackets(h wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error {
	s, up, err := ss.extSocket(h)
	if err != nil {
		return err
	}
	if err := checkTransmitFlags(flags); err != nil {
		return err
	}
	segs := make([]segment, 0, len(elements))
	for _, e := range elements {
		kind := e.Flags &^ wsa.TP_ELEMENT_EOP
		seg := segment{eop: e.Flags&wsa.TP_ELEMENT_EOP != 0}
		switch kind {
		case wsa.TP_ELEMENT_MEMORY:
			seg.mem = e.Buffer
			if e.Length != 0 {
				if int64(e.Length) > int64(len(e.Buffer)) {
					return wsa.WSAEFAULT
				}
				seg.mem = e.Buffer[:e.Length]
			}
		case wsa.TP_ELEMENT_FILE:
			if e.File == nil {
				return wsa.WSAEINVAL
			}
			seg.file, seg.off, seg.left = e.File, e.FileOffset, -1
			if e.FileOffset == -1 {
				off, err := e.File.Seek(0, io.SeekCurrent)
				if err != nil {
					return wsa.WSAEINVAL
				}
				seg.off = off
			} else if e.FileOffset < 0 {
				return wsa.WSAEINVAL
			}
			if e.Length != 0 {
				seg.left = int64(e.Length)
			}
		default:
			return wsa.WSAEINVAL
		}
		segs = append(segs, seg)
	}
	op := s.newOp(up, ov, nil, nil)
	if s.stream {
		if err := s.checkSendStream(0); err != nil {
			return err
		}
		t := &transmitter{s: s, segs: segs, buf: make([]byte, chunkSize(sendSize))}
		if flags&wsa.TF_DISCONNECT != 0 {
			t.disc = newTransmitDisconnector(s, flags)
		}
		op.try = t.try
		op.partial = func() uint32 { return uint32(t.sent) }
	} else {
		if flags&wsa.TF_DISCONNECT != 0 {
			return wsa.WSAEINVAL
		}
		s.mu.Lock()
		peer, shut := s.udpPeer, s.shutSend
		s.mu.Unlock()
		switch {
		case shut:
			return wsa.WSAESHUTDOWN
		case !peer:
			return wsa.WSAENOTCONN
		}
		d := &dgramTransmitter{s: s, segs: segs}
		op.try = d.try
		op.partial = func() uint32 { return uint32(d.sent) }
	}
	_, err = extCall(s, &s.ovq.send, op)
	return err
}

// dgramTransmitter is TransmitPackets on a connected datagram socket.
type dgramTransmitter struct {
	s    *socket
	segs []segment
	i    int
	next int      // first element after the current datagram
	dg   [][]byte // the current datagram, nil before it is built
	size int
	sent int64
}

func (d *dgramTransmitter) try() (uint32, uint32, error) {
	for d.i < len(d.segs) {
		if d.dg == nil {
			if err := d.build(); err != nil {
				return uint32(d.sent), 0, err
			}
		}
		if err := d.s.trySendDgram(d.dg, nil); err != nil {
			return uint32(d.sent), 0, err
		}
		d.sent += int64(d.size)
		d.i, d.dg = d.next, nil
	}
	return uint32(d.sent), 0, nil
}

// build gathers the elements of the next datagram, reading file ranges
// into memory. More than the largest datagram is WSAEMSGSIZE.
func (d *dgramTransmitter) build() error {
	limit := maxUDP6
	if d.s.af == wsa.AF_INET {
		limit = maxUDP4
	}
	var dg [][]byte
	size := 0
	j := d.i
	for ; j < len(d.segs); j++ {
		seg := d.segs[j]
		b := seg.mem
		if seg.file != nil {
			n := int64(limit - size + 1)
			if seg.left >= 0 && seg.left < n {
				n = seg.left
			}
			b = make([]byte, n)
			m, err := seg.file.ReadAt(b, seg.off)
			if err != nil && err != io.EOF {
				return wsa.WSAEINVAL
			}
			b = b[:m]
		}
		dg = append(dg, b)
		size += len(b)
		if size > limit {
			return wsa.WSAEMSGSIZE
		}
		if seg.eop {
			j++
			break
		}
	}
	d.dg, d.size, d.next = dg, size, j
	return nil
}

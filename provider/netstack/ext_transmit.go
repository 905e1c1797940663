package netstack

import (
	"io"
	"os"

	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// TransmitFile and TransmitPackets (spec §2.7, §5.10).
//
// Both are one operation of the socket's send queue (so they start after the
// sends issued before them, and later sends wait for them), run by the same
// try/queue machinery as WSASend, with wsp's transmitters over the socket's
// non-blocking send steps: the data is read from the file with ReadAt in
// chunks of bytesPerSend / sendSize (default 64 KiB, at most 1 MiB), in
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

// newTransmitDisconnector is the tail of a transmit with TF_DISCONNECT.
func newTransmitDisconnector(s *socket, flags uint32) *disconnector {
	reuse := flags&wsa.TF_REUSE_SOCKET != 0
	return &disconnector{s: s, reuse: reuse, noWait: !reuse}
}

// TransmitFile is TransmitFile on a connected stream socket (a datagram
// socket is WSAEOPNOTSUPP; an unconnected one WSAENOTCONN; after
// shutdown(SD_SEND) WSAESHUTDOWN): buffers.Head, then bytesToWrite bytes
// of file (0: to its end) from the offset in ov (Offset, OffsetHigh), or,
// without an OVERLAPPED, from the file's current offset, which then
// advances past the bytes sent; then buffers.Tail. file may be nil.
func (ss *session) TransmitFile(h wsa.Socket, file *os.File, bytesToWrite, bytesPerSend uint32, ov *wsa.Overlapped, buffers *wsa.TransmitFileBuffers, flags uint32) error {
	s, up, err := ss.extSocket(h)
	if err != nil {
		return err
	}
	if !s.stream {
		return wsa.WSAEOPNOTSUPP
	}
	if err := wsp.CheckTransmitFlags(flags); err != nil {
		return err
	}
	if err := s.checkSendStream(0); err != nil {
		return err
	}
	segs, start, err := wsp.FileSegments(file, bytesToWrite, ov, buffers)
	if err != nil {
		return err
	}
	t := wsp.NewStreamTransmitter(segs, wsp.ChunkSize(bytesPerSend), s.sendAll)
	if flags&wsa.TF_DISCONNECT != 0 {
		t.Disconnect = newTransmitDisconnector(s, flags).try
	}
	op := s.ovq.NewOp(up, ov, nil, nil)
	op.Try = t.Try
	op.Partial = t.Sent
	if file != nil && ov == nil {
		op.Finish = func(error) { _, _ = file.Seek(start+t.FileSent(), io.SeekStart) }
	}
	_, err = extCall(s, &s.ovq.Send, op)
	return err
}

// TransmitPackets is TransmitPackets (elements: see wsp.PacketSegments).
//
// On a connected stream socket the elements are sent as one stream (as
// TransmitFile). On a connected datagram socket (unconnected: WSAENOTCONN)
// consecutive elements are combined into one datagram up to one marked
// TP_ELEMENT_EOP or the last; TF_DISCONNECT (and so TF_REUSE_SOCKET) is
// WSAEINVAL there.
func (ss *session) TransmitPackets(h wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error {
	s, up, err := ss.extSocket(h)
	if err != nil {
		return err
	}
	if err := wsp.CheckTransmitFlags(flags); err != nil {
		return err
	}
	segs, err := wsp.PacketSegments(elements)
	if err != nil {
		return err
	}
	op := s.ovq.NewOp(up, ov, nil, nil)
	if s.stream {
		if err := s.checkSendStream(0); err != nil {
			return err
		}
		t := wsp.NewStreamTransmitter(segs, wsp.ChunkSize(sendSize), s.sendAll)
		if flags&wsa.TF_DISCONNECT != 0 {
			t.Disconnect = newTransmitDisconnector(s, flags).try
		}
		op.Try = t.Try
		op.Partial = t.Sent
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
		d := wsp.NewDgramTransmitter(segs, wsp.MaxUDP(s.af == wsa.AF_INET), func(bufs [][]byte) error {
			return s.trySendDgram(bufs, nil)
		})
		op.Try = d.Try
		op.Partial = d.Sent
	}
	_, err = extCall(s, &s.ovq.Send, op)
	return err
}

package api_test

import (
	"testing"

	"github.com/ws2go/ws2/wsa"
)

// An overlapped receive of a datagram larger than its buffers that
// completes at once fails with WSAEMSGSIZE and is still delivered, as in
// Windows (STATUS_BUFFER_OVERFLOW is a warning status): the byte count (the
// buffers' size) in *recvd, the event signalled, WSAGetOverlappedResult
// giving WSAEMSGSIZE with the bytes, a completion packet with
// ERROR_MORE_DATA (234) even with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS,
// the completion routine run with WSAEMSGSIZE. Other calls failing with
// WSAEMSGSIZE did not start.
func TestOverlappedTruncatedAtOnce(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	udp := func() wsa.Socket {
		u, err := s.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, 0)
		must(t, err)
		return u
	}
	u := udp()
	p := env.prov4() // started by the first socket
	port := newPort(t, s, 0)
	_, err := s.CreateIoCompletionPort(wsa.Handle(u), port, 5, 0)
	must(t, err)
	must(t, s.SetFileCompletionNotificationModes(wsa.Handle(u), wsa.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS))
	ev := newEvent(t, s)
	buf := make([]byte, 4)

	for _, c := range []struct {
		name string
		recv func(recvd *uint32, ov *wsa.Overlapped) error
	}{
		{"WSARecv", func(recvd *uint32, ov *wsa.Overlapped) error {
			var flags uint32
			return s.WSARecv(u, [][]byte{buf}, recvd, &flags, ov, nil)
		}},
		{"WSARecvFrom", func(recvd *uint32, ov *wsa.Overlapped) error {
			var flags uint32
			var from wsa.Sockaddr
			return s.WSARecvFrom(u, [][]byte{buf}, recvd, &flags, &from, ov, nil)
		}},
		{"WSARecvMsg", func(recvd *uint32, ov *wsa.Overlapped) error {
			return s.WSARecvMsg(u, &wsa.WSAMsg{Buffers: [][]byte{buf}, Control: make([]byte, 32)}, recvd, ov, nil)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p.inject(t, u, []byte("0123456789"))
			must(t, s.WSAResetEvent(ev))
			ov := &wsa.Overlapped{HEvent: ev}
			recvd := uint32(99)
			wantErr(t, c.name, c.recv(&recvd, ov), wsa.WSAEMSGSIZE)
			if recvd != 4 || string(buf) != "0123" {
				t.Fatalf("received %d bytes %q, want 4 (the buffer's size)", recvd, buf)
			}
			if !wsa.HasOverlappedIoCompleted(ov) || !s.EventSignalled(ev) {
				t.Fatalf("completion not delivered: %+v, event signalled %v", ov, s.EventSignalled(ev))
			}
			var n, flags uint32
			wantErr(t, "WSAGetOverlappedResult", s.WSAGetOverlappedResult(u, ov, &n, false, &flags), wsa.WSAEMSGSIZE)
			if n != 4 {
				t.Fatalf("WSAGetOverlappedResult: %d bytes", n)
			}
			pkt := gqcs(s, port, 0)
			if pkt.ov != ov || pkt.key != 5 || pkt.qty != 4 {
				t.Fatalf("packet %+v", pkt)
			}
			wantErr(t, "GetQueuedCompletionStatus", pkt.err, wsa.ERROR_MORE_DATA)
			wantNoPacket(t, s, port)
			if s.PendingOps() != 0 {
				t.Errorf("%d operations still tracked", s.PendingOps())
			}
		})
	}

	t.Run("success at once skips the port", func(t *testing.T) {
		p.inject(t, u, []byte("ok"))
		var recvd, flags uint32
		must(t, s.WSARecv(u, [][]byte{buf}, &recvd, &flags, &wsa.Overlapped{}, nil))
		if recvd != 2 {
			t.Fatalf("received %d", recvd)
		}
		wantNoPacket(t, s, port)
	})

	t.Run("pending", func(t *testing.T) {
		ov := &wsa.Overlapped{}
		var flags uint32
		wantErr(t, "WSARecv", s.WSARecv(u, [][]byte{buf}, nil, &flags, ov, nil), wsa.WSA_IO_PENDING)
		p.inject(t, u, []byte("abcdefgh"))
		pkt := gqcs(s, port, wsa.WSA_INFINITE)
		if pkt.ov != ov || pkt.qty != 4 || string(buf) != "abcd" {
			t.Fatalf("packet %+v, %q", pkt, buf)
		}
		wantErr(t, "GetQueuedCompletionStatus", pkt.err, wsa.ERROR_MORE_DATA)
		var n uint32
		wantErr(t, "WSAGetOverlappedResult", s.WSAGetOverlappedResult(u, ov, &n, false, &flags), wsa.WSAEMSGSIZE)
	})

	t.Run("completion routine", func(t *testing.T) {
		u2 := udp()
		p.inject(t, u2, []byte("ABCDEFGH"))
		type call struct{ code, n uint32 }
		var calls []call
		cr := func(code, n uint32, _ *wsa.Overlapped, _ uint32) { calls = append(calls, call{code, n}) }
		var recvd, flags uint32
		ov := &wsa.Overlapped{}
		wantErr(t, "WSARecv", s.WSARecv(u2, [][]byte{buf}, &recvd, &flags, ov, cr), wsa.WSAEMSGSIZE)
		if recvd != 4 || len(calls) != 0 {
			t.Fatalf("received %d; routine run before an alertable wait: %v", recvd, calls)
		}
		if r := s.SleepEx(0, true); r != wsa.WSA_WAIT_IO_COMPLETION {
			t.Fatalf("SleepEx: %#x", r)
		}
		if len(calls) != 1 || calls[0] != (call{uint32(wsa.WSAEMSGSIZE), 4}) || string(buf) != "ABCD" {
			t.Fatalf("completion routine calls %+v, %q", calls, buf)
		}
	})

	t.Run("not a receive", func(t *testing.T) {
		// WSAEMSGSIZE from anything else means "not started": recorded in
		// the OVERLAPPED, nothing delivered.
		must(t, s.WSAResetEvent(ev))
		ov := &wsa.Overlapped{HEvent: ev}
		var ret uint32
		wantErr(t, "WSAIoctl", s.WSAIoctl(u, ioctlFailMsgSize, nil, nil, &ret, ov, nil), wsa.WSAEMSGSIZE)
		if !wsa.HasOverlappedIoCompleted(ov) || wsa.Errno(ov.Internal) != wsa.WSAEMSGSIZE || s.EventSignalled(ev) {
			t.Fatalf("failed ioctl: %+v, event signalled %v", ov, s.EventSignalled(ev))
		}
		wantNoPacket(t, s, port)
	})
}

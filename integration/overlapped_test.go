package integration

import (
	"fmt"
	"testing"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// Overlapped I/O through the api down to the netstack provider, on a
// loopback host: the completion rules that need the api's event objects,
// completion ports and APC queue together with the real provider.

// stepMillis is stepTimeout as a Win32 timeout.
const stepMillis = uint32(stepTimeout / 1e6)

// loopbackHost returns a loopback host closed at the end of the test.
func loopbackHost(t *testing.T) *api.Session {
	t.Helper()
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h.Session
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// tcpPair returns a connected loopback TCP pair: the client and the
// accepted socket.
func tcpPair(t *testing.T, s *api.Session) (c, a wsa.Socket) {
	t.Helper()
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	must(t, "socket", err)
	defer s.Closesocket(l)
	must(t, "bind", s.Bind(l, &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	must(t, "listen", s.Listen(l, 1))
	to, err := s.Getsockname(l)
	must(t, "getsockname", err)
	c, err = s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	must(t, "socket", err)
	must(t, "connect", s.Connect(c, to))
	a, _, err = s.Accept(l)
	must(t, "accept", err)
	t.Cleanup(func() { s.Closesocket(a); s.Closesocket(c) })
	return c, a
}

// reuseCycles is how many receives each way of observing a completion
// reissues with the same OVERLAPPED in TestOverlappedReuse: 10,000 in all
// with the completion routine's 1,000 (about 4 s with -race). The provider
// suite does another 10,000 per harness (providertest ReuseOverlapped).
const reuseCycles = 3000

// TestOverlappedReuse: as in Windows, an OVERLAPPED can be reissued as soon
// as its completion is seen (the event signalled, the packet dequeued, the
// completion routine running, HasOverlappedIoCompleted true). Each way
// issues a 1-byte WSARecv that pends, sends the byte, observes the
// completion and reissues at once, reuseCycles times (the routine 1,000,
// reissuing from inside itself), under -race in CI.
func TestOverlappedReuse(t *testing.T) {
	s := loopbackHost(t)
	// cycle runs n receives on a, each observed by wait, which returns the
	// bytes received.
	cycle := func(t *testing.T, c, a wsa.Socket, ov *wsa.Overlapped, n int, wait func() (uint32, error)) {
		t.Helper()
		buf, one := make([]byte, 1), make([]byte, 1)
		for i := range n {
			var flags uint32
			if err := s.WSARecv(a, [][]byte{buf}, nil, &flags, ov, nil); err != wsa.WSA_IO_PENDING {
				t.Fatalf("cycle %d: WSARecv with the reused OVERLAPPED: %v, want WSA_IO_PENDING", i, err)
			}
			one[0] = byte(i)
			if _, err := s.Send(c, one, 0); err != nil {
				t.Fatalf("cycle %d: send: %v", i, err)
			}
			got, err := wait()
			if err != nil || got != 1 || buf[0] != byte(i) {
				t.Fatalf("cycle %d: %d bytes %v, %v", i, got, buf, err)
			}
		}
	}
	result := func(a wsa.Socket, ov *wsa.Overlapped) (uint32, error) {
		var n, flags uint32
		err := s.WSAGetOverlappedResult(a, ov, &n, false, &flags)
		return n, err
	}

	t.Run("event", func(t *testing.T) {
		c, a := tcpPair(t, s)
		ev, err := s.WSACreateEvent()
		must(t, "WSACreateEvent", err)
		ov := &wsa.Overlapped{HEvent: ev}
		cycle(t, c, a, ov, reuseCycles, func() (uint32, error) {
			if r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, stepMillis, false); r != wsa.WSA_WAIT_EVENT_0 {
				return 0, fmt.Errorf("wait: %#x %v", r, err)
			}
			return result(a, ov)
		})
	})

	t.Run("HasOverlappedIoCompleted", func(t *testing.T) {
		c, a := tcpPair(t, s)
		ov := &wsa.Overlapped{}
		cycle(t, c, a, ov, reuseCycles, func() (uint32, error) {
			for !wsa.HasOverlappedIoCompleted(ov) {
				s.SleepEx(0, false)
			}
			return result(a, ov)
		})
	})

	t.Run("completion port", func(t *testing.T) {
		c, a := tcpPair(t, s)
		port, err := s.CreateIoCompletionPort(wsa.Handle(a), 0, 3, 0)
		must(t, "CreateIoCompletionPort", err)
		t.Cleanup(func() { s.CloseHandle(port) })
		ov := &wsa.Overlapped{}
		cycle(t, c, a, ov, reuseCycles, func() (uint32, error) {
			var qty uint32
			var key uintptr
			var got *wsa.Overlapped
			if err := s.GetQueuedCompletionStatus(port, &qty, &key, &got, stepMillis); err != nil || got != ov || key != 3 {
				return 0, fmt.Errorf("GetQueuedCompletionStatus: %v, key %d, ov %p", err, key, got)
			}
			return qty, nil
		})
	})

	t.Run("completion routine", func(t *testing.T) {
		const routineCycles = 1000
		c, a := tcpPair(t, s)
		ov := &wsa.Overlapped{}
		buf, one := make([]byte, 1), make([]byte, 1)
		done := 0
		var failed error
		var cr wsa.CompletionRoutine
		cr = func(code, n uint32, o *wsa.Overlapped, _ uint32) {
			if code != 0 || n != 1 || o != ov || buf[0] != byte(done) {
				failed = fmt.Errorf("routine %d: code %d, %d bytes %v", done, code, n, buf)
				return
			}
			if done++; done == routineCycles {
				return
			}
			var flags uint32
			if err := s.WSARecv(a, [][]byte{buf}, nil, &flags, ov, cr); err != wsa.WSA_IO_PENDING {
				failed = fmt.Errorf("routine %d: WSARecv with its own OVERLAPPED: %v", done, err)
				return
			}
			one[0] = byte(done)
			if _, err := s.Send(c, one, 0); err != nil {
				failed = err
			}
		}
		var flags uint32
		if err := s.WSARecv(a, [][]byte{buf}, nil, &flags, ov, cr); err != wsa.WSA_IO_PENDING {
			t.Fatalf("WSARecv: %v", err)
		}
		one[0] = 0
		if _, err := s.Send(c, one, 0); err != nil {
			t.Fatal(err)
		}
		for done < routineCycles && failed == nil {
			if r := s.SleepEx(stepMillis, true); r != wsa.WSA_WAIT_IO_COMPLETION {
				t.Fatalf("after %d routines: SleepEx %#x", done, r)
			}
		}
		if failed != nil {
			t.Fatal(failed)
		}
	})
}

// TestOverlappedDatagramTruncation: a UDP datagram larger than the buffers
// of an overlapped receive fills them and the operation completes with
// WSAEMSGSIZE, bytes = the buffers' size, through every mechanism, both
// when it completes at once (the call fails WSAEMSGSIZE and the completion
// is still delivered, as in Windows) and when it was pending; a completion
// port gets ERROR_MORE_DATA (234), even with
// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS.
func TestOverlappedDatagramTruncation(t *testing.T) {
	s := loopbackHost(t)
	lo := &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	udp := func() (wsa.Socket, wsa.Sockaddr) {
		u, err := s.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP)
		must(t, "socket", err)
		t.Cleanup(func() { s.Closesocket(u) })
		must(t, "bind", s.Bind(u, lo))
		name, err := s.Getsockname(u)
		must(t, "getsockname", err)
		return u, name
	}
	r, rto := udp()
	w, wto := udp()
	port, err := s.CreateIoCompletionPort(wsa.Handle(r), 0, 9, 0)
	must(t, "CreateIoCompletionPort", err)
	t.Cleanup(func() { s.CloseHandle(port) })
	must(t, "SetFileCompletionNotificationModes", s.SetFileCompletionNotificationModes(wsa.Handle(r), wsa.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS))
	ev, err := s.WSACreateEvent()
	must(t, "WSACreateEvent", err)
	buf := make([]byte, 4)

	// send sends a datagram to to and waits until it is readable on r.
	send := func(r wsa.Socket, data string, to wsa.Sockaddr) {
		t.Helper()
		if _, err := s.Sendto(w, []byte(data), 0, to); err != nil {
			t.Fatalf("sendto: %v", err)
		}
		fds := []wsa.PollFd{{Fd: r, Events: wsa.POLLRDNORM}}
		if n, err := s.WSAPoll(fds, int32(stepMillis)); n != 1 || err != nil {
			t.Fatalf("WSAPoll: %d %v", n, err)
		}
	}
	// packet dequeues the next packet of port and checks it.
	packet := func(ov *wsa.Overlapped, timeout uint32) {
		t.Helper()
		var qty uint32
		var key uintptr
		var got *wsa.Overlapped
		err := s.GetQueuedCompletionStatus(port, &qty, &key, &got, timeout)
		if err != wsa.ERROR_MORE_DATA || got != ov || key != 9 || qty != 4 {
			t.Fatalf("GetQueuedCompletionStatus: %v (want ERROR_MORE_DATA), key %d, %d bytes, ov %p (want %p)", err, key, qty, got, ov)
		}
	}
	// result checks the OVERLAPPED's result and the event.
	result := func(ov *wsa.Overlapped, want string) {
		t.Helper()
		var n, flags uint32
		if err := s.WSAGetOverlappedResult(r, ov, &n, false, &flags); err != wsa.WSAEMSGSIZE || n != 4 || string(buf) != want {
			t.Fatalf("WSAGetOverlappedResult: %v (want WSAEMSGSIZE), %d bytes %q, want 4 %q", err, n, buf, want)
		}
		if r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, 0, false); r != wsa.WSA_WAIT_EVENT_0 {
			t.Fatalf("event not signalled: %#x %v", r, err)
		}
	}
	noPacket := func() {
		t.Helper()
		var got *wsa.Overlapped
		if err := s.GetQueuedCompletionStatus(port, nil, nil, &got, 0); err != wsa.WAIT_TIMEOUT {
			t.Fatalf("unexpected packet: %v %p", err, got)
		}
	}

	t.Run("at once", func(t *testing.T) {
		send(r, "0123456789", rto)
		ov := &wsa.Overlapped{HEvent: ev}
		recvd, flags := uint32(99), uint32(0)
		var from wsa.Sockaddr
		if err := s.WSARecvFrom(r, [][]byte{buf}, &recvd, &flags, &from, ov, nil); err != wsa.WSAEMSGSIZE || recvd != 4 {
			t.Fatalf("WSARecvFrom: %v (want WSAEMSGSIZE), %d bytes", err, recvd)
		}
		if from == nil || from.AddrPort() != wto.AddrPort() {
			t.Fatalf("from %v, want %v", from, wto)
		}
		result(ov, "0123")
		packet(ov, 0)
		noPacket()
	})

	t.Run("pending", func(t *testing.T) {
		ov := &wsa.Overlapped{HEvent: ev}
		var flags uint32
		if err := s.WSARecv(r, [][]byte{buf}, nil, &flags, ov, nil); err != wsa.WSA_IO_PENDING {
			t.Fatalf("WSARecv: %v", err)
		}
		if _, err := s.Sendto(w, []byte("abcdefgh"), 0, rto); err != nil {
			t.Fatal(err)
		}
		packet(ov, stepMillis)
		result(ov, "abcd")
	})

	t.Run("WSARecvMsg at once", func(t *testing.T) {
		send(r, "ABCDEFGH", rto)
		ov := &wsa.Overlapped{HEvent: ev}
		msg := &wsa.WSAMsg{Buffers: [][]byte{buf}, Control: make([]byte, 64)}
		var recvd uint32
		if err := s.WSARecvMsg(r, msg, &recvd, ov, nil); err != wsa.WSAEMSGSIZE || recvd != 4 || msg.Flags&wsa.MSG_TRUNC == 0 {
			t.Fatalf("WSARecvMsg: %v (want WSAEMSGSIZE), %d bytes, flags %#x", err, recvd, msg.Flags)
		}
		result(ov, "ABCD")
		packet(ov, 0)
	})

	t.Run("success at once skips the port", func(t *testing.T) {
		send(r, "ok", rto)
		var recvd, flags uint32
		if err := s.WSARecv(r, [][]byte{buf}, &recvd, &flags, &wsa.Overlapped{}, nil); err != nil || recvd != 2 {
			t.Fatalf("WSARecv: %v, %d bytes", err, recvd)
		}
		noPacket()
	})

	t.Run("completion routine at once", func(t *testing.T) {
		r2, r2to := udp()
		send(r2, "zyxwvuts", r2to)
		type call struct{ code, n uint32 }
		var calls []call
		cr := func(code, n uint32, _ *wsa.Overlapped, _ uint32) { calls = append(calls, call{code, n}) }
		var recvd, flags uint32
		if err := s.WSARecv(r2, [][]byte{buf}, &recvd, &flags, &wsa.Overlapped{}, cr); err != wsa.WSAEMSGSIZE || recvd != 4 {
			t.Fatalf("WSARecv: %v (want WSAEMSGSIZE), %d bytes", err, recvd)
		}
		if r := s.SleepEx(stepMillis, true); r != wsa.WSA_WAIT_IO_COMPLETION {
			t.Fatalf("SleepEx: %#x", r)
		}
		if len(calls) != 1 || calls[0] != (call{uint32(wsa.WSAEMSGSIZE), 4}) || string(buf) != "zyxw" {
			t.Fatalf("completion routine calls %+v, %q", calls, buf)
		}
	})
}

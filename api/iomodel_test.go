package api_test

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

type packet struct {
	qty uint32
	key uintptr
	ov  *wsa.Overlapped
	err error
}

func gqcs(s *api.Session, port wsa.Handle, timeout uint32) packet {
	var p packet
	p.ov = &wsa.Overlapped{} // must be overwritten
	p.err = s.GetQueuedCompletionStatus(port, &p.qty, &p.key, &p.ov, timeout)
	return p
}

// wantNoPacket checks that port holds no packet.
func wantNoPacket(t *testing.T, s *api.Session, port wsa.Handle) {
	t.Helper()
	if p := gqcs(s, port, 0); p.err != wsa.WAIT_TIMEOUT || p.ov != nil {
		t.Fatalf("unexpected packet %+v", p)
	}
}

func newEvent(t *testing.T, s *api.Session) wsa.Handle {
	t.Helper()
	ev, err := s.WSACreateEvent()
	must(t, err)
	return ev
}

func newPort(t *testing.T, s *api.Session, concurrency uint32) wsa.Handle {
	t.Helper()
	port, err := s.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, concurrency)
	must(t, err)
	return port
}

func TestEventObjects(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	a, b := newEvent(t, s), newEvent(t, s)
	if a == wsa.WSA_INVALID_EVENT || a == b {
		t.Fatalf("events %#x %#x", a, b)
	}

	r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{a, b}, false, 0, false)
	if r != wsa.WSA_WAIT_TIMEOUT || err != nil {
		t.Fatalf("poll of unset events: %#x %v", r, err)
	}
	must(t, s.WSASetEvent(b))
	if r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{a, b}, false, wsa.WSA_INFINITE, false); r != wsa.WSA_WAIT_EVENT_0+1 || err != nil {
		t.Fatalf("wait-any: %#x %v", r, err)
	}
	if r, _ := s.WSAWaitForMultipleEvents([]wsa.Handle{a, b}, true, 10, false); r != wsa.WSA_WAIT_TIMEOUT {
		t.Fatalf("wait-all with one set: %#x", r)
	}
	done := make(chan uint32)
	go func() {
		r, _ := s.WSAWaitForMultipleEvents([]wsa.Handle{a, b}, true, wsa.WSA_INFINITE, false)
		done <- r
	}()
	must(t, s.WSASetEvent(a))
	if r := <-done; r != wsa.WSA_WAIT_EVENT_0 {
		t.Fatalf("wait-all: %#x", r)
	}
	// Manual reset: still set.
	if !s.EventSignalled(a) || !s.EventSignalled(b) {
		t.Fatal("manual-reset events reset by a wait")
	}
	must(t, s.WSAResetEvent(a))
	if s.EventSignalled(a) {
		t.Fatal("reset event signalled")
	}

	// Argument errors.
	sock, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	port := newPort(t, s, 0)
	for name, c := range map[string]struct {
		events []wsa.Handle
		all    bool
		want   error
	}{
		"no events":      {nil, false, wsa.WSA_INVALID_PARAMETER},
		"65 events":      {make([]wsa.Handle, 65), false, wsa.WSA_INVALID_PARAMETER},
		"bad handle":     {[]wsa.Handle{a, 0x7777}, false, wsa.WSA_INVALID_HANDLE},
		"port":           {[]wsa.Handle{port}, false, wsa.WSA_INVALID_HANDLE},
		"twice in all":   {[]wsa.Handle{a, a}, true, wsa.WSA_INVALID_PARAMETER},
		"invalid event0": {[]wsa.Handle{wsa.WSA_INVALID_EVENT}, false, wsa.WSA_INVALID_HANDLE},
	} {
		r, err := s.WSAWaitForMultipleEvents(c.events, c.all, 0, false)
		if r != wsa.WSA_WAIT_FAILED {
			t.Errorf("%s: result %#x", name, r)
		}
		wantErr(t, name, err, c.want)
	}
	// A socket handle is waitable (its completion event), not settable.
	if r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{wsa.Handle(sock)}, false, 0, false); r != wsa.WSA_WAIT_TIMEOUT || err != nil {
		t.Errorf("socket wait: %#x %v", r, err)
	}
	wantErr(t, "set socket", s.WSASetEvent(wsa.Handle(sock)), wsa.WSA_INVALID_HANDLE)
	wantErr(t, "reset port", s.WSAResetEvent(port), wsa.WSA_INVALID_HANDLE)
	wantErr(t, "close socket as event", s.WSACloseEvent(wsa.Handle(sock)), wsa.WSA_INVALID_HANDLE)
	wantErr(t, "CloseHandle socket", s.CloseHandle(wsa.Handle(sock)), wsa.WSA_INVALID_HANDLE)

	// Closing an event ends a wait on it.
	c := newEvent(t, s)
	done2 := make(chan error)
	go func() {
		_, err := s.WSAWaitForMultipleEvents([]wsa.Handle{c}, false, wsa.WSA_INFINITE, false)
		done2 <- err
	}()
	time.Sleep(10 * time.Millisecond)
	must(t, s.WSACloseEvent(c))
	wantErr(t, "wait on closed event", <-done2, wsa.WSA_INVALID_HANDLE)
	wantErr(t, "close twice", s.WSACloseEvent(c), wsa.WSA_INVALID_HANDLE)
	must(t, s.CloseHandle(b))
	wantErr(t, "set closed", s.WSASetEvent(b), wsa.WSA_INVALID_HANDLE)

	// SleepEx.
	start := time.Now()
	if r := s.SleepEx(20, false); r != 0 || time.Since(start) < 20*time.Millisecond {
		t.Errorf("SleepEx = %d after %v", r, time.Since(start))
	}
}

func TestOverlappedEvent(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, srv, _ := pair(t, s)
	ev := newEvent(t, s)

	t.Run("immediate", func(t *testing.T) {
		ov := &wsa.Overlapped{HEvent: ev}
		must(t, s.WSASend(c, [][]byte{[]byte("hello")}, nil, 0, ov, nil))
		if !wsa.HasOverlappedIoCompleted(ov) || !s.EventSignalled(ev) {
			t.Fatalf("immediate completion not delivered: %+v", ov)
		}
		if s.EventSignalled(wsa.Handle(c)) {
			t.Fatal("socket handle signalled for an operation with an hEvent")
		}
		var n, flags uint32
		must(t, s.WSAGetOverlappedResult(c, ov, &n, false, &flags))
		if n != 5 || ov.InternalHigh != 5 || ov.Internal != 0 {
			t.Fatalf("result %d, ov %+v", n, ov)
		}
		if s.PendingOps() != 0 {
			t.Errorf("%d operations still tracked", s.PendingOps())
		}
		must(t, s.WSAResetEvent(ev))
	})

	t.Run("pending", func(t *testing.T) {
		buf := make([]byte, 16)
		ov := &wsa.Overlapped{HEvent: ev}
		var flags uint32
		_, _ = s.Recv(srv, buf, 0) // drain "hello"
		must(t, s.WSASetEvent(ev))
		wantErr(t, "WSARecv", s.WSARecv(srv, [][]byte{buf}, nil, &flags, ov, nil), wsa.WSA_IO_PENDING)
		if wsa.HasOverlappedIoCompleted(ov) || ov.Internal != wsa.WSS_OPERATION_IN_PROGRESS {
			t.Fatalf("pending ov %+v", ov)
		}
		if s.EventSignalled(ev) {
			t.Fatal("hEvent not reset when the operation started")
		}
		var n uint32
		wantErr(t, "no wait", s.WSAGetOverlappedResult(srv, ov, &n, false, &flags), wsa.WSA_IO_INCOMPLETE)
		got := make(chan error)
		go func() { got <- s.WSAGetOverlappedResult(srv, ov, &n, true, &flags) }()
		time.Sleep(10 * time.Millisecond)
		if _, err := s.Send(c, []byte("world"), 0); err != nil {
			t.Fatal(err)
		}
		must(t, <-got)
		if n != 5 || string(buf[:5]) != "world" || !s.EventSignalled(ev) {
			t.Fatalf("got %d %q", n, buf[:n])
		}
		must(t, s.WSAResetEvent(ev))
	})

	t.Run("wait on the socket handle", func(t *testing.T) {
		buf := make([]byte, 16)
		ov := &wsa.Overlapped{} // HEvent 0
		var flags, n uint32
		wantErr(t, "WSARecv", s.WSARecv(srv, [][]byte{buf}, nil, &flags, ov, nil), wsa.WSA_IO_PENDING)
		if s.EventSignalled(wsa.Handle(srv)) {
			t.Fatal("socket handle not reset when the operation started")
		}
		got := make(chan error)
		go func() { got <- s.WSAGetOverlappedResult(srv, ov, &n, true, &flags) }()
		time.Sleep(10 * time.Millisecond)
		if _, err := s.Send(c, []byte("abc"), 0); err != nil {
			t.Fatal(err)
		}
		must(t, <-got)
		if n != 3 {
			t.Fatalf("got %d", n)
		}
	})

	t.Run("shared socket handle", func(t *testing.T) {
		// Two operations, HEvent 0: the other one's completion ends the wait.
		ovA, ovB := &wsa.Overlapped{}, &wsa.Overlapped{}
		wantErr(t, "A", s.WSAIoctl(srv, ioctlPending, nil, nil, nil, ovA, nil), wsa.WSA_IO_PENDING)
		wantErr(t, "B", s.WSAIoctl(srv, ioctlPending, nil, nil, nil, ovB, nil), wsa.WSA_IO_PENDING)
		var n, flags uint32
		got := make(chan error)
		go func() { got <- s.WSAGetOverlappedResult(srv, ovA, &n, true, &flags) }()
		env.prov4().finish(ovB, 0, 2)
		wantErr(t, "wait ended by another completion", <-got, wsa.WSA_IO_INCOMPLETE)
		env.prov4().finish(ovA, wsa.WSAECONNABORTED, 1)
		wantErr(t, "A's result", s.WSAGetOverlappedResult(srv, ovA, &n, true, &flags), wsa.WSAECONNABORTED)
		if n != 1 {
			t.Errorf("A transferred %d", n)
		}
	})

	t.Run("failed and not started", func(t *testing.T) {
		ov := &wsa.Overlapped{HEvent: ev}
		var n uint32
		wantErr(t, "ioctl", s.WSAIoctl(c, ioctlFail, nil, nil, &n, ov, nil), wsa.WSAENOTCONN)
		if ov.Internal != uintptr(wsa.WSAENOTCONN) || s.EventSignalled(ev) || s.PendingOps() != 0 {
			t.Fatalf("not-started op: ov %+v, event %v, tracked %d", ov, s.EventSignalled(ev), s.PendingOps())
		}
	})

	t.Run("argument errors", func(t *testing.T) {
		ov := &wsa.Overlapped{}
		var n, f uint32
		wantErr(t, "nil ov", s.WSAGetOverlappedResult(c, nil, &n, false, &f), wsa.WSAEFAULT)
		wantErr(t, "nil transferred", s.WSAGetOverlappedResult(c, ov, nil, false, &f), wsa.WSAEFAULT)
		wantErr(t, "nil flags", s.WSAGetOverlappedResult(c, ov, &n, false, nil), wsa.WSAEFAULT)
		wantErr(t, "not a socket", s.WSAGetOverlappedResult(0x7777, ov, &n, false, &f), wsa.WSAENOTSOCK)
		pend := &wsa.Overlapped{Internal: wsa.WSS_OPERATION_IN_PROGRESS, HEvent: 0x7777}
		wantErr(t, "bad event", s.WSAGetOverlappedResult(c, pend, &n, true, &f), wsa.WSA_INVALID_HANDLE)
	})
}

// A socket made without WSA_FLAG_OVERLAPPED ignores the overlapped
// arguments, as MSL says.
func TestNonOverlappedSocket(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	_, srv, l := pair(t, s)
	plain, err := s.WSASocket(wsa.AF_INET, wsa.SOCK_STREAM, 0, nil, 0, 0)
	must(t, err)
	name, err := s.Getsockname(l)
	must(t, err)
	must(t, s.Connect(plain, name))
	ov := &wsa.Overlapped{}
	var sent uint32
	ran := false
	must(t, s.WSASend(plain, [][]byte{[]byte("xy")}, &sent, 0, ov, func(uint32, uint32, *wsa.Overlapped, uint32) { ran = true }))
	env.prov4().rmu.Lock()
	last := env.prov4().lastOv
	env.prov4().rmu.Unlock()
	if sent != 2 || last != nil || *ov != (wsa.Overlapped{}) || s.APCPending() || ran {
		t.Fatalf("sent %d, provider ov %v, ov %+v", sent, last, ov)
	}
	_ = srv
}

func TestCompletionRoutines(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, srv, _ := pair(t, s)

	var mu sync.Mutex
	var calls []string
	cr := func(name string) wsa.CompletionRoutine {
		return func(dwError, n uint32, ov *wsa.Overlapped, flags uint32) {
			mu.Lock()
			calls = append(calls, name)
			mu.Unlock()
			if ov == nil {
				t.Error("routine without its ov")
			}
		}
	}
	ncalls := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(calls)
	}

	// Immediate: returns nil, the routine is queued, not run.
	ov1 := &wsa.Overlapped{}
	must(t, s.WSASend(c, [][]byte{[]byte("a")}, nil, 0, ov1, cr("send")))
	if ncalls() != 0 || !s.APCPending() {
		t.Fatal("routine ran outside an alertable wait, or was not queued")
	}
	if r := s.SleepEx(1, false); r != 0 || ncalls() != 0 {
		t.Fatal("non-alertable sleep ran routines")
	}
	if r, _ := s.WSAWaitForMultipleEvents([]wsa.Handle{newEvent(t, s)}, false, 0, false); r != wsa.WSA_WAIT_TIMEOUT || ncalls() != 0 {
		t.Fatal("non-alertable wait ran routines")
	}
	if r := s.SleepEx(wsa.WSA_INFINITE, true); r != wsa.WSA_WAIT_IO_COMPLETION || ncalls() != 1 {
		t.Fatalf("SleepEx alertable = %#x, %d calls", r, ncalls())
	}

	// Pending: an alertable wait blocked before the completion runs it.
	buf := make([]byte, 8)
	var flags uint32
	_, _ = s.Recv(srv, buf, 0)
	ov2 := &wsa.Overlapped{}
	wantErr(t, "WSARecv", s.WSARecv(srv, [][]byte{buf}, nil, &flags, ov2, cr("recv")), wsa.WSA_IO_PENDING)
	ev := newEvent(t, s)
	got := make(chan uint32)
	go func() {
		r, _ := s.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, wsa.WSA_INFINITE, true)
		got <- r
	}()
	time.Sleep(10 * time.Millisecond)
	if _, err := s.Send(c, []byte("b"), 0); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r != wsa.WSA_WAIT_IO_COMPLETION || ncalls() != 2 {
		t.Fatalf("alertable wait = %#x, %d calls", r, ncalls())
	}
	var n uint32
	must(t, s.WSAGetOverlappedResult(srv, ov2, &n, false, &flags))
	if n != 1 {
		t.Fatalf("recv %d", n)
	}
	if s.PendingOps() != 0 {
		t.Errorf("routine operations tracked: %d", s.PendingOps())
	}

	// A signalled event wins over queued routines, which wait for the next
	// alertable wait.
	must(t, s.WSASend(c, [][]byte{[]byte("c")}, nil, 0, &wsa.Overlapped{}, cr("send2")))
	must(t, s.WSASetEvent(ev))
	if r, _ := s.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, 0, true); r != wsa.WSA_WAIT_EVENT_0 || ncalls() != 2 {
		t.Fatalf("wait with a set event = %#x, %d calls", r, ncalls())
	}

	// GetQueuedCompletionStatusEx alertable runs them too.
	port := newPort(t, s, 0)
	entries := make([]api.OverlappedEntry, 4)
	var removed uint32 = 99
	wantErr(t, "GQCSEx alertable", s.GetQueuedCompletionStatusEx(port, entries, &removed, wsa.WSA_INFINITE, true), api.WAIT_IO_COMPLETION)
	if removed != 0 || ncalls() != 3 {
		t.Fatalf("removed %d, %d calls", removed, ncalls())
	}
}

func TestCompletionPort(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, srv, _ := pair(t, s)
	port := newPort(t, s, 0)

	t.Run("association", func(t *testing.T) {
		h, err := s.CreateIoCompletionPort(wsa.Handle(srv), port, 7, 0)
		if h != port || err != nil {
			t.Fatalf("associate: %#x %v", h, err)
		}
		h, err = s.CreateIoCompletionPort(wsa.Handle(srv), port, 8, 0)
		if h != 0 {
			t.Errorf("second association returned %#x", h)
		}
		wantErr(t, "associate twice", err, wsa.WSA_INVALID_PARAMETER)
		wantErr(t, "associate twice", err, api.ERROR_INVALID_PARAMETER)
		// A new port for c.
		p2, err := s.CreateIoCompletionPort(wsa.Handle(c), 0, 9, 0)
		must(t, err)
		if p2 == 0 || p2 == port {
			t.Fatalf("new port %#x", p2)
		}
		must(t, s.CloseHandle(p2)) // c stays associated with a closed port
		_, err = s.CreateIoCompletionPort(0x7777, port, 1, 0)
		wantErr(t, "not a socket", err, wsa.WSA_INVALID_HANDLE)
		_, err = s.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, port, 1, 0)
		wantErr(t, "new port with existing", err, wsa.WSA_INVALID_PARAMETER)
		x, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
		must(t, err)
		_, err = s.CreateIoCompletionPort(wsa.Handle(x), wsa.Handle(srv), 1, 0)
		wantErr(t, "existing not a port", err, wsa.WSA_INVALID_HANDLE)
	})

	t.Run("immediate and pending", func(t *testing.T) {
		// srv's sends complete at once and still post.
		ov := &wsa.Overlapped{}
		must(t, s.WSASend(srv, [][]byte{[]byte("ping")}, nil, 0, ov, nil))
		p := gqcs(s, port, 0)
		if p.err != nil || p.ov != ov || p.key != 7 || p.qty != 4 {
			t.Fatalf("immediate packet %+v", p)
		}
		wantNoPacket(t, s, port)

		buf := make([]byte, 8)
		var flags uint32
		rov := &wsa.Overlapped{}
		wantErr(t, "WSARecv", s.WSARecv(srv, [][]byte{buf}, nil, &flags, rov, nil), wsa.WSA_IO_PENDING)
		wantNoPacket(t, s, port)
		got := make(chan packet)
		go func() { got <- gqcs(s, port, wsa.WSA_INFINITE) }()
		time.Sleep(10 * time.Millisecond)
		if _, err := s.Send(c, []byte("pong!"), 0); err != nil {
			t.Fatal(err)
		}
		if p := <-got; p.err != nil || p.ov != rov || p.key != 7 || p.qty != 5 {
			t.Fatalf("pending packet %+v", p)
		}
	})

	t.Run("failed operations", func(t *testing.T) {
		var n, flags uint32
		for _, tc := range []struct {
			errno wsa.Errno
			win32 wsa.Errno
		}{
			{wsa.WSAECONNRESET, wsa.ERROR_NETNAME_DELETED},
			{wsa.WSAECONNABORTED, wsa.ERROR_CONNECTION_ABORTED},
			{wsa.WSAETIMEDOUT, wsa.ERROR_SEM_TIMEOUT},
		} {
			ov := &wsa.Overlapped{}
			wantErr(t, "pending ioctl", s.WSAIoctl(srv, ioctlPending, nil, nil, nil, ov, nil), wsa.WSA_IO_PENDING)
			env.prov4().finish(ov, tc.errno, 3)
			p := gqcs(s, port, 0)
			if p.ov != ov || p.key != 7 || p.qty != 3 {
				t.Fatalf("failed packet %+v", p)
			}
			wantErr(t, "GQCS of "+tc.errno.Name(), p.err, tc.win32)
			wantErr(t, "WSAGetOverlappedResult", s.WSAGetOverlappedResult(srv, ov, &n, false, &flags), tc.errno)
			if n != 3 {
				t.Errorf("transferred %d", n)
			}
		}
		// The GQCSEx entry carries the Win32 code; the call succeeds.
		ov := &wsa.Overlapped{}
		wantErr(t, "pending ioctl", s.WSAIoctl(srv, ioctlPending, nil, nil, nil, ov, nil), wsa.WSA_IO_PENDING)
		env.prov4().finish(ov, wsa.WSAEMSGSIZE, 1)
		entries := make([]api.OverlappedEntry, 2)
		var removed uint32
		must(t, s.GetQueuedCompletionStatusEx(port, entries, &removed, 0, false))
		if removed != 1 || entries[0].Overlapped != ov || entries[0].Internal != uintptr(wsa.ERROR_MORE_DATA) || entries[0].CompletionKey != 7 || entries[0].NumberOfBytesTransferred != 1 {
			t.Fatalf("entry %+v", entries[0])
		}
	})

	t.Run("datagram reset is port unreachable", func(t *testing.T) {
		u, err := s.Socket(wsa.AF_INET, wsa.SOCK_DGRAM, 0)
		must(t, err)
		_, err = s.CreateIoCompletionPort(wsa.Handle(u), port, 11, 0)
		must(t, err)
		ov := &wsa.Overlapped{}
		wantErr(t, "pending ioctl", s.WSAIoctl(u, ioctlPending, nil, nil, nil, ov, nil), wsa.WSA_IO_PENDING)
		env.prov4().finish(ov, wsa.WSAECONNRESET, 0)
		wantErr(t, "GQCS", gqcs(s, port, 0).err, wsa.ERROR_PORT_UNREACHABLE)
	})

	t.Run("cancel", func(t *testing.T) {
		buf := make([]byte, 8)
		var flags, n uint32
		ov1, ov2 := &wsa.Overlapped{}, &wsa.Overlapped{}
		wantErr(t, "WSARecv 1", s.WSARecv(srv, [][]byte{buf}, nil, &flags, ov1, nil), wsa.WSA_IO_PENDING)
		wantErr(t, "WSARecv 2", s.WSAIoctl(srv, ioctlPending, nil, nil, nil, ov2, nil), wsa.WSA_IO_PENDING)
		must(t, s.CancelIoEx(srv, ov1))
		p := gqcs(s, port, 0)
		if p.ov != ov1 {
			t.Fatalf("cancelled packet %+v", p)
		}
		wantErr(t, "GQCS of cancelled", p.err, wsa.ERROR_OPERATION_ABORTED)
		wantErr(t, "result of cancelled", s.WSAGetOverlappedResult(srv, ov1, &n, false, &flags), wsa.WSA_OPERATION_ABORTED)
		wantNoPacket(t, s, port) // ov2 still pending
		wantErr(t, "CancelIoEx done", s.CancelIoEx(srv, ov1), wsa.ERROR_NOT_FOUND)
		must(t, s.CancelIo(srv))
		if p := gqcs(s, port, 0); p.ov != ov2 || p.err != wsa.ERROR_OPERATION_ABORTED {
			t.Fatalf("CancelIo packet %+v", p)
		}
		must(t, s.CancelIo(srv)) // nothing pending: still success
		wantErr(t, "CancelIoEx nothing", s.CancelIoEx(srv, nil), wsa.ERROR_NOT_FOUND)
		wantErr(t, "CancelIo bad handle", s.CancelIo(0x7777), wsa.WSA_INVALID_HANDLE)
	})

	t.Run("post", func(t *testing.T) {
		ov := &wsa.Overlapped{}
		must(t, s.PostQueuedCompletionStatus(port, 42, 0xdead, ov))
		must(t, s.PostQueuedCompletionStatus(port, 0, 1, nil))
		if p := gqcs(s, port, 0); p.err != nil || p.qty != 42 || p.key != 0xdead || p.ov != ov {
			t.Fatalf("posted packet %+v", p)
		}
		if p := gqcs(s, port, 0); p.err != nil || p.key != 1 || p.ov != nil {
			t.Fatalf("posted nil packet %+v", p)
		}
		wantErr(t, "post to socket", s.PostQueuedCompletionStatus(wsa.Handle(srv), 0, 0, nil), wsa.WSA_INVALID_HANDLE)
		wantErr(t, "GQCS on socket", s.GetQueuedCompletionStatus(wsa.Handle(srv), nil, nil, nil, 0), wsa.WSA_INVALID_HANDLE)
		// nil out pointers are allowed.
		must(t, s.PostQueuedCompletionStatus(port, 1, 2, nil))
		must(t, s.GetQueuedCompletionStatus(port, nil, nil, nil, 0))
	})

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		p := gqcs(s, port, 20)
		if p.err != wsa.WAIT_TIMEOUT || p.ov != nil || time.Since(start) < 20*time.Millisecond {
			t.Fatalf("GQCS timeout %+v after %v", p, time.Since(start))
		}
	})

	t.Run("completion after closesocket", func(t *testing.T) {
		c2, srv2, _ := pair(t, s)
		_, err := s.CreateIoCompletionPort(wsa.Handle(srv2), port, 21, 0)
		must(t, err)
		ov := &wsa.Overlapped{}
		var flags uint32
		wantErr(t, "WSARecv", s.WSARecv(srv2, [][]byte{make([]byte, 4)}, nil, &flags, ov, nil), wsa.WSA_IO_PENDING)
		must(t, s.Closesocket(srv2))
		p := gqcs(s, port, wsa.WSA_INFINITE)
		if p.ov != ov || p.key != 21 || p.err != wsa.ERROR_OPERATION_ABORTED {
			t.Fatalf("abort packet %+v", p)
		}
		_ = c2
	})
}

func TestGQCSEx(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	port := newPort(t, s, 0)
	for i := uintptr(1); i <= 5; i++ {
		must(t, s.PostQueuedCompletionStatus(port, uint32(i), i, nil))
	}
	entries := make([]api.OverlappedEntry, 3)
	var removed uint32
	must(t, s.GetQueuedCompletionStatusEx(port, entries, &removed, 0, false))
	if removed != 3 || entries[0].CompletionKey != 1 || entries[2].CompletionKey != 3 || entries[2].NumberOfBytesTransferred != 3 {
		t.Fatalf("first batch %d %+v", removed, entries)
	}
	must(t, s.GetQueuedCompletionStatusEx(port, entries, &removed, 0, false))
	if removed != 2 || entries[0].CompletionKey != 4 || entries[1].CompletionKey != 5 {
		t.Fatalf("second batch %d %+v", removed, entries)
	}
	wantErr(t, "empty", s.GetQueuedCompletionStatusEx(port, entries, &removed, 0, false), wsa.WAIT_TIMEOUT)
	if removed != 0 {
		t.Errorf("removed %d on timeout", removed)
	}
	wantErr(t, "no entries", s.GetQueuedCompletionStatusEx(port, nil, &removed, 0, false), wsa.WSA_INVALID_PARAMETER)
	wantErr(t, "not a port", s.GetQueuedCompletionStatusEx(0x7777, entries, &removed, 0, false), wsa.WSA_INVALID_HANDLE)

	// A blocked batch wakes on the first packet.
	got := make(chan error)
	go func() { got <- s.GetQueuedCompletionStatusEx(port, entries, &removed, wsa.WSA_INFINITE, true) }()
	time.Sleep(10 * time.Millisecond)
	must(t, s.PostQueuedCompletionStatus(port, 9, 9, nil))
	must(t, <-got)
	if removed != 1 || entries[0].CompletionKey != 9 {
		t.Fatalf("woken batch %d %+v", removed, entries[0])
	}
}

func TestClosingPortWakesWaiters(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	port := newPort(t, s, 0)
	w, err := s.NewCompletionWorker(port)
	must(t, err)
	errs := make(chan error, 3)
	ovs := make(chan *wsa.Overlapped, 1)
	go func() {
		p := gqcs(s, port, wsa.WSA_INFINITE)
		ovs <- p.ov
		errs <- p.err
	}()
	go func() {
		var removed uint32
		errs <- s.GetQueuedCompletionStatusEx(port, make([]api.OverlappedEntry, 2), &removed, wsa.WSA_INFINITE, false)
	}()
	go func() {
		var ov *wsa.Overlapped
		errs <- w.GetQueuedCompletionStatus(nil, nil, &ov, wsa.WSA_INFINITE)
	}()
	time.Sleep(20 * time.Millisecond)
	must(t, s.CloseHandle(port))
	for range 3 {
		wantErr(t, "waiter of closed port", <-errs, wsa.ERROR_ABANDONED_WAIT_0)
	}
	if ov := <-ovs; ov != nil {
		t.Errorf("ov %p after close", ov)
	}
	wantErr(t, "GQCS after close", s.GetQueuedCompletionStatus(port, nil, nil, nil, 0), wsa.WSA_INVALID_HANDLE)
	wantErr(t, "post after close", s.PostQueuedCompletionStatus(port, 0, 0, nil), wsa.WSA_INVALID_HANDLE)
	wantErr(t, "close twice", s.CloseHandle(port), wsa.WSA_INVALID_HANDLE)
	_, err = s.NewCompletionWorker(port)
	wantErr(t, "worker of closed port", err, wsa.WSA_INVALID_HANDLE)
}

func TestCompletionWorkerConcurrency(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	port := newPort(t, s, 1)
	a, err := s.NewCompletionWorker(port)
	must(t, err)
	b, err := s.NewCompletionWorker(port)
	must(t, err)
	must(t, s.PostQueuedCompletionStatus(port, 0, 1, nil))
	must(t, s.PostQueuedCompletionStatus(port, 0, 2, nil))
	must(t, s.PostQueuedCompletionStatus(port, 0, 3, nil))
	var key uintptr
	must(t, a.GetQueuedCompletionStatus(nil, &key, nil, 0))
	if key != 1 {
		t.Fatalf("a got %d", key)
	}
	// a runs: b is held back by the concurrency value of 1.
	wantErr(t, "b held back", b.GetQueuedCompletionStatus(nil, &key, nil, 20), wsa.WAIT_TIMEOUT)
	// An anonymous caller is not.
	must(t, s.GetQueuedCompletionStatus(port, nil, &key, nil, 0))
	if key != 2 {
		t.Fatalf("anonymous got %d", key)
	}
	got := make(chan uintptr)
	go func() {
		var k uintptr
		if err := b.GetQueuedCompletionStatus(nil, &k, nil, wsa.WSA_INFINITE); err != nil {
			t.Error(err)
		}
		got <- k
	}()
	time.Sleep(10 * time.Millisecond)
	select {
	case k := <-got:
		t.Fatalf("b ran while a runs: %d", k)
	default:
	}
	a.Release()
	if k := <-got; k != 3 {
		t.Fatalf("b got %d after Release", k)
	}
	b.Release()
}

func TestSkipCompletionPortOnSuccess(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, srv, _ := pair(t, s)
	port := newPort(t, s, 0)
	_, err := s.CreateIoCompletionPort(wsa.Handle(c), port, 1, 0)
	must(t, err)
	_, err = s.CreateIoCompletionPort(wsa.Handle(srv), port, 2, 0)
	must(t, err)
	wantErr(t, "bad flags", s.SetFileCompletionNotificationModes(wsa.Handle(c), 4), wsa.WSA_INVALID_PARAMETER)
	wantErr(t, "not a socket", s.SetFileCompletionNotificationModes(port, 1), wsa.WSA_INVALID_HANDLE)
	ev := newEvent(t, s)

	// Without the mode: every case posts exactly one packet.
	for _, code := range []uint32{ioctlEarlyPending, ioctlLateSuccess} {
		ov := &wsa.Overlapped{HEvent: ev}
		var n uint32
		err := s.WSAIoctl(srv, code, nil, nil, &n, ov, nil)
		if code == ioctlLateSuccess {
			must(t, err)
		} else {
			wantErr(t, "early pending", err, wsa.WSA_IO_PENDING)
		}
		if code == ioctlLateSuccess {
			close(env.prov4().late)
		}
		if p := gqcs(s, port, wsa.WSA_INFINITE); p.err != nil || p.ov != ov || p.key != 2 || p.qty != 7 {
			t.Fatalf("code %#x: packet %+v", code, p)
		}
		wantNoPacket(t, s, port)
	}
	env.prov4().late = make(chan struct{})

	must(t, s.SetFileCompletionNotificationModes(wsa.Handle(c), wsa.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS))
	must(t, s.SetFileCompletionNotificationModes(wsa.Handle(c), 0)) // cannot turn it off

	// Immediate success: no packet, the event still signalled.
	ov := &wsa.Overlapped{HEvent: ev}
	must(t, s.WSAResetEvent(ev))
	must(t, s.WSASend(c, [][]byte{[]byte("x")}, nil, 0, ov, nil))
	wantNoPacket(t, s, port)
	if !s.EventSignalled(ev) {
		t.Fatal("skip-on-success suppressed the event")
	}
	// Completed inside the call but returned WSA_IO_PENDING: a packet.
	ov2 := &wsa.Overlapped{}
	wantErr(t, "early pending", s.WSAIoctl(c, ioctlEarlyPending, nil, nil, nil, ov2, nil), wsa.WSA_IO_PENDING)
	if p := gqcs(s, port, 0); p.ov != ov2 || p.key != 1 {
		t.Fatalf("early-pending packet %+v", p)
	}
	// Returned nil, completed after the call returned: still no packet.
	ov3 := &wsa.Overlapped{HEvent: ev}
	must(t, s.WSAResetEvent(ev))
	var n uint32
	must(t, s.WSAIoctl(c, ioctlLateSuccess, nil, nil, &n, ov3, nil))
	close(env.prov4().late)
	if r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, wsa.WSA_INFINITE, false); r != 0 || err != nil {
		t.Fatal(r, err)
	}
	wantNoPacket(t, s, port)
	// Pending operations post.
	buf := make([]byte, 4)
	var flags uint32
	ov4 := &wsa.Overlapped{}
	wantErr(t, "pending recv", s.WSARecv(c, [][]byte{buf}, nil, &flags, ov4, nil), wsa.WSA_IO_PENDING)
	if _, err := s.Send(srv, []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	if p := gqcs(s, port, wsa.WSA_INFINITE); p.ov != ov4 || p.qty != 1 {
		t.Fatalf("pending packet %+v", p)
	}
	if s.PendingOps() != 0 {
		t.Errorf("%d ops tracked", s.PendingOps())
	}
}

func TestSkipSetEventOnHandle(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, srv, _ := pair(t, s)
	ev := newEvent(t, s)
	// Without the mode an operation with no hEvent signals the handle.
	must(t, s.WSASend(srv, [][]byte{[]byte("x")}, nil, 0, &wsa.Overlapped{}, nil))
	if !s.EventSignalled(wsa.Handle(srv)) {
		t.Fatal("handle not signalled")
	}
	must(t, s.SetFileCompletionNotificationModes(wsa.Handle(c), wsa.FILE_SKIP_SET_EVENT_ON_HANDLE))
	must(t, s.WSASend(c, [][]byte{[]byte("x")}, nil, 0, &wsa.Overlapped{}, nil))
	must(t, s.WSASend(c, [][]byte{[]byte("x")}, nil, 0, &wsa.Overlapped{HEvent: ev}, nil))
	if !s.EventSignalled(ev) || s.EventSignalled(wsa.Handle(c)) {
		t.Fatalf("event %v, handle %v", s.EventSignalled(ev), s.EventSignalled(wsa.Handle(c)))
	}
}

func TestEventLowBit(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, _, _ := pair(t, s)
	port := newPort(t, s, 0)
	_, err := s.CreateIoCompletionPort(wsa.Handle(c), port, 1, 0)
	must(t, err)
	ev := newEvent(t, s)
	ov := &wsa.Overlapped{HEvent: ev | 1}
	must(t, s.WSASend(c, [][]byte{[]byte("xyz")}, nil, 0, ov, nil))
	wantNoPacket(t, s, port)
	if !s.EventSignalled(ev) {
		t.Fatal("event of hEvent|1 not signalled")
	}
	var n, flags uint32
	must(t, s.WSAGetOverlappedResult(c, ov, &n, true, &flags))
	if n != 3 {
		t.Fatalf("n %d", n)
	}
	// Without the bit: a packet.
	ov2 := &wsa.Overlapped{HEvent: ev}
	must(t, s.WSASend(c, [][]byte{[]byte("xyz")}, nil, 0, ov2, nil))
	if p := gqcs(s, port, 0); p.ov != ov2 {
		t.Fatalf("packet %+v", p)
	}
}

func TestCleanupAbortsPending(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, srv, _ := pair(t, s)
	port := newPort(t, s, 0)
	_, err := s.CreateIoCompletionPort(wsa.Handle(srv), port, 1, 0)
	must(t, err)
	ev := newEvent(t, s)
	var flags uint32
	ovPort, ovEvent, ovCR := &wsa.Overlapped{}, &wsa.Overlapped{HEvent: ev}, &wsa.Overlapped{}
	wantErr(t, "pending port", s.WSAIoctl(srv, ioctlPending, nil, nil, nil, ovPort, nil), wsa.WSA_IO_PENDING)
	wantErr(t, "recv event", s.WSAIoctl(c, ioctlPending, nil, nil, nil, ovEvent, nil), wsa.WSA_IO_PENDING)
	var ran atomic.Bool
	wantErr(t, "pending routine", s.WSAIoctl(c, ioctlPending, nil, nil, nil, ovCR, func(uint32, uint32, *wsa.Overlapped, uint32) { ran.Store(true) }), wsa.WSA_IO_PENDING)

	type result struct {
		what string
		r    uint32
		err  error
	}
	results := make(chan result, 4)
	go func() {
		p := gqcs(s, port, wsa.WSA_INFINITE)
		results <- result{"GQCS", 0, p.err}
	}()
	go func() {
		r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, wsa.WSA_INFINITE, false)
		results <- result{"wait", r, err}
	}()
	go func() {
		r := s.SleepEx(200, true) // alertable: must not run the aborted routine
		results <- result{"sleep", r, nil}
	}()
	go func() {
		var n uint32
		results <- result{"WSAGetOverlappedResult", 0, s.WSAGetOverlappedResult(srv, ovPort, &n, true, &flags)}
	}()
	time.Sleep(20 * time.Millisecond)
	must(t, s.WSACleanup())
	for range 4 {
		r := <-results
		switch r.what {
		case "GQCS":
			wantErr(t, "GQCS across cleanup", r.err, wsa.ERROR_ABANDONED_WAIT_0)
		case "wait":
			if r.r != wsa.WSA_WAIT_FAILED {
				t.Errorf("event wait across cleanup = %#x", r.r)
			}
			wantErr(t, "event wait across cleanup", r.err, wsa.WSANOTINITIALISED)
		case "sleep":
			if r.r != 0 {
				t.Errorf("alertable sleep across cleanup = %#x", r.r)
			}
		case "WSAGetOverlappedResult":
			wantErr(t, "WSAGetOverlappedResult across cleanup", r.err, wsa.WSANOTINITIALISED)
		}
	}
	// The operations were aborted: recorded in their OVERLAPPEDs, nothing
	// delivered.
	for name, ov := range map[string]*wsa.Overlapped{"port": ovPort, "event": ovEvent, "routine": ovCR} {
		if got := wsa.Errno(atomic.LoadUintptr(&ov.Internal)); got != wsa.WSA_OPERATION_ABORTED {
			t.Errorf("%s op: Internal %v", name, got)
		}
	}
	if ran.Load() {
		t.Error("completion routine ran after WSACleanup")
	}
	if r := s.SleepEx(0, true); r != 0 {
		t.Errorf("SleepEx after cleanup = %#x", r)
	}
}

func TestMessageQueue(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, _, _ := pair(t, s)
	hwnd, err := s.CreateMessageQueue()
	must(t, err)
	const wmSocket = 0x0400 + 1 // WM_USER+1

	wantErr(t, "bad hwnd", s.WSAAsyncSelect(c, 0x7777, wmSocket, wsa.FD_READ|wsa.FD_WRITE), wsa.WSAEINVAL)
	must(t, s.WSAAsyncSelect(c, 0x7777, 0, 0)) // cancel: hwnd not checked
	must(t, s.WSAAsyncSelect(c, hwnd, wmSocket, wsa.FD_READ|wsa.FD_WRITE))
	m, ok, err := s.PeekMessage(hwnd, api.PM_NOREMOVE)
	if err != nil || !ok || m.Message != wmSocket {
		t.Fatalf("PeekMessage: %+v %v %v", m, ok, err)
	}
	m, err = s.GetMessage(hwnd, wsa.WSA_INFINITE)
	must(t, err)
	if m.HWnd != hwnd || m.Message != wmSocket || wsa.Socket(m.WParam) != c ||
		wsa.WSAGETSELECTEVENT(uint32(m.LParam)) != wsa.FD_WRITE || wsa.WSAGETSELECTERROR(uint32(m.LParam)) != 0 {
		t.Fatalf("message %+v", m)
	}
	if _, ok, _ := s.PeekMessage(hwnd, api.PM_REMOVE); ok {
		t.Fatal("queue not empty")
	}
	_, err = s.GetMessage(hwnd, 10)
	wantErr(t, "GetMessage timeout", err, wsa.WAIT_TIMEOUT)

	// WPUPostMessage wakes a blocked GetMessage.
	up := env.prov4().up
	got := make(chan Msg)
	go func() {
		m, err := s.GetMessage(hwnd, wsa.WSA_INFINITE)
		if err != nil {
			t.Error(err)
		}
		got <- Msg(m)
	}()
	time.Sleep(10 * time.Millisecond)
	must(t, up.WPUPostMessage(hwnd, wmSocket, 5, 6))
	if m := <-got; m.WParam != 5 || m.LParam != 6 {
		t.Fatalf("posted %+v", m)
	}
	wantErr(t, "post to a socket", up.WPUPostMessage(wsa.Handle(c), 1, 0, 0), wsa.WSA_INVALID_HANDLE)
	_, _, err = s.PeekMessage(wsa.Handle(c), api.PM_REMOVE)
	wantErr(t, "peek a socket", err, wsa.WSA_INVALID_HANDLE)

	// Destroying the queue ends GetMessage.
	errs := make(chan error)
	go func() {
		_, err := s.GetMessage(hwnd, wsa.WSA_INFINITE)
		errs <- err
	}()
	time.Sleep(10 * time.Millisecond)
	must(t, s.DestroyMessageQueue(hwnd))
	wantErr(t, "GetMessage of destroyed", <-errs, wsa.WSA_INVALID_HANDLE)
	wantErr(t, "post to destroyed", up.WPUPostMessage(hwnd, 1, 0, 0), wsa.WSA_INVALID_HANDLE)
	wantErr(t, "destroy twice", s.DestroyMessageQueue(hwnd), wsa.WSA_INVALID_HANDLE)
}

// Msg mirrors api.Msg for a channel in the test.
type Msg api.Msg

func TestEventSelect(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, _, _ := pair(t, s)
	ev := newEvent(t, s)
	wantErr(t, "bad event", s.WSAEventSelect(c, 0x7777, wsa.FD_WRITE), wsa.WSAEINVAL)
	wantErr(t, "no event", s.WSAEventSelect(c, wsa.WSA_INVALID_EVENT, wsa.FD_WRITE), wsa.WSAEINVAL)
	must(t, s.WSAEventSelect(c, ev, wsa.FD_READ|wsa.FD_WRITE))
	if r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, wsa.WSA_INFINITE, false); r != 0 || err != nil {
		t.Fatal(r, err)
	}
	_, err := s.WSAEnumNetworkEvents(c, 0x7777)
	wantErr(t, "enum with bad event", err, wsa.WSAEINVAL)
	ne, err := s.WSAEnumNetworkEvents(c, ev)
	must(t, err)
	if ne.NetworkEvents != wsa.FD_WRITE || s.EventSignalled(ev) {
		t.Fatalf("events %#x, event still set %v", ne.NetworkEvents, s.EventSignalled(ev))
	}
	ne, err = s.WSAEnumNetworkEvents(c, 0)
	if err != nil || ne.NetworkEvents != 0 {
		t.Fatalf("second enum %+v %v", ne, err)
	}
	must(t, s.WSAEventSelect(c, 0x7777, 0)) // cancel: event not checked
	_, err = s.WSAEnumNetworkEvents(0x7777, ev)
	wantErr(t, "enum on non-socket", err, wsa.WSAENOTSOCK)
}

func TestSelectDispatch(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, srv, _ := pair(t, s)
	s6, err := s.Socket(wsa.AF_INET6, wsa.SOCK_STREAM, 0)
	must(t, err)

	_, err = s.Select(0, nil, nil, nil, nil)
	wantErr(t, "three nil sets", err, wsa.WSAEINVAL)
	_, err = s.Select(0, &wsa.FdSet{}, &wsa.FdSet{}, &wsa.FdSet{}, &wsa.Timeval{})
	wantErr(t, "three empty sets", err, wsa.WSAEINVAL)
	_, err = s.Select(0, &wsa.FdSet{Array: []wsa.Socket{c, 0x7777}}, nil, nil, &wsa.Timeval{})
	wantErr(t, "bad handle", err, wsa.WSAENOTSOCK)
	_, err = s.Select(0, nil, nil, &wsa.FdSet{Array: []wsa.Socket{wsa.INVALID_SOCKET}}, &wsa.Timeval{})
	wantErr(t, "INVALID_SOCKET", err, wsa.WSAENOTSOCK)

	// Read before write: the IPv6 provider gets the call.
	if _, err := s.Send(c, []byte("r"), 0); err != nil {
		t.Fatal(err)
	}
	rd := &wsa.FdSet{Array: []wsa.Socket{s6}}
	wr := &wsa.FdSet{Array: []wsa.Socket{c}}
	n, err := s.Select(0, rd, wr, nil, &wsa.Timeval{})
	must(t, err)
	if n != 1 || env.prov6().selects != 1 || env.prov4().selects != 0 {
		t.Fatalf("n %d, selects io6 %d io4 %d", n, env.prov6().selects, env.prov4().selects)
	}
	// Write before except.
	rd = &wsa.FdSet{Array: []wsa.Socket{srv}}
	wr = &wsa.FdSet{Array: []wsa.Socket{c}}
	ex := &wsa.FdSet{Array: []wsa.Socket{s6}}
	n, err = s.Select(0, rd, wr, ex, nil)
	must(t, err)
	if n != 2 || rd.Count() != 1 || ex.Count() != 0 || env.prov4().selects != 1 {
		t.Fatalf("n %d, read %v, except %v", n, rd.Array, ex.Array)
	}
	ex = &wsa.FdSet{Array: []wsa.Socket{s6}}
	if _, err := s.Select(0, nil, &wsa.FdSet{Array: []wsa.Socket{c}}, ex, nil); err != nil || env.prov4().selects != 2 {
		t.Fatal(err)
	}
}

func TestWSAPoll(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	c, srv, _ := pair(t, s)
	s6, err := s.Socket(wsa.AF_INET6, wsa.SOCK_STREAM, 0)
	must(t, err)

	for _, bad := range []int16{wsa.POLLPRI, wsa.POLLWRBAND, wsa.POLLERR, wsa.POLLHUP, wsa.POLLNVAL} {
		_, err := s.WSAPoll([]wsa.PollFd{{Fd: c, Events: wsa.POLLIN | bad}}, 0)
		wantErr(t, "forbidden bit", err, wsa.WSAEINVAL)
	}
	_, err = s.WSAPoll([]wsa.PollFd{{Fd: wsa.INVALID_SOCKET, Events: wsa.POLLIN, REvents: 7}}, 0)
	wantErr(t, "no valid socket", err, wsa.WSAEINVAL)
	_, err = s.WSAPoll(nil, 0)
	wantErr(t, "no entries", err, wsa.WSAEINVAL)
	_, err = s.WSAPoll([]wsa.PollFd{{Fd: 0x7777, Events: wsa.POLLIN}}, 0)
	wantErr(t, "only a bad handle", err, wsa.WSAEINVAL)

	if _, err := s.Send(c, []byte("r"), 0); err != nil {
		t.Fatal(err)
	}
	fds := []wsa.PollFd{
		{Fd: wsa.INVALID_SOCKET, Events: wsa.POLLPRI, REvents: 7}, // ignored: forbidden bits too
		{Fd: srv, Events: wsa.POLLRDNORM},
		{Fd: 0x7777, Events: wsa.POLLIN},
		{Fd: c, Events: wsa.POLLOUT},
		{Fd: s6, Events: wsa.POLLRDNORM},
	}
	n, err := s.WSAPoll(fds, -1)
	must(t, err)
	// s6 belongs to the other provider: io4, which answers for the call,
	// does not know it (what a provider does with a foreign socket is its
	// own business).
	want := []int16{0, wsa.POLLRDNORM, wsa.POLLNVAL, wsa.POLLWRNORM, wsa.POLLNVAL}
	for i := range fds {
		if fds[i].REvents != want[i] {
			t.Errorf("entry %d: revents %#x, want %#x", i, fds[i].REvents, want[i])
		}
	}
	p4 := env.prov4()
	if n != 4 || p4.polls != 1 || p4.pollTmo != 0 || env.prov6().polls != 0 {
		t.Fatalf("n %d, polls %d (timeout %d), io6 polls %d", n, p4.polls, p4.pollTmo, env.prov6().polls)
	}
	// Without an invalid entry the timeout reaches the provider; the first
	// valid socket picks it.
	fds = []wsa.PollFd{{Fd: s6, Events: wsa.POLLOUT}, {Fd: c, Events: wsa.POLLOUT}}
	if _, err := s.WSAPoll(fds, 250); err != nil || env.prov6().polls != 1 || env.prov6().pollTmo != 250 {
		t.Fatalf("io6 poll: %v", err)
	}
}

func TestWin32Error(t *testing.T) {
	for _, c := range []struct{ in, want wsa.Errno }{
		{0, 0},
		{wsa.WSA_OPERATION_ABORTED, 995},
		{wsa.WSAEINTR, 995},
		{wsa.WSAECONNRESET, 64},
		{wsa.WSAENETRESET, 64},
		{wsa.WSAECONNABORTED, 1236},
		{wsa.WSAECONNREFUSED, 1225},
		{wsa.WSAETIMEDOUT, 121},
		{wsa.WSAEMSGSIZE, 234},
		{wsa.WSAENETUNREACH, 1231},
		{wsa.WSAEHOSTUNREACH, 1232},
		{wsa.WSAEDISCON, 1226},
		{wsa.WSAENOTCONN, 1229},
		{wsa.WSAESHUTDOWN, 233},
		{wsa.WSAEADDRINUSE, 52},
		{wsa.WSAEADDRNOTAVAIL, 1214},
		{wsa.WSAENOBUFS, 1450},
		{wsa.WSAENETDOWN, 59},
		{wsa.WSAEFAULT, 998},
		{wsa.WSAEINVAL, 87},
		{wsa.WSAENOTSOCK, 6},
		{wsa.WSAEACCES, 5},
		{wsa.WSAEOPNOTSUPP, 50},
		{wsa.WSAEWOULDBLOCK, 21},
		{wsa.WSAEPROTONOSUPPORT, wsa.WSAEPROTONOSUPPORT}, // no NTSTATUS of its own
	} {
		if got := api.Win32Error(c.in); got != c.want {
			t.Errorf("Win32Error(%v) = %d, want %d", c.in.Name(), got, c.want)
		}
	}
}

func TestExtensionFunctions(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	must(t, s.Bind(l, &wsa.SockaddrInet4{Addr: loop4.Addr}))
	must(t, s.Listen(l, 8))
	lname, err := s.Getsockname(l)
	must(t, err)
	port := newPort(t, s, 0)
	_, err = s.CreateIoCompletionPort(wsa.Handle(l), port, 100, 0)
	must(t, err)

	t.Run("WSAIoctl lookup", func(t *testing.T) {
		var in [16]byte
		_ = wsa.WSAID_ACCEPTEX.Marshal(in[:])
		var out [8]byte
		var n uint32
		must(t, s.WSAIoctl(l, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in[:], out[:], &n, nil, nil))
		fn, ok := provider.ExtensionFunction(uintptr(binary.LittleEndian.Uint64(out[:])))
		if _, isAcceptEx := fn.(provider.AcceptExFunc); n != 8 || !ok || !isAcceptEx {
			t.Fatalf("lookup: n %d, %T", n, fn)
		}
		_ = wsa.WSAID_MULTIPLE_RIO.Marshal(in[:])
		wantErr(t, "unknown GUID", s.WSAIoctl(l, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in[:], out[:], &n, nil, nil), wsa.WSAEINVAL)
	})

	t.Run("AcceptEx", func(t *testing.T) {
		a, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
		must(t, err)
		const addrLen = wsa.SizeofSockaddrInet6 + 16
		buf := make([]byte, 2*addrLen)
		ov := &wsa.Overlapped{}
		var got uint32
		wantErr(t, "short buffer", s.AcceptEx(l, a, buf[:10], 0, addrLen, addrLen, &got, ov), wsa.WSAEFAULT)
		wantErr(t, "bad accept socket", s.AcceptEx(l, 0x7777, buf, 0, addrLen, addrLen, &got, ov), wsa.WSAENOTSOCK)
		wantErr(t, "AcceptEx", s.AcceptEx(l, a, buf, 0, addrLen, addrLen, &got, ov), wsa.WSA_IO_PENDING)
		wantNoPacket(t, s, port)
		c, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
		must(t, err)
		must(t, s.Connect(c, lname))
		p := gqcs(s, port, wsa.WSA_INFINITE)
		if p.err != nil || p.ov != ov || p.key != 100 {
			t.Fatalf("AcceptEx packet %+v", p)
		}
		local, remote, err := api.GetAcceptExSockaddrs(buf, 0, addrLen, addrLen)
		must(t, err)
		cname, err := s.Getsockname(c)
		must(t, err)
		if wsa.FormatSockaddr(local) != wsa.FormatSockaddr(lname) || wsa.FormatSockaddr(remote) != wsa.FormatSockaddr(cname) {
			t.Fatalf("GetAcceptExSockaddrs: %v %v, want %v %v", local, remote, lname, cname)
		}
		var lb [8]byte
		binary.LittleEndian.PutUint64(lb[:], uint64(l))
		must(t, s.Setsockopt(a, wsa.SOL_SOCKET, wsa.SO_UPDATE_ACCEPT_CONTEXT, lb[:]))
		// The accepted socket carries the connection.
		if _, err := s.Send(c, []byte("hi"), 0); err != nil {
			t.Fatal(err)
		}
		rb := make([]byte, 4)
		if n, err := s.Recv(a, rb, 0); err != nil || string(rb[:n]) != "hi" {
			t.Fatalf("recv on accepted: %q %v", rb[:n], err)
		}
		_, _, err = api.GetAcceptExSockaddrs(buf, 0, addrLen, addrLen+1)
		wantErr(t, "short block", err, wsa.WSAEFAULT)
		_, _, err = api.GetAcceptExSockaddrs(make([]byte, 2*addrLen), 0, addrLen, addrLen)
		wantErr(t, "empty block", err, wsa.WSAEFAULT)
	})

	t.Run("ConnectEx", func(t *testing.T) {
		c, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
		must(t, err)
		ev := newEvent(t, s)
		ov := &wsa.Overlapped{HEvent: ev}
		var sent uint32
		wantErr(t, "unbound", s.ConnectEx(c, lname, nil, &sent, ov), wsa.WSAEINVAL)
		if ov.Internal != uintptr(wsa.WSAEINVAL) || s.EventSignalled(ev) {
			t.Fatalf("not-started ConnectEx delivered: %+v", ov)
		}
		wantErr(t, "nil name", s.ConnectEx(c, nil, nil, &sent, ov), wsa.WSAEFAULT)
		must(t, s.Bind(c, &wsa.SockaddrInet4{Addr: loop4.Addr}))
		must(t, s.ConnectEx(c, lname, []byte("first"), &sent, ov))
		if sent != 5 || !s.EventSignalled(ev) {
			t.Fatalf("ConnectEx sent %d", sent)
		}
		must(t, s.Setsockopt(c, wsa.SOL_SOCKET, wsa.SO_UPDATE_CONNECT_CONTEXT, nil))
		p := env.prov4()
		p.rmu.Lock()
		opts := p.sockopts
		p.rmu.Unlock()
		if len(opts) < 2 || opts[len(opts)-1] != wsa.SO_UPDATE_CONNECT_CONTEXT || opts[len(opts)-2] != wsa.SO_UPDATE_ACCEPT_CONTEXT {
			t.Fatalf("update-context options did not reach the provider: %#x", opts)
		}
	})

	t.Run("DisconnectEx TransmitFile TransmitPackets", func(t *testing.T) {
		c, _, _ := pair(t, s)
		ev := newEvent(t, s)
		wantErr(t, "reserved", s.DisconnectEx(c, nil, 0, 1), wsa.WSAEINVAL)
		ov := &wsa.Overlapped{HEvent: ev}
		must(t, s.TransmitFile(c, nil, 0, 0, ov, &wsa.TransmitFileBuffers{Head: []byte("head"), Tail: []byte("tail")}, wsa.TF_DISCONNECT))
		var n, flags uint32
		must(t, s.WSAGetOverlappedResult(c, ov, &n, true, &flags))
		if n != 8 {
			t.Fatalf("TransmitFile %d", n)
		}
		ov2 := &wsa.Overlapped{HEvent: ev}
		must(t, s.TransmitPackets(c, []wsa.TransmitPacketsElement{
			{Flags: wsa.TP_ELEMENT_MEMORY, Buffer: []byte("ab")},
			{Flags: wsa.TP_ELEMENT_MEMORY | wsa.TP_ELEMENT_EOP, Buffer: []byte("cd")},
		}, 0, ov2, 0))
		must(t, s.WSAGetOverlappedResult(c, ov2, &n, true, &flags))
		must(t, s.DisconnectEx(c, nil, wsa.TF_REUSE_SOCKET, 0))
		p := env.prov4()
		p.rmu.Lock()
		tx := p.transmits
		p.rmu.Unlock()
		if n != 4 || len(tx) != 3 || string(tx[0]) != "headtail" || string(tx[1]) != "abcd" || string(tx[2]) != "disconnect" {
			t.Fatalf("transmits %q", tx)
		}
	})

	t.Run("WSASendMsg WSARecvMsg", func(t *testing.T) {
		c, srv, _ := pair(t, s)
		var n uint32
		wantErr(t, "nil msg", s.WSASendMsg(c, nil, 0, &n, nil, nil), wsa.WSAEFAULT)
		wantErr(t, "nil count", s.WSASendMsg(c, &wsa.WSAMsg{}, 0, nil, nil, nil), wsa.WSAEFAULT)
		must(t, s.WSASendMsg(c, &wsa.WSAMsg{Buffers: [][]byte{[]byte("dgram")}}, 0, &n, nil, nil))
		msg := &wsa.WSAMsg{Buffers: [][]byte{make([]byte, 8)}, Control: make([]byte, 64)}
		must(t, s.WSARecvMsg(srv, msg, &n, nil, nil))
		cm, err := wsa.ParseControl(msg.Control)
		must(t, err)
		if n != 5 || len(cm) != 1 || cm[0].Type != wsa.IP_PKTINFO {
			t.Fatalf("WSARecvMsg %d, control %+v", n, cm)
		}
		// Overlapped, with completion routines.
		var crs atomic.Int32
		cr := func(uint32, uint32, *wsa.Overlapped, uint32) { crs.Add(1) }
		rov := &wsa.Overlapped{}
		msg.Control = msg.Control[:cap(msg.Control)]
		wantErr(t, "pending WSARecvMsg", s.WSARecvMsg(srv, msg, nil, rov, cr), wsa.WSA_IO_PENDING)
		must(t, s.WSASendMsg(c, &wsa.WSAMsg{Buffers: [][]byte{[]byte("x")}}, 0, nil, &wsa.Overlapped{}, cr))
		for crs.Load() < 2 {
			if r := s.SleepEx(wsa.WSA_INFINITE, true); r != wsa.WSA_WAIT_IO_COMPLETION {
				t.Fatalf("SleepEx %#x", r)
			}
		}
		if rov.InternalHigh != 1 {
			t.Fatalf("recvmsg ov %+v", rov)
		}
	})

	t.Run("lookup failures", func(t *testing.T) {
		s6, err := s.Socket(wsa.AF_INET6, wsa.SOCK_STREAM, 0)
		must(t, err)
		p6 := env.prov6()
		p6.ext[wsa.WSAID_DISCONNECTEX] = provider.NewExtensionHandle(42) // not a DisconnectExFunc
		delete(p6.ext, wsa.WSAID_TRANSMITPACKETS)
		ov := &wsa.Overlapped{}
		wantErr(t, "wrong type", s.DisconnectEx(s6, ov, 0, 0), wsa.WSASYSCALLFAILURE)
		wantErr(t, "unknown to the provider", s.TransmitPackets(s6, nil, 0, ov, 0), wsa.WSAEINVAL)
		if *ov != (wsa.Overlapped{}) || s.PendingOps() != 0 {
			t.Errorf("failed lookup touched ov %+v, %d ops tracked", ov, s.PendingOps())
		}
	})
}

// Concurrent overlapped traffic on many sockets of one port, with
// completions racing the issuing calls: every operation yields exactly one
// packet.
func TestCompletionPortStress(t *testing.T) {
	env := newIOEnv(t)
	s := env.start(t)
	port := newPort(t, s, 0)
	const socks, ops = 8, 50
	var wg sync.WaitGroup
	total := make(chan int, 1)
	go func() {
		n := 0
		for n < socks*ops {
			if p := gqcs(s, port, wsa.WSA_INFINITE); p.err != nil {
				t.Error(p.err)
				break
			}
			n++
		}
		total <- n
	}()
	for i := range socks {
		c, _, _ := pair(t, s)
		_, err := s.CreateIoCompletionPort(wsa.Handle(c), port, uintptr(i), 0)
		must(t, err)
		if i%2 == 0 {
			must(t, s.SetFileCompletionNotificationModes(wsa.Handle(c), wsa.FILE_SKIP_SET_EVENT_ON_HANDLE))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ops {
				ov := &wsa.Overlapped{}
				if err := s.WSAIoctl(c, ioctlEarlyPending, nil, nil, nil, ov, nil); err != wsa.WSA_IO_PENDING {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := <-total; n != socks*ops {
		t.Fatalf("%d packets", n)
	}
	wantNoPacket(t, s, port)
}

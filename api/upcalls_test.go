package api_test

import (
	"testing"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

func TestUpcalls(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	h, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0)
	must(t, err)
	up := env.a.upcalls()
	tcpID := env.cat.WSCEnumProtocols([]int32{wsa.IPPROTO_TCP})[0].CatalogEntryId

	t.Run("socket handles", func(t *testing.T) {
		ctx, err := up.WPUQuerySocketHandleContext(h)
		must(t, err)
		if _, ok := ctx.(*fakeSock); !ok {
			t.Errorf("context %T, want the provider's *fakeSock", ctx)
		}
		_, err = up.WPUQuerySocketHandleContext(h + 4000)
		wantErr(t, "context of unknown", err, wsa.WSAENOTSOCK)
		wantErr(t, "close unknown", up.WPUCloseSocketHandle(h+4000), wsa.WSAENOTSOCK)
		_, err = up.WPUCreateSocketHandle(424242, nil)
		wantErr(t, "create for unknown entry", err, wsa.WSAEINVAL)

		x, err := up.WPUCreateSocketHandle(tcpID, "ctx")
		must(t, err)
		must(t, up.WPUCloseSocketHandle(x))
		_, err = up.WPUQuerySocketHandleContext(x)
		wantErr(t, "context after close", err, wsa.WSAENOTSOCK)
	})

	t.Run("WPUModifyIFSHandle", func(t *testing.T) {
		// A value of the provider's own gets a handle of the table.
		m, err := up.WPUModifyIFSHandle(tcpID, 0x7777)
		must(t, err)
		if m == 0x7777 || m%4 != 0 {
			t.Errorf("modified handle %#x", m)
		}
		ctx, err := up.WPUQuerySocketHandleContext(m)
		must(t, err)
		if ctx != wsa.Socket(0x7777) {
			t.Errorf("context of modified handle %v, want the proposed value", ctx)
		}
		// A live handle passes through unchanged.
		same, err := up.WPUModifyIFSHandle(tcpID, h)
		must(t, err)
		if same != h {
			t.Errorf("pass-through gave %#x, want %#x", same, h)
		}
		for _, bad := range []wsa.Socket{0, wsa.INVALID_SOCKET} {
			_, err := up.WPUModifyIFSHandle(tcpID, bad)
			wantErr(t, "proposed invalid", err, wsa.WSAEINVAL)
		}
		_, err = up.WPUModifyIFSHandle(424242, 0x7777)
		wantErr(t, "unknown entry", err, wsa.WSAEINVAL)
		must(t, up.WPUCloseSocketHandle(m))
	})

	t.Run("events", func(t *testing.T) {
		ev, err := up.WPUCreateEvent()
		must(t, err)
		if s.EventSignalled(ev) {
			t.Error("new event signalled")
		}
		must(t, up.WPUSetEvent(ev))
		must(t, up.WPUSetEvent(ev))
		if !s.EventSignalled(ev) {
			t.Error("set event not signalled")
		}
		must(t, up.WPUResetEvent(ev))
		must(t, up.WPUResetEvent(ev))
		if s.EventSignalled(ev) {
			t.Error("reset event signalled")
		}
		must(t, up.WPUCloseEvent(ev))
		for name, err := range map[string]error{
			"set closed":   up.WPUSetEvent(ev),
			"reset closed": up.WPUResetEvent(ev),
			"close closed": up.WPUCloseEvent(ev),
			"set socket":   up.WPUSetEvent(wsa.Handle(h)),
			"close socket": up.WPUCloseEvent(wsa.Handle(h)),
			"set 0":        up.WPUSetEvent(wsa.WSA_INVALID_EVENT),
		} {
			wantErr(t, name, err, wsa.WSA_INVALID_HANDLE)
		}
		wantErr(t, "socket still alive", s.Listen(h, 1), wsa.WSAEINVAL) // unbound: the fake's answer
	})

	t.Run("APC queue", func(t *testing.T) {
		tid, err := up.WPUOpenCurrentThread()
		must(t, err)
		tid2, err := up.WPUOpenCurrentThread()
		must(t, err)
		if tid != tid2 || tid.ThreadHandle == 0 {
			t.Errorf("ThreadIDs %v %v: want one per Session", tid, tid2)
		}
		var got []uintptr
		for i := uintptr(1); i <= 3; i++ {
			must(t, up.WPUQueueApc(&tid, func(c uintptr) { got = append(got, c) }, i))
		}
		if n := s.RunAPCs(); n != 3 || len(got) != 3 || got[0] != 1 || got[2] != 3 {
			t.Errorf("ran %d: %v", n, got)
		}
		wantErr(t, "nil tid", up.WPUQueueApc(nil, func(uintptr) {}, 0), wsa.WSAEFAULT)
		wantErr(t, "nil fn", up.WPUQueueApc(&tid, nil, 0), wsa.WSAEFAULT)
		bad := provider.ThreadID{ThreadHandle: wsa.Handle(h)}
		wantErr(t, "socket as tid", up.WPUQueueApc(&bad, func(uintptr) {}, 0), wsa.WSAEINVAL)
		must(t, up.WPUCloseThread(&tid))
		wantErr(t, "close nil tid", up.WPUCloseThread(nil), wsa.WSAEFAULT)
	})

	t.Run("overlapped completion", func(t *testing.T) {
		ev, err := up.WPUCreateEvent()
		must(t, err)
		ov := &wsa.Overlapped{Internal: wsa.WSS_OPERATION_IN_PROGRESS, HEvent: ev}
		must(t, up.WPUCompleteOverlappedRequest(h, ov, uint32(wsa.WSAECONNRESET), 7))
		if ov.Internal != uintptr(wsa.WSAECONNRESET) || ov.InternalHigh != 7 || !s.EventSignalled(ev) {
			t.Errorf("ov %+v, event %v", ov, s.EventSignalled(ev))
		}
		wantErr(t, "nil ov", up.WPUCompleteOverlappedRequest(h, nil, 0, 0), wsa.WSAEFAULT)
		// No event, and a socket closed meanwhile: still recorded.
		ov2 := &wsa.Overlapped{}
		must(t, up.WPUCompleteOverlappedRequest(h+4000, ov2, uint32(wsa.WSA_OPERATION_ABORTED), 0))
		if ov2.Internal != uintptr(wsa.WSA_OPERATION_ABORTED) {
			t.Errorf("ov2 %+v", ov2)
		}
	})

	t.Run("misc", func(t *testing.T) {
		set := &wsa.FdSet{}
		set.Set(h)
		if !up.WPUFDIsSet(h, set) || up.WPUFDIsSet(h+4, set) || up.WPUFDIsSet(h, nil) {
			t.Error("WPUFDIsSet")
		}
		path, err := up.WPUGetProviderPath(guidB)
		if err != nil || path != "b" {
			t.Errorf("WPUGetProviderPath = %q, %v", path, err)
		}
		_, err = up.WPUGetProviderPath(wsa.GUID{Data1: 99})
		wantErr(t, "unknown provider path", err, wsa.WSAEINVAL)
		fn, ctx, err := up.WPUQueryBlockingCallback(tcpID)
		if fn != nil || ctx != 0 || err != nil {
			t.Error("WPUQueryBlockingCallback: want no hook")
		}
		wantErr(t, "WPUPostMessage to no queue", up.WPUPostMessage(0, 0, 0, 0), wsa.WSA_INVALID_HANDLE)
	})
}

// After WSACleanup the upcall table of the ended Session makes no handles
// and queues no APCs.
func TestUpcallsAfterCleanup(t *testing.T) {
	env := newEnv(t)
	s := env.start(t)
	if _, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, 0); err != nil {
		t.Fatal(err)
	}
	up := env.a.upcalls()
	tid, err := up.WPUOpenCurrentThread()
	must(t, err)
	must(t, s.WSACleanup())
	tcpID := env.cat.WSCEnumProtocols([]int32{wsa.IPPROTO_TCP})[0].CatalogEntryId
	_, err = up.WPUCreateSocketHandle(tcpID, nil)
	wantErr(t, "create after cleanup", err, wsa.WSANOTINITIALISED)
	_, err = up.WPUCreateEvent()
	wantErr(t, "event after cleanup", err, wsa.WSANOTINITIALISED)
	if err := up.WPUQueueApc(&tid, func(uintptr) {}, 0); err == nil {
		t.Error("APC queued after cleanup")
	}
}

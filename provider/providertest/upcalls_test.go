package providertest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

func TestUpcallsHandles(t *testing.T) {
	u := NewUpcalls()
	s1, _ := u.WPUCreateSocketHandle(1001, "one")
	s2, _ := u.WPUCreateSocketHandle(1002, 2)
	ev, _ := u.WPUCreateEvent()
	tid, _ := u.WPUOpenCurrentThread()
	seen := map[uintptr]bool{}
	for _, h := range []uintptr{uintptr(s1), uintptr(s2), uintptr(ev), uintptr(tid.ThreadHandle)} {
		if h == 0 || seen[h] {
			t.Fatalf("handle %#x reused or zero", h)
		}
		seen[h] = true
	}
	if ctx, err := u.WPUQuerySocketHandleContext(s1); err != nil || ctx != "one" {
		t.Fatalf("context %v %v", ctx, err)
	}
	if h, ok := u.Socket(s2); !ok || h.CatalogEntryID != 1002 || h.Context != 2 {
		t.Fatalf("entry %+v", h)
	}
	if u.Sockets() != 2 {
		t.Fatal("socket count")
	}
	if err := u.WPUCloseSocketHandle(s1); err != nil {
		t.Fatal(err)
	}
	if _, err := u.WPUQuerySocketHandleContext(s1); !errors.Is(err, wsa.WSAENOTSOCK) {
		t.Fatalf("closed handle: %v", err)
	}
	if err := u.WPUCloseSocketHandle(s1); !errors.Is(err, wsa.WSAENOTSOCK) {
		t.Fatalf("double close: %v", err)
	}
	ifs, err := u.WPUModifyIFSHandle(1003, 0x7000)
	if err != nil || ifs != 0x7000 {
		t.Fatalf("WPUModifyIFSHandle: %v %v", ifs, err)
	}
	// A live handle is re-tagged (a layer claiming its base's handle).
	if h, err := u.WPUModifyIFSHandle(1009, s2); err != nil || h != s2 {
		t.Fatalf("re-tag: %v %v", h, err)
	}
	if h, _ := u.Socket(s2); h.CatalogEntryID != 1009 || h.IFS {
		t.Fatalf("re-tagged entry %+v", h)
	}
	if _, err := u.WPUModifyIFSHandle(1003, 0); err == nil {
		t.Fatal("handle 0 registered")
	}
	if !u.WPUFDIsSet(s2, &wsa.FdSet{Array: []wsa.Socket{s2}}) || u.WPUFDIsSet(s1, &wsa.FdSet{}) {
		t.Fatal("WPUFDIsSet")
	}
	if err := u.WPUCloseThread(&tid); err != nil {
		t.Fatal(err)
	}
	if err := u.WPUCloseThread(&tid); err == nil {
		t.Fatal("thread closed twice")
	}
	u.SetProviderPath(wsa.MSAFD_TCPIP_PROVIDER_ID, "ws2/netstack")
	if p, err := u.WPUGetProviderPath(wsa.MSAFD_TCPIP_PROVIDER_ID); err != nil || p != "ws2/netstack" {
		t.Fatalf("path %q %v", p, err)
	}
	if _, err := u.WPUGetProviderPath(wsa.MSAFD_TCPIP6_PROVIDER_ID); err == nil {
		t.Fatal("unknown provider path")
	}
}

func TestUpcallsEvents(t *testing.T) {
	u := NewUpcalls()
	h, _ := u.WPUCreateEvent()
	e := u.Event(h)
	if e.Signaled() || e.Wait(time.Millisecond) {
		t.Fatal("new event signaled")
	}
	go func() { time.Sleep(10 * time.Millisecond); _ = u.WPUSetEvent(h) }()
	if !e.Wait(5 * time.Second) {
		t.Fatal("event not set")
	}
	if !e.Signaled() || !e.Wait(0) {
		t.Fatal("manual-reset event reset itself")
	}
	_ = u.WPUResetEvent(h)
	if e.Signaled() {
		t.Fatal("reset event signaled")
	}
	if err := u.WPUCloseEvent(h); err != nil {
		t.Fatal(err)
	}
	if err := u.WPUSetEvent(h); err == nil {
		t.Fatal("set of a closed event")
	}
}

func TestUpcallsQueues(t *testing.T) {
	u := NewUpcalls()
	s, _ := u.WPUCreateSocketHandle(1001, nil)
	ev, _ := u.WPUCreateEvent()
	tid, _ := u.WPUOpenCurrentThread()
	var mu sync.Mutex
	var ran []uintptr
	fn := provider.APCFunc(func(ctx uintptr) {
		mu.Lock()
		ran = append(ran, ctx)
		mu.Unlock()
		if ctx == 1 {
			_ = u.WPUQueueApc(&tid, func(uintptr) { ran = append(ran, 3) }, 3)
		}
	})
	changed := make(chan bool, 1)
	go func() { changed <- u.WaitChange(5 * time.Second) }()
	time.Sleep(5 * time.Millisecond)
	_ = u.WPUQueueApc(&tid, fn, 1)
	_ = u.WPUQueueApc(&tid, fn, 2)
	if !<-changed {
		t.Fatal("WaitChange missed an APC")
	}
	if n := u.RunAPCs(); n != 3 || len(ran) != 3 || ran[0] != 1 || ran[1] != 2 || ran[2] != 3 {
		t.Fatalf("RunAPCs ran %d: %v", n, ran)
	}
	_ = u.WPUPostMessage(7, 0x401, 8, 9)
	if m := u.Messages(); len(m) != 1 || m[0] != (Message{7, 0x401, 8, 9}) {
		t.Fatalf("messages %v", m)
	}
	ov := &wsa.Overlapped{Internal: wsa.WSS_OPERATION_IN_PROGRESS, HEvent: ev}
	if err := u.WPUCompleteOverlappedRequest(s, ov, uint32(wsa.WSAECONNRESET), 12); err != nil {
		t.Fatal(err)
	}
	if ov.InternalHigh != 12 || ov.OffsetHigh != uint32(wsa.WSAECONNRESET) || ov.Internal == wsa.WSS_OPERATION_IN_PROGRESS || !u.Event(ev).Signaled() {
		t.Fatalf("completed overlapped %+v", ov)
	}
	if c := u.Completions(); len(c) != 1 || c[0].Overlapped != ov || c[0].Transferred != 12 {
		t.Fatalf("completions %v", c)
	}
	if err := u.WPUCompleteOverlappedRequest(0x9999, ov, 0, 0); !errors.Is(err, wsa.WSAEINVAL) {
		t.Fatalf("completion on an unknown handle: %v", err)
	}
}

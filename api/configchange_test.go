package api_test

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/catalogfile"
	"github.com/ws2go/ws2/wsa"
)

const changeTimeout = 10 * time.Second

var (
	ccGUID  = wsa.GUID{Data1: 0xcc}
	ccGUID2 = wsa.GUID{Data1: 0xcd}
)

func ccEntry(name string) wsa.ProtocolInfo {
	return wsa.ProtocolInfo{
		ProtocolChain: wsa.ProtocolChain{ChainLen: wsa.BASE_PROTOCOL},
		AddressFamily: wsa.AF_INET, SocketType: wsa.SOCK_STREAM, Protocol: wsa.IPPROTO_TCP, ProtocolName: name,
	}
}

// ccSession starts a Session over a catalog with two entries (no provider
// is ever loaded: the test makes no sockets).
func ccSession(t *testing.T) (*api.Session, *provider.Catalog) {
	t.Helper()
	cat := provider.NewCatalog(provider.NewRegistry())
	if err := cat.WSCInstallProvider(ccGUID, "cc", []wsa.ProtocolInfo{ccEntry("a"), ccEntry("b")}); err != nil {
		t.Fatal(err)
	}
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, cat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.WSACleanup() })
	return s, cat
}

func ccHandle(t *testing.T, s *api.Session) wsa.Handle {
	t.Helper()
	var h wsa.Handle
	if err := s.WSAProviderConfigChange(&h, nil, nil); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if h == 0 {
		t.Fatal("no notification handle")
	}
	return h
}

// waitSignalled waits for h (an event or the notification handle).
func waitSignalled(t *testing.T, s *api.Session, h wsa.Handle) {
	t.Helper()
	r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{h}, false, uint32(changeTimeout/time.Millisecond), false)
	if r != wsa.WSA_WAIT_EVENT_0 || err != nil {
		t.Fatalf("wait = %d, %v; want signalled", r, err)
	}
}

func notSignalled(t *testing.T, s *api.Session, h wsa.Handle) {
	t.Helper()
	if r, err := s.WSAWaitForMultipleEvents([]wsa.Handle{h}, false, 20, false); r != wsa.WSA_WAIT_TIMEOUT {
		t.Fatalf("wait = %d, %v; want a timeout (nothing changed)", r, err)
	}
}

func TestProviderConfigChangeErrors(t *testing.T) {
	var unstarted api.Session
	var h wsa.Handle
	if err := unstarted.WSAProviderConfigChange(&h, nil, nil); err != wsa.WSANOTINITIALISED {
		t.Errorf("before WSAStartup: %v", err)
	}
	s, _ := ccSession(t)
	if err := s.WSAProviderConfigChange(nil, nil, nil); err != wsa.WSAEFAULT {
		t.Errorf("nil handle: %v, want WSAEFAULT", err)
	}
	ev, err := s.WSACreateEvent()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []wsa.Handle{ev, 0x7ffc, 3} {
		h := bad
		if err := s.WSAProviderConfigChange(&h, nil, nil); err != wsa.WSA_INVALID_HANDLE {
			t.Errorf("handle %#x: %v, want WSA_INVALID_HANDLE", bad, err)
		}
	}
	h1, h2 := ccHandle(t, s), ccHandle(t, s)
	if h1 == h2 {
		t.Error("two first calls gave the same handle")
	}
	// A notification handle is a waitable handle, closed with CloseHandle.
	notSignalled(t, s, h1)
	if err := s.CloseHandle(h1); err != nil {
		t.Fatalf("CloseHandle: %v", err)
	}
	if err := s.WSAProviderConfigChange(&h1, nil, nil); err != wsa.WSA_INVALID_HANDLE {
		t.Errorf("closed handle: %v, want WSA_INVALID_HANDLE", err)
	}
	// Another Session's handle is not this one's.
	s2, _ := ccSession(t)
	if err := s2.WSAProviderConfigChange(&h2, nil, nil); err != wsa.WSA_INVALID_HANDLE {
		t.Errorf("other Session's handle: %v", err)
	}
}

// TestProviderConfigChangeOverlapped: every kind of change completes a
// pending request, by event, by the handle itself, and by completion
// routine; nothing completes without a change.
func TestProviderConfigChangeOverlapped(t *testing.T) {
	s, cat := ccSession(t)
	h := ccHandle(t, s)
	changes := []struct {
		name string
		do   func() error
	}{
		{"install", func() error { return cat.WSCInstallProvider(ccGUID2, "cc2", []wsa.ProtocolInfo{ccEntry("c")}) }},
		{"order", func() error { return cat.WSCWriteProviderOrder([]uint32{1003, 1002, 1001}) }},
		{"update", func() error { return cat.WSCUpdateProvider(ccGUID2, "cc3", []wsa.ProtocolInfo{ccEntry("c2")}) }},
		{"deinstall", func() error { return cat.WSCDeinstallProvider(ccGUID2) }},
	}
	for _, ch := range changes {
		t.Run(ch.name+"/event", func(t *testing.T) {
			ev, _ := s.WSACreateEvent()
			defer s.WSACloseEvent(ev)
			ov := &wsa.Overlapped{HEvent: ev}
			if err := s.WSAProviderConfigChange(&h, ov, nil); err != wsa.WSA_IO_PENDING {
				t.Fatalf("call: %v, want WSA_IO_PENDING", err)
			}
			if wsa.HasOverlappedIoCompleted(ov) {
				t.Fatal("completed before the change")
			}
			notSignalled(t, s, ev)
			if err := ch.do(); err != nil {
				t.Fatal(err)
			}
			waitSignalled(t, s, ev)
			if !wsa.HasOverlappedIoCompleted(ov) || ov.Internal != 0 || ov.InternalHigh != 0 {
				t.Errorf("ov after completion: %+v", ov)
			}
		})
	}
	// Without an hEvent the handle itself is signalled; a new request
	// resets it.
	ov := &wsa.Overlapped{}
	if err := s.WSAProviderConfigChange(&h, ov, nil); err != wsa.WSA_IO_PENDING {
		t.Fatal(err)
	}
	notSignalled(t, s, h)
	if err := cat.WSCWriteProviderOrder([]uint32{1001, 1002}); err != nil {
		t.Fatal(err)
	}
	waitSignalled(t, s, h)
	if err := s.WSAProviderConfigChange(&h, ov, nil); err != wsa.WSA_IO_PENDING {
		t.Fatal(err)
	}
	notSignalled(t, s, h)

	// A completion routine runs in an alertable wait.
	if err := cat.WSCWriteProviderOrder([]uint32{1002, 1001}); err != nil { // completes ov above
		t.Fatal(err)
	}
	waitSignalled(t, s, h)
	var calls atomic.Int32
	ov2 := &wsa.Overlapped{}
	cr := func(dwError, n uint32, o *wsa.Overlapped, flags uint32) {
		if dwError != 0 || n != 0 || o != ov2 || flags != 0 {
			t.Errorf("routine(%d, %d, %p, %d)", dwError, n, o, flags)
		}
		calls.Add(1)
	}
	if err := s.WSAProviderConfigChange(&h, ov2, cr); err != wsa.WSA_IO_PENDING {
		t.Fatal(err)
	}
	if r := s.SleepEx(20, true); r != 0 {
		t.Fatalf("SleepEx before the change = %d", r)
	}
	if err := cat.WSCWriteProviderOrder([]uint32{1001, 1002}); err != nil {
		t.Fatal(err)
	}
	if r := s.SleepEx(uint32(changeTimeout/time.Millisecond), true); r != wsa.WSA_WAIT_IO_COMPLETION || calls.Load() != 1 {
		t.Fatalf("SleepEx = %d, %d routine calls; want WSA_WAIT_IO_COMPLETION, 1", r, calls.Load())
	}
}

// TestProviderConfigChangeBlocking: the call without ov returns at the next
// change, not before.
func TestProviderConfigChangeBlocking(t *testing.T) {
	s, cat := ccSession(t)
	h := ccHandle(t, s)
	for i, change := range []func() error{
		func() error { return cat.WSCInstallProvider(ccGUID2, "x", []wsa.ProtocolInfo{ccEntry("x")}) },
		func() error { return cat.WSCWriteProviderOrder([]uint32{1003, 1001, 1002}) },
		func() error { return cat.WSCDeinstallProvider(ccGUID2) },
	} {
		done := make(chan error, 1)
		go func() { done <- s.WSAProviderConfigChange(&h, nil, nil) }()
		select {
		case err := <-done:
			t.Fatalf("change %d: returned %v before the change", i, err)
		case <-time.After(30 * time.Millisecond):
		}
		if err := change(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
		case <-time.After(changeTimeout):
			t.Fatalf("change %d: still blocked", i)
		}
	}
}

// TestProviderConfigChangeCleanup: WSACleanup ends a blocked call and
// aborts a pending one without delivering it; a request on a closed handle
// is aborted at the next change.
func TestProviderConfigChangeCleanup(t *testing.T) {
	s, cat := ccSession(t)
	h := ccHandle(t, s)

	closed := ccHandle(t, s)
	ovClosed := &wsa.Overlapped{}
	if err := s.WSAProviderConfigChange(&closed, ovClosed, nil); err != wsa.WSA_IO_PENDING {
		t.Fatal(err)
	}
	if err := s.CloseHandle(closed); err != nil {
		t.Fatal(err)
	}
	if err := cat.WSCWriteProviderOrder([]uint32{1002, 1001}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(changeTimeout)
	for !wsa.HasOverlappedIoCompleted(ovClosed) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := wsa.Errno(atomic.LoadUintptr(&ovClosed.Internal)); got != wsa.WSA_OPERATION_ABORTED {
		t.Errorf("request on a closed handle: %v, want WSA_OPERATION_ABORTED", got)
	}

	ev, _ := s.WSACreateEvent()
	ov := &wsa.Overlapped{HEvent: ev}
	if err := s.WSAProviderConfigChange(&h, ov, nil); err != wsa.WSA_IO_PENDING {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() { blocked <- s.WSAProviderConfigChange(&h, nil, nil) }()
	time.Sleep(20 * time.Millisecond)
	if err := s.WSACleanup(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		if err != wsa.WSANOTINITIALISED {
			t.Errorf("blocked call after WSACleanup: %v", err)
		}
	case <-time.After(changeTimeout):
		t.Fatal("WSACleanup did not end the blocked call")
	}
	deadline = time.Now().Add(changeTimeout)
	for !wsa.HasOverlappedIoCompleted(ov) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := wsa.Errno(atomic.LoadUintptr(&ov.Internal)); got != wsa.WSA_OPERATION_ABORTED {
		t.Errorf("pending request after WSACleanup: %v, want WSA_OPERATION_ABORTED", got)
	}
}

// TestProviderConfigChangeFromFile: a Session over a catalog bound to a
// catalog file with Watch is notified of a change another writer (here a
// second File, as another process would be) makes to the file.
func TestProviderConfigChangeFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.json")
	defaults := func(c *provider.Catalog) error {
		return c.WSCInstallProvider(ccGUID, "cc", []wsa.ProtocolInfo{ccEntry("a")})
	}
	f, err := catalogfile.Open(path, provider.NewCatalog(provider.NewRegistry()), catalogfile.Options{Defaults: defaults, Create: true, Watch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, f.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	defer s.WSACleanup()
	h := ccHandle(t, s)
	ov := &wsa.Overlapped{}
	if err := s.WSAProviderConfigChange(&h, ov, nil); err != wsa.WSA_IO_PENDING {
		t.Fatal(err)
	}

	other, err := catalogfile.Open(path, nil, catalogfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Catalog().WSCInstallProvider(ccGUID2, "cc2", []wsa.ProtocolInfo{ccEntry("z")}); err != nil {
		t.Fatal(err)
	}
	waitSignalled(t, s, h)
	buf := make([]wsa.ProtocolInfo, 4)
	n := uint32(len(buf) * wsa.SizeofProtocolInfo)
	if got, err := s.WSAEnumProtocols(nil, buf, &n); err != nil || got != 2 {
		t.Errorf("WSAEnumProtocols after the notification: %d, %v; want the 2 entries", got, err)
	}
}

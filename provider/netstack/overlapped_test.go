package netstack

import (
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/providertest"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
)

// Provider-internal overlapped tests; the Winsock semantics are in
// providertest (suite_overlapped.go, suite_ext.go).

var lo4 = &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}

// ovListener makes a listening socket on 127.0.0.1.
func ovListener(t *testing.T, pt provider.ProcTable) (wsa.Socket, wsa.Sockaddr) {
	t.Helper()
	l := newSock(t, pt, wsa.SOCK_STREAM)
	if err := pt.WSPBind(l, lo4); err != nil {
		t.Fatal(err)
	}
	if err := pt.WSPListen(l, 5); err != nil {
		t.Fatal(err)
	}
	to, err := pt.WSPGetSockName(l)
	if err != nil {
		t.Fatal(err)
	}
	return l, to
}

// ovPair returns a connected pair (client, server).
func ovPair(t *testing.T, pt provider.ProcTable) (wsa.Socket, wsa.Socket) {
	t.Helper()
	l, to := ovListener(t, pt)
	c := newSock(t, pt, wsa.SOCK_STREAM)
	if err := pt.WSPConnect(c, to, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	s, _, err := pt.WSPAccept(l, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func ovEvent(t *testing.T, up *providertest.Upcalls) *wsa.Overlapped {
	t.Helper()
	ev, err := up.WPUCreateEvent()
	if err != nil {
		t.Fatal(err)
	}
	return &wsa.Overlapped{HEvent: ev}
}

func waitEvent(t *testing.T, up *providertest.Upcalls, ov *wsa.Overlapped, what string) {
	t.Helper()
	if !up.Event(ov.HEvent).Wait(10 * time.Second) {
		t.Fatalf("%s: no completion", what)
	}
}

func recvOv(pt provider.ProcTable, s wsa.Socket, buf []byte, ov *wsa.Overlapped) error {
	var flags uint32
	_, err := pt.WSPRecv(s, [][]byte{buf}, &flags, ov, nil, nil)
	return err
}

func extFn(t *testing.T, pt provider.ProcTable, s wsa.Socket, g wsa.GUID) (uintptr, any) {
	t.Helper()
	in, out := make([]byte, 16), make([]byte, 8)
	_ = g.Marshal(in)
	if _, err := pt.WSPIoctl(s, wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, in, out, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	h := uintptr(binary.LittleEndian.Uint64(out))
	fn, ok := provider.ExtensionFunction(h)
	if !ok {
		t.Fatal("unknown extension handle")
	}
	return h, fn
}

// TestCleanupAborts: WSPCleanup completes every pending operation with
// WSA_OPERATION_ABORTED, and later calls of an extension function of the
// finished table fail.
func TestCleanupAborts(t *testing.T) {
	pt, up := start(t)
	c, s := ovPair(t, pt)
	ov := ovEvent(t, up)
	if err := recvOv(pt, s, make([]byte, 4), ov); !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("recv: %v", err)
	}
	_, fn := extFn(t, pt, c, wsa.WSAID_DISCONNECTEX)
	if err := pt.WSPCleanup(); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, up, ov, "cleanup")
	if wsa.Errno(ov.OffsetHigh) != wsa.WSA_OPERATION_ABORTED {
		t.Fatalf("after WSPCleanup: %+v", *ov)
	}
	if err := fn.(provider.DisconnectExFunc)(c, nil, 0, 0); !errors.Is(err, wsa.WSANOTINITIALISED) {
		t.Fatalf("DisconnectEx after WSPCleanup: %v", err)
	}
}

// TestPumpIdle: an idle socket with pending operations runs no goroutine;
// the pump runs only when events arrive.
func TestPumpIdle(t *testing.T) {
	pt, up := start(t)
	var ovs []*wsa.Overlapped
	for range 20 {
		_, s := ovPair(t, pt)
		ov := ovEvent(t, up)
		if err := recvOv(pt, s, nil, ov); !errors.Is(err, wsa.WSA_IO_PENDING) {
			t.Fatalf("probe: %v", err)
		}
		ovs = append(ovs, ov)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		if !strings.Contains(string(buf), "overlappedQueues).pump") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pump goroutines still running while idle:\n%s", buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, ov := range ovs {
		if up.Event(ov.HEvent).Signaled() {
			t.Fatal("a probe completed without data")
		}
	}
}

// TestExtensionHandles: one handle per function and procedure table; the
// tables of two Sessions have their own.
func TestExtensionHandles(t *testing.T) {
	pt, _ := start(t)
	s1 := newSock(t, pt, wsa.SOCK_STREAM)
	s2 := newSock(t, pt, wsa.SOCK_DGRAM)
	h1, _ := extFn(t, pt, s1, wsa.WSAID_CONNECTEX)
	h2, _ := extFn(t, pt, s2, wsa.WSAID_CONNECTEX)
	if h1 != h2 {
		t.Fatalf("ConnectEx handles %d and %d in one table", h1, h2)
	}
	pt2, _ := start(t)
	h3, _ := extFn(t, pt2, newSock(t, pt2, wsa.SOCK_STREAM), wsa.WSAID_CONNECTEX)
	if h3 == h1 {
		t.Fatal("two procedure tables share a ConnectEx handle")
	}
}

// TestAcceptExMovedAbort: an AcceptEx waiting for its first data sits on the
// accept socket; CancelIoEx on the listener, closing the accept socket and
// closing the listener each abort it on the listener's handle.
func TestAcceptExMovedAbort(t *testing.T) {
	for _, how := range []string{"cancel", "close accept", "close listener"} {
		t.Run(how, func(t *testing.T) {
			pt, up := start(t)
			l, to := ovListener(t, pt)
			a := newSock(t, pt, wsa.SOCK_STREAM)
			_, fn := extFn(t, pt, l, wsa.WSAID_ACCEPTEX)
			acceptEx := fn.(provider.AcceptExFunc)
			buf := make([]byte, 8+64)
			ov := ovEvent(t, up)
			if err := acceptEx(l, a, buf, 8, 32, 32, nil, ov); !errors.Is(err, wsa.WSA_IO_PENDING) {
				t.Fatalf("AcceptEx: %v", err)
			}
			c := newSock(t, pt, wsa.SOCK_STREAM)
			if err := pt.WSPConnect(c, to, nil, nil, nil, nil); err != nil {
				t.Fatal(err)
			}
			as := sockOf(t, up, a)
			deadline := time.Now().Add(5 * time.Second)
			for as.ovq.Pending() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("AcceptEx never moved to the accept socket")
				}
				time.Sleep(time.Millisecond)
			}
			if up.Event(ov.HEvent).Signaled() {
				t.Fatal("completed without data")
			}
			switch how {
			case "cancel":
				if err := pt.(provider.Canceler).WSPCancelIo(a, ov); !errors.Is(err, wsa.ERROR_NOT_FOUND) {
					t.Fatalf("CancelIoEx on the accept socket: %v", err)
				}
				if err := pt.(provider.Canceler).WSPCancelIo(l, ov); err != nil {
					t.Fatalf("CancelIoEx on the listener: %v", err)
				}
			case "close accept":
				if err := pt.WSPCloseSocket(a); err != nil {
					t.Fatal(err)
				}
			default:
				if err := pt.WSPCloseSocket(l); err != nil {
					t.Fatal(err)
				}
			}
			waitEvent(t, up, ov, how)
			if wsa.Errno(ov.OffsetHigh) != wsa.WSA_OPERATION_ABORTED {
				t.Fatalf("%s: %+v", how, *ov)
			}
			var got *providertest.Completion
			for _, cp := range up.Completions() {
				if cp.Overlapped == ov {
					got = &cp
				}
			}
			if got == nil || got.Socket != l {
				t.Fatalf("%s: completion %+v, want one on the listener %v", how, got, l)
			}
		})
	}
}

// TestAcceptExAcceptClosed: closing the accept socket of an AcceptEx that
// is still waiting for a connection aborts it at once, and the accept
// socket may then be given to another AcceptEx.
func TestAcceptExAcceptClosed(t *testing.T) {
	pt, up := start(t)
	l, to := ovListener(t, pt)
	_, fn := extFn(t, pt, l, wsa.WSAID_ACCEPTEX)
	acceptEx := fn.(provider.AcceptExFunc)
	a := newSock(t, pt, wsa.SOCK_STREAM)
	ov := ovEvent(t, up)
	if err := acceptEx(l, a, make([]byte, 64), 0, 32, 32, nil, ov); !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("AcceptEx: %v", err)
	}
	if err := pt.WSPCloseSocket(a); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, up, ov, "closing the accept socket")
	if wsa.Errno(ov.OffsetHigh) != wsa.WSA_OPERATION_ABORTED {
		t.Fatalf("AcceptEx: %+v", *ov)
	}
	// The next AcceptEx gets the next connection.
	a2 := newSock(t, pt, wsa.SOCK_STREAM)
	ov = ovEvent(t, up)
	if err := acceptEx(l, a2, make([]byte, 64), 0, 32, 32, nil, ov); !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("AcceptEx: %v", err)
	}
	c := newSock(t, pt, wsa.SOCK_STREAM)
	if err := pt.WSPConnect(c, to, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, up, ov, "AcceptEx")
	if ov.OffsetHigh != 0 {
		t.Fatalf("AcceptEx: %+v", *ov)
	}
}

// TestOverlappedMisuse: an OVERLAPPED in use by a pending operation is
// refused (WSAEINVAL); on a socket made without WSA_FLAG_OVERLAPPED the
// OVERLAPPED is ignored and the call blocks, as MSL says; a completion
// routine's result is waited for by WSAGetOverlappedResult(wait).
func TestOverlappedMisuse(t *testing.T) {
	pt, up := start(t)
	c, s := ovPair(t, pt)
	ov := ovEvent(t, up)
	if err := recvOv(pt, s, make([]byte, 4), ov); !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("recv: %v", err)
	}
	if err := recvOv(pt, s, make([]byte, 4), ov); !errors.Is(err, wsa.WSAEINVAL) {
		t.Fatalf("recv with an OVERLAPPED in use: %v", err)
	}
	if _, err := pt.WSPSend(c, [][]byte{[]byte("abcd")}, 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, up, ov, "recv")

	info := Protocols()[0]
	n, err := pt.WSPSocket(wsa.AF_INET, wsa.SOCK_STREAM, 0, &info, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	l, to := ovListener(t, pt)
	if err := pt.WSPConnect(n, to, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	ns, _, err := pt.WSPAccept(l, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pt.WSPSend(ns, [][]byte{[]byte("xy")}, 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	ov2 := ovEvent(t, up)
	var flags uint32
	got, err := pt.WSPRecv(n, [][]byte{make([]byte, 4)}, &flags, ov2, nil, nil)
	if err != nil || got != 2 || up.Event(ov2.HEvent).Signaled() {
		t.Fatalf("recv on a non-overlapped socket: %d %v (signalled %v)", got, err, up.Event(ov2.HEvent).Signaled())
	}

	// A completion routine, waited for with WSAGetOverlappedResult(wait).
	tid, _ := up.WPUOpenCurrentThread()
	ov3 := &wsa.Overlapped{}
	cr := func(uint32, uint32, *wsa.Overlapped, uint32) {}
	if _, err := pt.WSPRecv(s, [][]byte{make([]byte, 4)}, &flags, ov3, cr, &tid); !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("recv with a routine: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := pt.WSPGetOverlappedResult(s, ov3, true)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := pt.(provider.Canceler).WSPCancelIo(s, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, wsa.WSA_OPERATION_ABORTED) {
			t.Fatalf("WSAGetOverlappedResult(wait) after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WSAGetOverlappedResult(wait) did not return")
	}
	if up.RunAPCs() != 1 {
		t.Fatal("the cancelled operation queued no APC")
	}
}

// assistUpcalls is the fake upcall table with the api's WPUAssist upcall
// (see wsp.Queues.startPump): assist decides what it does.
type assistUpcalls struct {
	*providertest.Upcalls
	assist func(h wsa.Handle, fn func()) bool
}

func (u assistUpcalls) WPUAssist(h wsa.Handle, fn func()) bool { return u.assist(h, fn) }

// TestPumpAssist: when data arrives for a pending receive, the pump is
// handed (WPUAssist) to whoever waits on the receive's event, and the
// completion is made in that goroutine; when nobody takes it, the
// provider's own goroutine completes the receive.
func TestPumpAssist(t *testing.T) {
	st, err := stack.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	type handed struct {
		h  wsa.Handle
		fn func()
	}
	got := make(chan handed, 16)
	var take atomic.Bool
	take.Store(true)
	up := assistUpcalls{Upcalls: providertest.NewUpcalls()}
	up.assist = func(h wsa.Handle, fn func()) bool {
		if !take.Load() {
			return false
		}
		got <- handed{h, fn}
		return true
	}
	_, pt, err := New(st).Startup(wsa.WINSOCK_VERSION, nil, up)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pt.WSPCleanup() })
	c, s := ovPair(t, pt)
	send := func() {
		if _, err := pt.WSPSend(c, [][]byte{[]byte("x")}, 0, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}

	ov := ovEvent(t, up.Upcalls)
	buf := make([]byte, 4)
	if err := recvOv(pt, s, buf, ov); !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("recv: %v", err)
	}
	send()
	// Every event is handed over (no goroutine of the provider runs the
	// pump), so the receive completes in one of the a.fn() calls.
	for !up.Event(ov.HEvent).Signaled() {
		a := <-got
		if a.h != ov.HEvent {
			t.Fatalf("pump handed to a waiter on %#x, want the receive's event %#x", a.h, ov.HEvent)
		}
		a.fn() // as the waiting goroutine does
	}
	if ov.InternalHigh != 1 || buf[0] != 'x' {
		t.Fatalf("after the assist: %+v, %q", *ov, buf[:1])
	}

	take.Store(false) // nobody waits: the provider's goroutine completes it
	ov2 := ovEvent(t, up.Upcalls)
	if err := recvOv(pt, s, buf, ov2); !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("recv: %v", err)
	}
	send()
	waitEvent(t, up.Upcalls, ov2, "receive without an assist")
}

// TestLazyEndpoint: a stream socket gets its gVisor endpoint at its first
// use, not at WSPSocket; an AcceptEx accept socket never gets one of its
// own (it takes the accepted connection's), and neither does a socket that
// is only waited on (select, WSAEventSelect) or closed. One that is used
// gets one carrying the options set before.
func TestLazyEndpoint(t *testing.T) {
	pt, up := start(t)
	hasEP := func(h wsa.Socket) bool {
		s := sockOf(t, up, h)
		s.mu.Lock()
		defer s.mu.Unlock()
		if (s.ep == nil) != s.noEP.Load() {
			t.Fatalf("ep %v with noEP %v", s.ep, s.noEP.Load())
		}
		return s.ep != nil
	}
	l, to := ovListener(t, pt)
	_, fn := extFn(t, pt, l, wsa.WSAID_ACCEPTEX)
	acceptEx := fn.(provider.AcceptExFunc)

	a := newSock(t, pt, wsa.SOCK_STREAM)
	ev, err := up.WPUCreateEvent()
	must(t, err)
	must(t, pt.WSPEventSelect(a, ev, wsa.FD_READ|wsa.FD_CLOSE))
	must(t, pt.WSPEventSelect(a, 0, 0))
	if n, err := pt.WSPSelect(&wsa.FdSet{Array: []wsa.Socket{a}}, &wsa.FdSet{Array: []wsa.Socket{a}}, nil, &wsa.Timeval{}); n != 0 || err != nil {
		t.Fatalf("select on a fresh socket: %d %v", n, err)
	}
	if hasEP(a) {
		t.Fatal("a fresh socket only waited on has an endpoint")
	}
	ov := ovEvent(t, up)
	if err := acceptEx(l, a, make([]byte, 64), 0, 32, 32, nil, ov); !errors.Is(err, wsa.WSA_IO_PENDING) {
		t.Fatalf("AcceptEx: %v", err)
	}
	if hasEP(a) {
		t.Fatal("a pending AcceptEx's accept socket has an endpoint")
	}
	c := newSock(t, pt, wsa.SOCK_STREAM)
	if hasEP(c) {
		t.Fatal("a new socket has an endpoint")
	}
	must(t, pt.WSPSetSockOpt(c, wsa.SOL_SOCKET, wsa.SO_KEEPALIVE, []byte{1, 0, 0, 0}))
	if !hasEP(c) || !sockOf(t, up, c).endpoint().SocketOptions().GetKeepAlive() {
		t.Fatal("setsockopt: no endpoint, or SO_KEEPALIVE not on it")
	}
	must(t, pt.WSPConnect(c, to, nil, nil, nil, nil))
	waitEvent(t, up, ov, "AcceptEx")
	if ov.OffsetHigh != 0 || !hasEP(a) {
		t.Fatalf("AcceptEx: %+v, endpoint %v", *ov, hasEP(a))
	}
	if _, err := pt.WSPSend(c, [][]byte{{7}}, 0, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	var flags uint32
	// WSAEventSelect left it non-blocking: make it blocking again.
	if _, err := pt.WSPIoctl(a, wsa.FIONBIO, []byte{0, 0, 0, 0}, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := pt.WSPRecv(a, [][]byte{buf}, &flags, nil, nil, nil); n != 1 || err != nil || buf[0] != 7 {
		t.Fatalf("recv on the accept socket: %d %v %v", n, buf, err)
	}

	// Closed unused: nothing to create.
	d := newSock(t, pt, wsa.SOCK_STREAM)
	ds := sockOf(t, up, d)
	must(t, pt.WSPCloseSocket(d))
	if ds.ep != nil {
		t.Fatal("closesocket made an endpoint")
	}
}

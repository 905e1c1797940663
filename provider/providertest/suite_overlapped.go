package providertest

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Overlapped I/O (spec §2.6, §5.5, §5.9): pending and immediate
// completion, issue order, zero-byte probes, MSG_WAITALL, cancellation,
// WSAGetOverlappedResult, datagram truncation, completion routines and
// overlapped WSAIoctl. Completions are observed through the fake upcall
// table: the OVERLAPPED's event, its record of completions and its APC
// queue.

// waitFor is how long a test waits for a completion.
const waitFor = 10 * time.Second

// reuseCycles is how many times ReuseOverlapped reissues one OVERLAPPED.
const reuseCycles = 10000

// ovEvent returns an OVERLAPPED whose event is an event of h's upcall table
// (the table that completes the operations of h's sockets).
func (e *env) ovEvent(h Host) *wsa.Overlapped {
	e.t.Helper()
	if h.Upcalls == nil {
		e.t.Skip("the harness has no fake upcall table")
	}
	ev, err := h.Upcalls.WPUCreateEvent()
	e.check(err, nil, "WPUCreateEvent")
	return &wsa.Overlapped{HEvent: ev}
}

// signaled reports whether ov's event is set.
func (e *env) signaled(h Host, ov *wsa.Overlapped) bool {
	return h.Upcalls.Event(ov.HEvent).Signaled()
}

// waitOv waits for ov's event and returns WSAGetOverlappedResult(wait
// false).
func (e *env) waitOv(h Host, s wsa.Socket, ov *wsa.Overlapped, what string) (uint32, uint32, error) {
	e.t.Helper()
	if !h.Upcalls.Event(ov.HEvent).Wait(waitFor) {
		e.t.Fatalf("%s: no completion", what)
	}
	return h.Procs.WSPGetOverlappedResult(s, ov, false)
}

// waitOvOK waits for a successful completion of want bytes.
func (e *env) waitOvOK(h Host, s wsa.Socket, ov *wsa.Overlapped, want int, what string) {
	e.t.Helper()
	n, _, err := e.waitOv(h, s, ov, what)
	e.check(err, nil, what)
	if int(n) != want {
		e.t.Fatalf("%s: %d bytes, want %d", what, n, want)
	}
}

// pendingOv checks that ov has not completed: WSA_IO_INCOMPLETE.
func (e *env) pendingOv(h Host, s wsa.Socket, ov *wsa.Overlapped, what string) {
	e.t.Helper()
	_, _, err := h.Procs.WSPGetOverlappedResult(s, ov, false)
	e.check(err, wsa.WSA_IO_INCOMPLETE, what+": WSAGetOverlappedResult")
	if e.signaled(h, ov) {
		e.t.Fatalf("%s: event signalled while pending", what)
	}
}

// stillPending waits a little and checks that ov is still pending.
func (e *env) stillPending(h Host, s wsa.Socket, ov *wsa.Overlapped, what string) {
	e.t.Helper()
	time.Sleep(50 * time.Millisecond)
	e.pendingOv(h, s, ov, what)
}

// recvOv issues an overlapped WSARecv.
func (e *env) recvOv(h Host, s wsa.Socket, buf []byte, flags uint32, ov *wsa.Overlapped) (uint32, error) {
	return h.Procs.WSPRecv(s, [][]byte{buf}, &flags, ov, nil, nil)
}

// recvPending issues an overlapped WSARecv that must pend.
func (e *env) recvPending(h Host, s wsa.Socket, buf []byte, flags uint32) *wsa.Overlapped {
	e.t.Helper()
	ov := e.ovEvent(h)
	_, err := e.recvOv(h, s, buf, flags, ov)
	e.check(err, wsa.WSA_IO_PENDING, "overlapped WSARecv")
	return ov
}

// canceler returns h's Canceler, or skips.
func (e *env) canceler(h Host) provider.Canceler {
	e.t.Helper()
	c, ok := h.Procs.(provider.Canceler)
	if !ok {
		e.t.Skip("the provider does not implement provider.Canceler")
	}
	return c
}

var _ = addGroup("Overlapped",
	testCase{name: "RecvPending", fn: func(e *env) {
		c, s := e.pair()
		buf := make([]byte, 16)
		ov := e.recvPending(e.srv, s, buf, 0)
		e.pendingOv(e.srv, s, ov, "recv before data")
		e.send(e.cli, c, []byte("hello"))
		e.waitOvOK(e.srv, s, ov, 5, "recv completed by data")
		if string(buf[:5]) != "hello" {
			e.t.Fatalf("recv: %q", buf[:5])
		}
		found := false
		for _, cp := range e.srv.Upcalls.Completions() {
			if cp.Overlapped == ov {
				found = cp.Socket == s && cp.Error == 0 && cp.Transferred == 5
			}
		}
		if !found {
			e.t.Fatal("no WPUCompleteOverlappedRequest(s, ov, 0, 5) recorded")
		}
		if ov.Internal == wsa.WSS_OPERATION_IN_PROGRESS || ov.InternalHigh != 5 || ov.OffsetHigh != 0 {
			e.t.Fatalf("OVERLAPPED after completion: %+v", *ov)
		}
	}},
	testCase{name: "ImmediateCompletion", fn: func(e *env) {
		c, s := e.pair()
		e.send(e.cli, c, []byte("abc"))
		e.eventually("3 bytes readable", func() bool { return e.fionread(e.srv, s) == 3 })
		ov := e.ovEvent(e.srv)
		buf := make([]byte, 8)
		n, err := e.recvOv(e.srv, s, buf, 0, ov)
		e.check(err, nil, "overlapped recv with data queued")
		if n != 3 || string(buf[:3]) != "abc" {
			e.t.Fatalf("immediate recv: %d %q", n, buf[:n])
		}
		// The completion is delivered even so.
		if !e.signaled(e.srv, ov) {
			e.t.Fatal("immediate completion: event not signalled")
		}
		m, _, err := e.srv.Procs.WSPGetOverlappedResult(s, ov, false)
		e.check(err, nil, "WSAGetOverlappedResult")
		if m != 3 {
			e.t.Fatalf("WSAGetOverlappedResult: %d bytes", m)
		}
		// Sends complete at once while there is room.
		ov2 := e.ovEvent(e.cli)
		n, err = e.cli.Procs.WSPSend(c, [][]byte{[]byte("xy"), []byte("z")}, 0, ov2, nil, nil)
		e.check(err, nil, "overlapped send")
		if n != 3 || !e.signaled(e.cli, ov2) {
			e.t.Fatalf("overlapped send: %d bytes, signalled %v", n, e.signaled(e.cli, ov2))
		}
		e.recvFull(e.srv, s, []byte("xyz"))
	}},
	testCase{name: "IssueOrder", fn: func(e *env) {
		c, s := e.pair()
		b1, b2, b3 := make([]byte, 3), make([]byte, 4), make([]byte, 5)
		o1 := e.recvPending(e.srv, s, b1, 0)
		o2 := e.recvPending(e.srv, s, b2, 0)
		o3 := e.recvPending(e.srv, s, b3, 0)
		e.send(e.cli, c, []byte("abcdefghijkl"))
		e.waitOvOK(e.srv, s, o1, 3, "first recv")
		e.waitOvOK(e.srv, s, o2, 4, "second recv")
		e.waitOvOK(e.srv, s, o3, 5, "third recv")
		if string(b1)+string(b2)+string(b3) != "abcdefghijkl" {
			e.t.Fatalf("receives got %q %q %q", b1, b2, b3)
		}
		// Sends go out in order, also when they pend.
		chunks := make([][]byte, 6)
		ovs := make([]*wsa.Overlapped, len(chunks))
		var all []byte
		for i := range chunks {
			chunks[i] = bytes.Repeat([]byte{byte('A' + i)}, 300<<10)
			all = append(all, chunks[i]...)
			ovs[i] = e.ovEvent(e.cli)
			_, err := e.cli.Procs.WSPSend(c, [][]byte{chunks[i]}, 0, ovs[i], nil, nil)
			if err != nil && !errors.Is(err, wsa.WSA_IO_PENDING) {
				e.t.Fatalf("overlapped send %d: %v", i, err)
			}
		}
		e.recvFull(e.srv, s, all)
		for i, ov := range ovs {
			e.waitOvOK(e.cli, c, ov, len(chunks[i]), "overlapped send")
		}
	}},
	testCase{name: "ZeroByteProbe", fn: func(e *env) {
		c, s := e.pair()
		ov := e.recvPending(e.srv, s, nil, 0)
		e.stillPending(e.srv, s, ov, "probe without data")
		e.send(e.cli, c, []byte("x"))
		e.waitOvOK(e.srv, s, ov, 0, "probe")
		if n := e.fionread(e.srv, s); n != 1 {
			e.t.Fatalf("the probe consumed data: FIONREAD %d", n)
		}
		e.recvFull(e.srv, s, []byte("x"))
		// The FIN completes a probe too.
		ov = e.recvPending(e.srv, s, []byte{}, 0)
		e.check(e.cli.Procs.WSPShutdown(c, wsa.SD_SEND), nil, "shutdown")
		e.waitOvOK(e.srv, s, ov, 0, "probe at FIN")
		e.recvEOF(e.srv, s)
	}},
	testCase{name: "WaitAll", fn: func(e *env) {
		c, s := e.pair()
		e.setNonblocking(e.srv, s, true) // allowed for overlapped receives
		buf := make([]byte, 10)
		ov := e.recvPending(e.srv, s, buf, wsa.MSG_WAITALL)
		e.send(e.cli, c, []byte("0123"))
		e.stillPending(e.srv, s, ov, "MSG_WAITALL with 4 of 10 bytes")
		e.send(e.cli, c, []byte("456789xyz"))
		e.waitOvOK(e.srv, s, ov, 10, "MSG_WAITALL")
		if string(buf) != "0123456789" {
			e.t.Fatalf("MSG_WAITALL got %q", buf)
		}
		// The FIN ends it with what it has.
		ov = e.recvPending(e.srv, s, make([]byte, 10), wsa.MSG_WAITALL)
		e.check(e.cli.Procs.WSPShutdown(c, wsa.SD_SEND), nil, "shutdown")
		e.waitOvOK(e.srv, s, ov, 3, "MSG_WAITALL at FIN")
		_, err := e.recvOv(e.srv, s, buf, wsa.MSG_WAITALL|wsa.MSG_PEEK, e.ovEvent(e.srv))
		e.check(err, wsa.WSAEOPNOTSUPP, "MSG_WAITALL|MSG_PEEK")
	}},
	testCase{name: "IgnoresFIONBIO", fn: func(e *env) {
		_, s := e.pair()
		e.setNonblocking(e.srv, s, true)
		ov := e.recvPending(e.srv, s, make([]byte, 4), 0)
		e.pendingOv(e.srv, s, ov, "non-blocking socket")
	}},
	testCase{name: "Cancel", fn: func(e *env) {
		c, s := e.pair()
		cn := e.canceler(e.srv)
		o1 := e.recvPending(e.srv, s, make([]byte, 4), 0)
		o2 := e.recvPending(e.srv, s, make([]byte, 4), 0)
		e.check(cn.WSPCancelIo(s, o1), nil, "CancelIoEx(o1)")
		n, _, err := e.waitOv(e.srv, s, o1, "cancelled recv")
		e.check(err, wsa.WSA_OPERATION_ABORTED, "cancelled recv")
		if n != 0 {
			e.t.Fatalf("cancelled recv: %d bytes", n)
		}
		e.pendingOv(e.srv, s, o2, "the other recv")
		e.check(cn.WSPCancelIo(s, o1), wsa.ERROR_NOT_FOUND, "CancelIoEx of a completed operation")
		e.check(cn.WSPCancelIo(s, &wsa.Overlapped{}), wsa.ERROR_NOT_FOUND, "CancelIoEx of an unknown OVERLAPPED")
		// o2 is now the head: data goes to it.
		e.send(e.cli, c, []byte("data"))
		e.waitOvOK(e.srv, s, o2, 4, "recv after a cancellation")
		// CancelIo: all of them.
		o3 := e.recvPending(e.srv, s, make([]byte, 4), 0)
		o4 := e.recvPending(e.srv, s, nil, 0)
		e.check(cn.WSPCancelIo(s, nil), nil, "CancelIo")
		for _, ov := range []*wsa.Overlapped{o3, o4} {
			_, _, err := e.waitOv(e.srv, s, ov, "CancelIo")
			e.check(err, wsa.WSA_OPERATION_ABORTED, "CancelIo")
		}
		e.check(cn.WSPCancelIo(s, nil), wsa.ERROR_NOT_FOUND, "CancelIo with nothing pending")
	}},
	testCase{name: "CloseAborts", fn: func(e *env) {
		l, to := e.listener()
		c := e.sock(e.cli, wsa.SOCK_STREAM)
		e.check(e.connect(e.cli, c, to), nil, "connect")
		s, _, err := e.srv.Procs.WSPAccept(l, nil, 0)
		e.check(err, nil, "accept")
		o1 := e.recvPending(e.srv, s, make([]byte, 4), 0)
		o2 := e.recvPending(e.srv, s, make([]byte, 4), 0)
		e.check(e.srv.Procs.WSPCloseSocket(s), nil, "closesocket")
		for _, ov := range []*wsa.Overlapped{o1, o2} {
			if !e.srv.Upcalls.Event(ov.HEvent).Wait(waitFor) {
				e.t.Fatal("closesocket: no completion")
			}
			if ov.OffsetHigh != uint32(wsa.WSA_OPERATION_ABORTED) || wsa.Errno(ov.Internal) != wsa.WSA_OPERATION_ABORTED {
				e.t.Fatalf("closesocket: completion %+v", *ov)
			}
		}
	}},
	testCase{name: "GetOverlappedResult", fn: func(e *env) {
		c, s := e.pair()
		buf := make([]byte, 8)
		ov := e.recvPending(e.srv, s, buf, 0)
		_, _, err := e.srv.Procs.WSPGetOverlappedResult(s, ov, false)
		e.check(err, wsa.WSA_IO_INCOMPLETE, "pending, no wait")
		_, _, err = e.srv.Procs.WSPGetOverlappedResult(s, nil, false)
		e.check(err, wsa.WSAEFAULT, "nil OVERLAPPED")
		type res struct {
			n   uint32
			err error
		}
		got := make(chan res, 1)
		go func() {
			n, _, err := e.srv.Procs.WSPGetOverlappedResult(s, ov, true)
			got <- res{n, err}
		}()
		time.Sleep(20 * time.Millisecond)
		e.send(e.cli, c, []byte("wait"))
		select {
		case r := <-got:
			e.check(r.err, nil, "WSAGetOverlappedResult(wait)")
			if r.n != 4 {
				e.t.Fatalf("WSAGetOverlappedResult(wait): %d bytes", r.n)
			}
		case <-time.After(waitFor):
			e.t.Fatal("WSAGetOverlappedResult(wait) did not return")
		}
		n, flags, err := e.srv.Procs.WSPGetOverlappedResult(s, ov, false)
		e.check(err, nil, "completed")
		if n != 4 || flags != 0 {
			e.t.Fatalf("completed: %d bytes, flags %#x", n, flags)
		}
		// A failed operation reports its error.
		e.check(e.srv.Procs.WSPShutdown(s, wsa.SD_RECEIVE), nil, "shutdown")
		ov = e.ovEvent(e.srv)
		_, err = e.recvOv(e.srv, s, buf, 0, ov)
		e.check(err, wsa.WSAESHUTDOWN, "overlapped recv after SD_RECEIVE (not started)")
		if e.signaled(e.srv, ov) {
			e.t.Fatal("an operation that did not start was completed")
		}
	}},
	testCase{name: "DatagramTruncation", fn: func(e *env) {
		r, rto := e.udp(e.srv)
		w, wto := e.udp(e.cli)
		buf := make([]byte, 4)
		var from wsa.Sockaddr
		flags := uint32(0)
		ov := e.ovEvent(e.srv)
		_, err := e.srv.Procs.WSPRecvFrom(r, [][]byte{buf}, &flags, &from, ov, nil, nil)
		e.check(err, wsa.WSA_IO_PENDING, "overlapped WSARecvFrom")
		e.sendTo(e.cli, w, []byte("0123456789"), rto)
		n, _, err := e.waitOv(e.srv, r, ov, "truncated datagram")
		e.check(err, wsa.WSAEMSGSIZE, "truncated datagram")
		if n != 4 || string(buf) != "0123" {
			e.t.Fatalf("truncated datagram: %d bytes %q", n, buf)
		}
		if from == nil || from.AddrPort() != wto.AddrPort() {
			e.t.Fatalf("from %v, want %v", from, wto)
		}
		// At once: the call fails WSAEMSGSIZE with the bytes and, as in
		// Windows (STATUS_BUFFER_OVERFLOW is a warning), the operation
		// completed: its completion is delivered (the SPI's one exception
		// to "an error at once did not start").
		e.sendTo(e.cli, w, []byte("abcdefgh"), rto)
		e.eventually("a datagram queued", func() bool { return e.fionread(e.srv, r) > 0 })
		ov = e.ovEvent(e.srv)
		from = nil
		e.srv.Upcalls.Completions()
		n, err = e.srv.Procs.WSPRecvFrom(r, [][]byte{buf}, &flags, &from, ov, nil, nil)
		e.check(err, wsa.WSAEMSGSIZE, "truncated datagram at once")
		if n != 4 || string(buf) != "abcd" || !e.signaled(e.srv, ov) {
			e.t.Fatalf("truncated datagram at once: %d %q signalled %v", n, buf, e.signaled(e.srv, ov))
		}
		if cs := e.srv.Upcalls.Completions(); len(cs) != 1 || cs[0] != (Completion{r, ov, uint32(wsa.WSAEMSGSIZE), 4}) {
			e.t.Fatalf("truncated datagram at once: completions %+v, want one (WSAEMSGSIZE, 4 bytes)", cs)
		}
		n, _, err = e.srv.Procs.WSPGetOverlappedResult(r, ov, false)
		e.check(err, wsa.WSAEMSGSIZE, "WSAGetOverlappedResult of a truncated datagram at once")
		if n != 4 || from == nil || from.AddrPort() != wto.AddrPort() {
			e.t.Fatalf("truncated datagram at once: %d bytes from %v", n, from)
		}
		// The same with a completion routine: it runs with WSAEMSGSIZE.
		tid, err := e.srv.Upcalls.WPUOpenCurrentThread()
		e.check(err, nil, "WPUOpenCurrentThread")
		e.sendTo(e.cli, w, []byte("ABCDEFGH"), rto)
		e.eventually("a datagram queued", func() bool { return e.fionread(e.srv, r) > 0 })
		type call struct{ code, n uint32 }
		var calls []call
		cr := func(code, n uint32, _ *wsa.Overlapped, _ uint32) { calls = append(calls, call{code, n}) }
		n, err = e.srv.Procs.WSPRecvFrom(r, [][]byte{buf}, &flags, nil, &wsa.Overlapped{}, cr, &tid)
		e.check(err, wsa.WSAEMSGSIZE, "truncated datagram at once, completion routine")
		e.srv.Upcalls.RunAPCs()
		if n != 4 || string(buf) != "ABCD" || len(calls) != 1 || calls[0] != (call{uint32(wsa.WSAEMSGSIZE), 4}) {
			e.t.Fatalf("truncated datagram at once: %d %q, completion routine calls %+v", n, buf, calls)
		}
		// Overlapped send.
		ov = e.ovEvent(e.cli)
		n, err = e.cli.Procs.WSPSendTo(w, [][]byte{[]byte("dg")}, 0, rto, ov, nil, nil)
		e.check(err, nil, "overlapped WSASendTo")
		if n != 2 || !e.signaled(e.cli, ov) {
			e.t.Fatalf("overlapped WSASendTo: %d, signalled %v", n, e.signaled(e.cli, ov))
		}
		e.setTimeout(e.srv, r, wsa.SO_RCVTIMEO, waitFor)
		got, err := e.recv(e.srv, r, make([]byte, 8), 0)
		e.check(err, nil, "recv")
		if got != 2 {
			e.t.Fatalf("recv: %d bytes", got)
		}
	}},
	testCase{name: "ReuseOverlapped", only: wsa.AF_INET, fn: func(e *env) {
		// Windows lets an OVERLAPPED be reissued as soon as its completion
		// can be seen: the event signalled, HasOverlappedIoCompleted true,
		// the completion routine running. A provider must not still hold
		// it as in use then. reuseCycles receives, each reissued at once:
		// the first half after the event wait, the second half after
		// spinning on HasOverlappedIoCompleted (the earliest moment, and a
		// reader racing the completion's writes under -race).
		c, s := e.pair()
		ov := e.ovEvent(e.srv)
		ev := e.srv.Upcalls.Event(ov.HEvent)
		buf, one := make([]byte, 1), make([]byte, 1)
		for i := range reuseCycles {
			spin := i >= reuseCycles/2
			if !spin {
				ev.Reset()
			}
			flags := uint32(0)
			_, err := e.srv.Procs.WSPRecv(s, [][]byte{buf}, &flags, ov, nil, nil)
			if err != wsa.WSA_IO_PENDING {
				e.t.Fatalf("cycle %d: WSARecv with the reused OVERLAPPED: %v (%s), want WSA_IO_PENDING", i, err, errName(err))
			}
			one[0] = byte(i)
			e.send(e.cli, c, one)
			if spin {
				deadline := time.Now().Add(waitFor)
				for !wsa.HasOverlappedIoCompleted(ov) {
					if time.Now().After(deadline) {
						e.t.Fatalf("cycle %d: no completion", i)
					}
					runtime.Gosched()
				}
			} else if !ev.Wait(waitFor) {
				e.t.Fatalf("cycle %d: no completion", i)
			}
			n, _, err := e.srv.Procs.WSPGetOverlappedResult(s, ov, false)
			if err != nil || n != 1 || buf[0] != byte(i) {
				e.t.Fatalf("cycle %d: %d bytes %v, %v", i, n, buf, err)
			}
		}
		e.srv.Upcalls.Completions()

		// Reissued from inside its completion routine.
		up := e.srv.Upcalls
		tid, err := up.WPUOpenCurrentThread()
		e.check(err, nil, "WPUOpenCurrentThread")
		const routineCycles = 200
		ov = &wsa.Overlapped{}
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
			flags := uint32(0)
			if _, err := e.srv.Procs.WSPRecv(s, [][]byte{buf}, &flags, ov, cr, &tid); err != wsa.WSA_IO_PENDING {
				failed = fmt.Errorf("routine %d: WSARecv with its own OVERLAPPED: %v (%s)", done, err, errName(err))
				return
			}
			one[0] = byte(done)
			e.send(e.cli, c, one)
		}
		flags := uint32(0)
		_, err = e.srv.Procs.WSPRecv(s, [][]byte{buf}, &flags, ov, cr, &tid)
		e.check(err, wsa.WSA_IO_PENDING, "WSARecv with a completion routine")
		one[0] = 0
		e.send(e.cli, c, one)
		deadline := time.Now().Add(waitFor)
		for done < routineCycles && failed == nil {
			if up.RunAPCs() == 0 {
				if time.Now().After(deadline) {
					e.t.Fatalf("after %d routines: no completion", done)
				}
				up.WaitChange(10 * time.Millisecond)
			}
		}
		if failed != nil {
			e.t.Fatal(failed)
		}
	}},
	testCase{name: "CompletionRoutine", fn: func(e *env) {
		c, s := e.pair()
		up := e.srv.Upcalls
		if up == nil {
			e.t.Skip("no fake upcall table")
		}
		tid, err := up.WPUOpenCurrentThread()
		e.check(err, nil, "WPUOpenCurrentThread")
		type call struct {
			code, n, flags uint32
			ov             *wsa.Overlapped
		}
		calls := make(chan call, 2)
		cr := func(code, n uint32, ov *wsa.Overlapped, flags uint32) { calls <- call{code, n, flags, ov} }
		ov := &wsa.Overlapped{}
		buf := make([]byte, 8)
		flags := uint32(0)
		_, err = e.srv.Procs.WSPRecv(s, [][]byte{buf}, &flags, ov, cr, &tid)
		e.check(err, wsa.WSA_IO_PENDING, "WSARecv with a completion routine")
		e.send(e.cli, c, []byte("apc"))
		deadline := time.Now().Add(waitFor)
		for up.RunAPCs() == 0 {
			if time.Now().After(deadline) {
				e.t.Fatal("no APC queued")
			}
			up.WaitChange(100 * time.Millisecond)
		}
		select {
		case got := <-calls:
			if got.code != 0 || got.n != 3 || got.ov != ov || got.flags != 0 {
				e.t.Fatalf("completion routine called with %+v", got)
			}
		default:
			e.t.Fatal("the APC did not call the completion routine")
		}
		n, _, err := e.srv.Procs.WSPGetOverlappedResult(s, ov, false)
		e.check(err, nil, "WSAGetOverlappedResult after the routine")
		if n != 3 {
			e.t.Fatalf("WSAGetOverlappedResult: %d", n)
		}
	}},
	testCase{name: "Ioctl", fn: func(e *env) {
		c, s := e.pair()
		e.send(e.cli, c, []byte("12345"))
		e.eventually("5 bytes readable", func() bool { return e.fionread(e.srv, s) == 5 })
		ov := e.ovEvent(e.srv)
		out := make([]byte, 4)
		n, err := e.srv.Procs.WSPIoctl(s, wsa.FIONREAD, nil, out, ov, nil, nil)
		e.check(err, nil, "overlapped FIONREAD")
		if n != 4 || out[0] != 5 || !e.signaled(e.srv, ov) {
			e.t.Fatalf("overlapped FIONREAD: %d %v signalled %v", n, out, e.signaled(e.srv, ov))
		}
		m, _, err := e.srv.Procs.WSPGetOverlappedResult(s, ov, false)
		e.check(err, nil, "WSAGetOverlappedResult")
		if m != 4 {
			e.t.Fatalf("WSAGetOverlappedResult: %d", m)
		}
		ov = e.ovEvent(e.srv)
		_, err = e.srv.Procs.WSPIoctl(s, 0x12345678, nil, nil, ov, nil, nil)
		e.check(err, wsa.WSAEINVAL, "overlapped unknown ioctl")
		if e.signaled(e.srv, ov) {
			e.t.Fatal("a failed ioctl was completed")
		}
	}},
)

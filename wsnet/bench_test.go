package wsnet_test

import (
	"io"
	"testing"
	"unsafe"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// The completion mechanism of wsnet was chosen by these benchmarks: a
// 1-byte ping-pong over a loopback TCP pair, each side waiting for its
// overlapped WSARecv
//
//   - "event": with an event object per direction, waited on by the
//     calling goroutine (WSAWaitForMultipleEvents): what wsnet does, here
//     without wsnet's deadline and close bookkeeping;
//   - "port": with one completion port per Session serviced by a goroutine
//     in GetQueuedCompletionStatusEx that hands each completion to the
//     waiting goroutine over a channel (sockets set to
//     FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, the fastest form of that
//     design, with no deadline support yet);
//   - "wsnet": wsnet's Conn itself.
//
// The port costs a second goroutine hand-off per completion (provider →
// port → service goroutine → waiter) where the event wakes the waiter
// directly; see doc.go for the numbers.
func BenchmarkPingPong(b *testing.B) {
	b.Run("event", func(b *testing.B) {
		h := loopback(b)
		c1, c2 := rawPair(b, h.Session)
		pingPong(b, newEventConn(b, h.Session, c1), newEventConn(b, h.Session, c2))
	})
	b.Run("port", func(b *testing.B) {
		h := loopback(b)
		c1, c2 := rawPair(b, h.Session)
		m := newPortMux(b, h.Session)
		pingPong(b, m.conn(b, c1), m.conn(b, c2))
	})
	b.Run("wsnet", func(b *testing.B) {
		h := loopback(b)
		c1, c2, stop := tcpPair(b, h, h, "tcp", "127.0.0.1:0", "127.0.0.1")
		defer stop()
		pingPong(b, c1, c2)
	})
}

func pingPong(b *testing.B, c1, c2 io.ReadWriter) {
	go func() {
		buf := make([]byte, 1)
		for {
			if _, err := io.ReadFull(c2, buf); err != nil {
				return
			}
			if _, err := c2.Write(buf); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c1.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c1, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// rawPair returns a connected loopback TCP pair of overlapped sockets.
func rawPair(b *testing.B, s *api.Session) (wsa.Socket, wsa.Socket) {
	l, err := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Closesocket(l)
	lo := &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	if err := s.Bind(l, lo); err != nil {
		b.Fatal(err)
	}
	s.Listen(l, 1)
	sa, _ := s.Getsockname(l)
	c, _ := s.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err := s.Connect(c, sa); err != nil {
		b.Fatal(err)
	}
	a, _, err := s.Accept(l)
	if err != nil {
		b.Fatal(err)
	}
	for _, h := range []wsa.Socket{a, c} {
		s.SetsockoptInt(h, wsa.IPPROTO_TCP, wsa.TCP_NODELAY, 1)
	}
	b.Cleanup(func() { s.Closesocket(a); s.Closesocket(c) })
	return c, a
}

// reuseOverlapped makes the raw designs reuse one OVERLAPPED per
// direction, as a Windows program may (and wsnet does); false gives each
// operation a fresh one, to compare.
const reuseOverlapped = true

// eventConn waits for its overlapped operations on an event per direction.
type eventConn struct {
	s      *api.Session
	h      wsa.Socket
	rev    wsa.Handle
	wev    wsa.Handle
	rov    wsa.Overlapped
	wov    wsa.Overlapped
	rb, wb [1][]byte
}

func newEventConn(b *testing.B, s *api.Session, h wsa.Socket) *eventConn {
	c := &eventConn{s: s, h: h}
	c.rev, _ = s.WSACreateEvent()
	c.wev, _ = s.WSACreateEvent()
	s.SetFileCompletionNotificationModes(wsa.Handle(h), wsa.FILE_SKIP_SET_EVENT_ON_HANDLE)
	return c
}

func (c *eventConn) io(ev wsa.Handle, ov *wsa.Overlapped, issue func(*uint32, *wsa.Overlapped) error) (int, error) {
	c.s.WSAResetEvent(ev)
	if reuseOverlapped {
		*ov = wsa.Overlapped{HEvent: ev}
	} else {
		ov = &wsa.Overlapped{HEvent: ev} // see reuseOverlapped
	}
	var n, flags uint32
	switch err := issue(&n, ov); err {
	case nil:
		return int(n), nil
	case wsa.WSA_IO_PENDING:
	default:
		return 0, err
	}
	for !wsa.HasOverlappedIoCompleted(ov) {
		c.s.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, wsa.WSA_INFINITE, false)
	}
	err := c.s.WSAGetOverlappedResult(c.h, ov, &n, false, &flags)
	return int(n), err
}

func (c *eventConn) Read(p []byte) (int, error) {
	c.rb[0] = p
	n, err := c.io(c.rev, &c.rov, func(n *uint32, ov *wsa.Overlapped) error {
		var flags uint32
		return c.s.WSARecv(c.h, c.rb[:], n, &flags, ov, nil)
	})
	if err == nil && n == 0 {
		err = io.EOF
	}
	return n, err
}

func (c *eventConn) Write(p []byte) (int, error) {
	c.wb[0] = p
	return c.io(c.wev, &c.wov, func(n *uint32, ov *wsa.Overlapped) error {
		return c.s.WSASend(c.h, c.wb[:], n, 0, ov, nil)
	})
}

// portMux is one completion port serviced by one goroutine.
type portMux struct {
	s    *api.Session
	port wsa.Handle
}

// portOp is an operation of the port design; ov comes first so the
// *wsa.Overlapped of a completion is the *portOp.
type portOp struct {
	ov   wsa.Overlapped
	done chan uint32
	bufs [1][]byte
}

func newPortMux(b *testing.B, s *api.Session) *portMux {
	port, err := s.CreateIoCompletionPort(api.INVALID_HANDLE_VALUE, 0, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	m := &portMux{s: s, port: port}
	go func() {
		var entries [64]api.OverlappedEntry
		for {
			var n uint32
			if err := s.GetQueuedCompletionStatusEx(port, entries[:], &n, wsa.WSA_INFINITE, false); err != nil {
				return // the port was closed
			}
			for _, e := range entries[:n] {
				op := (*portOp)(unsafe.Pointer(e.Overlapped))
				op.done <- e.NumberOfBytesTransferred
			}
		}
	}()
	b.Cleanup(func() { s.CloseHandle(port) })
	return m
}

type portConn struct {
	m      *portMux
	h      wsa.Socket
	ro, wo *portOp
}

func (m *portMux) conn(b *testing.B, h wsa.Socket) *portConn {
	if _, err := m.s.CreateIoCompletionPort(wsa.Handle(h), m.port, 0, 0); err != nil {
		b.Fatal(err)
	}
	m.s.SetFileCompletionNotificationModes(wsa.Handle(h), wsa.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS|wsa.FILE_SKIP_SET_EVENT_ON_HANDLE)
	return &portConn{m: m, h: h, ro: &portOp{done: make(chan uint32, 1)}, wo: &portOp{done: make(chan uint32, 1)}}
}

func (c *portConn) io(op *portOp, issue func(*uint32, *wsa.Overlapped) error) (int, error) {
	if reuseOverlapped {
		op.ov = wsa.Overlapped{}
	} else {
		op = &portOp{done: op.done, bufs: op.bufs} // see reuseOverlapped
	}
	var n uint32
	switch err := issue(&n, &op.ov); err {
	case nil:
		return int(n), nil
	case wsa.WSA_IO_PENDING:
	default:
		return 0, err
	}
	n = <-op.done
	var flags uint32
	err := c.m.s.WSAGetOverlappedResult(c.h, &op.ov, &n, false, &flags)
	return int(n), err
}

func (c *portConn) Read(p []byte) (int, error) {
	c.ro.bufs[0] = p
	n, err := c.io(c.ro, func(n *uint32, ov *wsa.Overlapped) error {
		var flags uint32
		return c.m.s.WSARecv(c.h, c.ro.bufs[:], n, &flags, ov, nil)
	})
	if err == nil && n == 0 {
		err = io.EOF
	}
	return n, err
}

func (c *portConn) Write(p []byte) (int, error) {
	c.wo.bufs[0] = p
	return c.io(c.wo, func(n *uint32, ov *wsa.Overlapped) error {
		return c.m.s.WSASend(c.h, c.wo.bufs[:], n, 0, ov, nil)
	})
}

package wsnet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	ws2 "github.com/ws2go/ws2"
	"github.com/ws2go/ws2/wsa"
	"github.com/ws2go/ws2/wsnet"
)

// isTimeout checks the shape of a deadline error: a *net.OpError with
// Timeout() true that matches os.ErrDeadlineExceeded.
func isTimeout(t *testing.T, err error) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not a *net.OpError", err, err)
	}
	if !oe.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("error %v: Timeout()=%v, Is(ErrDeadlineExceeded)=%v", err, oe.Timeout(), errors.Is(err, os.ErrDeadlineExceeded))
	}
}

// isClosed checks a *net.OpError wrapping net.ErrClosed.
func isClosed(t *testing.T, err error) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("error %v (%T): want *net.OpError wrapping net.ErrClosed", err, err)
	}
}

// within runs f in a goroutine and fails if it does not return in d (a
// hang guard, not a timing assertion).
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
	}
}

func TestAddrsAndEOF(t *testing.T) {
	h := loopback(t)
	c1, c2, stop := tcpPair(t, h, h, "tcp", "127.0.0.1:0", "127.0.0.1")
	defer stop()
	for _, a := range []net.Addr{c1.LocalAddr(), c1.RemoteAddr(), c2.LocalAddr(), c2.RemoteAddr()} {
		ta, ok := a.(*net.TCPAddr)
		if !ok || !ta.IP.Equal(net.IPv4(127, 0, 0, 1)) || ta.Port == 0 {
			t.Fatalf("address %#v", a)
		}
	}
	if c1.LocalAddr().String() != c2.RemoteAddr().String() || c1.RemoteAddr().String() != c2.LocalAddr().String() {
		t.Fatalf("addresses do not match: %v %v / %v %v", c1.LocalAddr(), c1.RemoteAddr(), c2.LocalAddr(), c2.RemoteAddr())
	}
	// CloseWrite: the peer reads the data then io.EOF (unwrapped), and can
	// still write back.
	if _, err := c1.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if err := c1.(*wsnet.Conn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c2)
	if err != nil || string(b) != "ping" {
		t.Fatalf("ReadAll: %q %v", b, err)
	}
	if n, err := c2.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF: %d %v (want io.EOF itself)", n, err)
	}
	if _, err := c2.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	c2.Close()
	b, err = io.ReadAll(c1)
	if err != nil || string(b) != "pong" {
		t.Fatalf("ReadAll back: %q %v", b, err)
	}
	// Empty Read and Write succeed at once.
	if n, err := c1.Read(nil); n != 0 || err != nil {
		t.Fatalf("empty Read: %d %v", n, err)
	}
	// Use after Close.
	c1.Close()
	if _, err := c1.Read(make([]byte, 1)); err == nil {
		t.Fatal("Read after Close succeeded")
	} else {
		isClosed(t, err)
	}
	_, err = c1.Write([]byte("x"))
	isClosed(t, err)
	isClosed(t, c1.Close())
	isClosed(t, c1.SetDeadline(time.Now()))
}

func TestDeadlineMovedWhileBlocked(t *testing.T) {
	h := loopback(t)
	c1, c2, stop := tcpPair(t, h, h, "tcp", "127.0.0.1:0", "127.0.0.1")
	defer stop()

	// Extend: a Read blocked with a 500 ms deadline has it cleared after
	// 50 ms; the data written at 1 s must arrive, not a timeout at 500 ms.
	if err := c2.SetReadDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		c2.SetReadDeadline(time.Time{})
		time.Sleep(950 * time.Millisecond)
		c1.Write([]byte("late"))
	}()
	buf := make([]byte, 16)
	n, err := c2.Read(buf)
	if err != nil || string(buf[:n]) != "late" {
		t.Fatalf("extended Read: %q %v", buf[:n], err)
	}

	// Shorten: a Read with no deadline is woken by a deadline set in the
	// past from another goroutine.
	go func() {
		time.Sleep(50 * time.Millisecond)
		c2.SetReadDeadline(time.Now().Add(-time.Second))
	}()
	within(t, 10*time.Second, "Read after the deadline moved into the past", func() {
		_, err = c2.Read(buf)
	})
	isTimeout(t, err)

	// Shorten to the near future.
	c2.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		c2.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	}()
	within(t, 10*time.Second, "Read after the deadline moved", func() {
		_, err = c2.Read(buf)
	})
	isTimeout(t, err)

	// A past deadline fails at once, even with data waiting; a zero one
	// clears it and the data is still there.
	c1.Write([]byte("kept"))
	time.Sleep(10 * time.Millisecond)
	_, err = c2.Read(buf)
	isTimeout(t, err)
	c2.SetReadDeadline(time.Time{})
	n, err = c2.Read(buf)
	if err != nil || string(buf[:n]) != "kept" {
		t.Fatalf("Read after clearing the deadline: %q %v", buf[:n], err)
	}
}

// TestWriteDeadlineAndClose fills the connection (the peer does not read)
// so Write blocks: its deadline ends it with the bytes written so far, and
// Close from another goroutine ends the next one.
func TestWriteDeadlineAndClose(t *testing.T) {
	h := loopback(t)
	c1, c2, stop := tcpPair(t, h, h, "tcp", "127.0.0.1:0", "127.0.0.1")
	defer stop()
	big := make([]byte, 64<<20)
	c1.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	var n int
	var err error
	within(t, 20*time.Second, "Write with a deadline", func() { n, err = c1.Write(big) })
	isTimeout(t, err)
	if n <= 0 || n >= len(big) {
		t.Fatalf("Write wrote %d of %d before its deadline", n, len(big))
	}
	t.Logf("Write timed out after %d bytes", n)

	c1.SetWriteDeadline(time.Time{})
	go func() {
		time.Sleep(50 * time.Millisecond)
		c1.Close()
	}()
	within(t, 20*time.Second, "Write with Close", func() { _, err = c1.Write(big) })
	isClosed(t, err)
	_ = c2
}

func TestCloseUnblocksRead(t *testing.T) {
	h := loopback(t)
	c1, _, stop := tcpPair(t, h, h, "tcp", "127.0.0.1:0", "127.0.0.1")
	defer stop()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = c1.Read(make([]byte, 10)) }()
	}
	time.Sleep(50 * time.Millisecond)
	within(t, 10*time.Second, "Close", func() {
		if err := c1.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		wg.Wait()
	})
	for _, err := range errs {
		isClosed(t, err)
	}
}

func TestErrors(t *testing.T) {
	h := loopback(t)
	d := wsnet.Dialer{Session: h.Session}

	// Refused: a port nobody listens on.
	_, err := d.Dial("tcp", "127.0.0.1:1")
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" || !errors.Is(err, wsa.WSAECONNREFUSED) {
		t.Fatalf("dial refused: %v (%T)", err, err)
	}
	t.Logf("refused: %v", err)

	// Reset: the peer closes abortively (SO_LINGER 0).
	c1, c2, stop := tcpPair(t, h, h, "tcp", "127.0.0.1:0", "127.0.0.1")
	defer stop()
	if err := c2.(*wsnet.Conn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c2.Close()
	time.Sleep(20 * time.Millisecond)
	_, err = c1.Read(make([]byte, 10))
	if !errors.As(err, &oe) || oe.Op != "read" || !errors.Is(err, wsa.WSAECONNRESET) {
		t.Fatalf("read after reset: %v (%T)", err, err)
	}
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "wsarecv" {
		t.Fatalf("read after reset: %v: want an *os.SyscallError for wsarecv", err)
	}
	t.Logf("reset: %v", err)

	// Host names are not resolved; bad networks and ports are refused.
	for _, addr := range []string{"example.com:80", "127.0.0.1:http", "[::1]:99999"} {
		if _, err := d.Dial("tcp", addr); err == nil {
			t.Fatalf("Dial %s succeeded", addr)
		} else {
			t.Logf("Dial %s: %v", addr, err)
		}
	}
	var dnsErr *net.DNSError
	if _, err := d.Dial("tcp", "example.com:80"); !errors.As(err, &dnsErr) {
		t.Fatalf("host name: %v, want a *net.DNSError", err)
	}
	if _, err := d.Dial("ip", "127.0.0.1:80"); err == nil {
		t.Fatal(`Dial("ip") succeeded`)
	}
	if _, err := d.Dial("tcp4", "[::1]:80"); err == nil {
		t.Fatal(`Dial("tcp4", IPv6) succeeded`)
	}
	if _, err := (&wsnet.Dialer{}).Dial("tcp", "127.0.0.1:80"); err == nil {
		t.Fatal("Dial without a Session succeeded")
	}
	// localhost maps to the loopback address.
	ln, err := wsnet.Listen(h.Session, "tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if a := ln.Addr().(*net.TCPAddr); !a.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("localhost listener at %v", a)
	}
}

// TestDialCancel dials an address on the pipe's subnet where no host
// answers, so the SYN is never answered: the context's deadline and its
// cancellation end the pending ConnectEx with CancelIoEx.
func TestDialCancel(t *testing.T) {
	a, b, err := ws2.NewPipe(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	d := wsnet.Dialer{Session: a.Session}
	const nowhere = "198.18.0.99:80"

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	within(t, 10*time.Second, "DialContext with a deadline", func() { _, err = d.DialContext(ctx, "tcp", nowhere) })
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial past its deadline: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	within(t, 10*time.Second, "DialContext cancelled", func() { _, err = d.DialContext(ctx, "tcp", nowhere) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dial: %v", err)
	}

	d.Timeout = 50 * time.Millisecond
	within(t, 10*time.Second, "Dial with Timeout", func() { _, err = d.Dial("tcp", nowhere) })
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial with Timeout: %v", err)
	}

	// The socket of a cancelled dial is closed: the Session has no socket
	// left over (a fresh dial on the pipe still works).
	ln, err := wsnet.Listen(b.Session, "tcp", "198.18.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	d.Timeout = 0
	d.LocalAddr = &net.TCPAddr{IP: net.ParseIP("198.18.0.1")}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if la := c.LocalAddr().(*net.TCPAddr); !la.IP.Equal(net.ParseIP("198.18.0.1")) {
		t.Fatalf("LocalAddr %v", la)
	}
	c.Close()
}

// TestNoDataLost races read deadlines against arriving data: each Read has
// a deadline a few microseconds away, so cancellations and completions
// cross all the time. Every byte written must be read, in order: data that
// completed a WSARecv before its cancellation took effect is returned, not
// dropped.
func TestNoDataLost(t *testing.T) {
	h := loopback(t)
	c1, c2, stop := tcpPair(t, h, h, "tcp", "127.0.0.1:0", "127.0.0.1")
	defer stop()
	const msgs = 2000
	var want bytes.Buffer
	for i := range msgs {
		want.WriteString(strings.Repeat(string(rune('a'+i%26)), 1+i%7))
	}
	go func() {
		b := want.Bytes()
		for len(b) > 0 {
			k := min(len(b), 1+rand.IntN(9))
			c1.Write(b[:k])
			b = b[k:]
			if rand.IntN(4) == 0 {
				time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond)
			}
		}
		c1.(*wsnet.Conn).CloseWrite()
	}()
	var got bytes.Buffer
	buf := make([]byte, 64)
	timeouts := 0
	within(t, 30*time.Second, "reading", func() {
		for {
			c2.SetReadDeadline(time.Now().Add(time.Duration(rand.IntN(100)) * time.Microsecond))
			n, err := c2.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("Read: %v", err)
					return
				}
				timeouts++
			}
		}
	})
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("read %d bytes, want %d (data lost or reordered)", got.Len(), want.Len())
	}
	t.Logf("%d bytes through %d read timeouts", got.Len(), timeouts)
}

// TestSessionCleanup ends the Session (ws2.Host.Close: WSACleanup) under
// blocked calls: they return, and closing the Conns afterwards does not
// hang.
func TestSessionCleanup(t *testing.T) {
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	c1, c2, _ := tcpPair(t, h, h, "tcp", "127.0.0.1:0", "127.0.0.1")
	ln, err := wsnet.Listen(h.Session, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 3)
	go func() { _, err := c1.Read(make([]byte, 1)); errs <- err }()
	go func() { _, err := c2.Read(make([]byte, 1)); errs <- err }()
	go func() { _, err := ln.Accept(); errs <- err }()
	time.Sleep(50 * time.Millisecond)
	h.Close()
	within(t, 10*time.Second, "calls blocked across WSACleanup", func() {
		for range 3 {
			err := <-errs
			var oe *net.OpError
			if !errors.As(err, &oe) {
				t.Errorf("error %v (%T)", err, err)
			}
			t.Logf("after WSACleanup: %v", err)
		}
		c1.Close()
		c2.Close()
		ln.Close()
	})
}

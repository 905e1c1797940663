package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/wsa"
)

// testTimeout bounds every blocking step of these tests.
const testTimeout = 20 * time.Second

// testLogger returns a logger writing into the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// family is one address family's view of the loopback host.
type family struct {
	name     string
	af       int32
	wildcard netip.Addr
	loopback netip.Addr
}

var families = []family{
	{"IPv4", wsa.AF_INET, netip.IPv4Unspecified(), netip.MustParseAddr("127.0.0.1")},
	{"IPv6", wsa.AF_INET6, netip.IPv6Unspecified(), netip.IPv6Loopback()},
}

// echoAddrs are where the tests run the echo service: port 7 of both
// families.
var echoAddrs = []netip.AddrPort{
	netip.AddrPortFrom(netip.IPv4Unspecified(), 7),
	netip.AddrPortFrom(netip.IPv6Unspecified(), 7),
}

// startLoopbackEcho starts a loopback host with the echo service on port 7
// of both families; both are closed when the test ends.
func startLoopbackEcho(t *testing.T) (*ws2.Host, *Echo) {
	t.Helper()
	h, err := ws2.NewLoopback()
	if err != nil {
		t.Fatalf("NewLoopback: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	e, err := StartEcho(h.Session, echoAddrs, testLogger(t))
	if err != nil {
		t.Fatalf("StartEcho: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Echo.Close: %v", err)
		}
	})
	return h, e
}

// guard closes s if the test is still using it after d, so that a blocked
// call returns (WSAEINTR) instead of hanging; the returned stop disarms it
// and reports whether it fired.
func guard(t *testing.T, ws Winsock, s wsa.Socket, d time.Duration) (stop func() bool) {
	t.Helper()
	var fired bool
	var mu sync.Mutex
	tm := time.AfterFunc(d, func() {
		mu.Lock()
		fired = true
		mu.Unlock()
		t.Errorf("socket %#x: timed out after %v; closing it", s, d)
		ws.Closesocket(s)
	})
	return func() bool {
		tm.Stop()
		mu.Lock()
		defer mu.Unlock()
		return fired
	}
}

// echoTCP connects to addr, sends data while reading the echo back, shuts
// its side down after the last byte and reads until the service closes. It
// returns what came back. It is safe to call from any goroutine.
func echoTCP(ws client, af int32, addr netip.AddrPort, data []byte) ([]byte, error) {
	s, err := ws.Socket(af, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	// Closing the socket ends a blocked call if the test hangs.
	var once sync.Once
	closeIt := func() { once.Do(func() { ws.Closesocket(s) }) }
	defer closeIt()
	tm := time.AfterFunc(testTimeout, closeIt)
	defer tm.Stop()
	if err := ws.Connect(s, wsa.SockaddrFromAddrPort(addr)); err != nil {
		return nil, fmt.Errorf("connect %v: %w", addr, err)
	}
	sendErr := make(chan error, 1)
	go func() {
		// Uneven chunks, so that segment and Recv boundaries differ.
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := min(len(rest), 1000+i*7919%60000)
			if err := sendAll(ws, s, rest[:n]); err != nil {
				sendErr <- fmt.Errorf("send: %w", err)
				return
			}
			rest = rest[n:]
		}
		sendErr <- ws.Shutdown(s, wsa.SD_SEND)
	}()
	var got bytes.Buffer
	buf := make([]byte, 17<<10)
	for {
		n, err := ws.Recv(s, buf, 0)
		if err != nil {
			closeIt()
			<-sendErr
			return got.Bytes(), fmt.Errorf("recv after %d bytes: %w", got.Len(), err)
		}
		if n == 0 {
			break
		}
		got.Write(buf[:n])
	}
	if err := <-sendErr; err != nil {
		return got.Bytes(), err
	}
	return got.Bytes(), nil
}

// Connect is used by the tests only; the service needs no client calls.
type client interface {
	Winsock
	Connect(s wsa.Socket, name wsa.Sockaddr) error
}

func TestEchoTCP(t *testing.T) {
	h, _ := startLoopbackEcho(t)
	var ws client = h.Session
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			data := testutil.RandomBytes(t, 1<<20)
			got, err := echoTCP(ws, f.af, netip.AddrPortFrom(f.loopback, 7), data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(data) || sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("echoed %d bytes (sha256 %x), sent %d (sha256 %x)",
					len(got), sha256.Sum256(got), len(data), sha256.Sum256(data))
			}
		})
	}
}

// TestEchoTCPConcurrent runs several connections at once over both families.
func TestEchoTCPConcurrent(t *testing.T) {
	h, _ := startLoopbackEcho(t)
	var ws client = h.Session
	var wg sync.WaitGroup
	for i := range 8 {
		f := families[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := testutil.RandomBytes(t, 64<<10+i*1111)
			got, err := echoTCP(ws, f.af, netip.AddrPortFrom(f.loopback, 7), data)
			if err != nil {
				t.Errorf("connection %d (%s): %v", i, f.name, err)
			} else if !bytes.Equal(got, data) {
				t.Errorf("connection %d (%s): echoed %d bytes, sent %d, equal=%v", i, f.name, len(got), len(data), bytes.Equal(got, data))
			}
		}()
	}
	wg.Wait()
}

// TestEchoTCPEmpty: a client that sends nothing and shuts down gets a clean
// end of stream.
func TestEchoTCPEmpty(t *testing.T) {
	h, _ := startLoopbackEcho(t)
	for _, f := range families {
		got, err := echoTCP(h.Session, f.af, netip.AddrPortFrom(f.loopback, 7), nil)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if len(got) != 0 {
			t.Errorf("%s: echoed %d bytes for none", f.name, len(got))
		}
	}
}

func TestEchoUDP(t *testing.T) {
	h, _ := startLoopbackEcho(t)
	ws := h.Session
	sizes := []int{1, 2, 100, 512, 1400, 1472, 1500, 9000, 65000}
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			s, err := ws.Socket(f.af, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP)
			if err != nil {
				t.Fatalf("socket: %v", err)
			}
			defer ws.Closesocket(s)
			stop := guard(t, ws, s, testTimeout)
			defer stop()
			server := netip.AddrPortFrom(f.loopback, 7)
			buf := make([]byte, 64<<10)
			for _, n := range sizes {
				data := testutil.RandomBytes(t, n)
				sent, err := ws.Sendto(s, data, 0, wsa.SockaddrFromAddrPort(server))
				if err != nil || int(sent) != n {
					t.Fatalf("sendto %d bytes: %d, %v", n, sent, err)
				}
				got, from, err := ws.Recvfrom(s, buf, 0)
				if err != nil {
					t.Fatalf("recvfrom (%d-byte datagram): %v", n, err)
				}
				if from == nil || from.AddrPort() != server {
					t.Errorf("%d-byte reply from %v, want %v", n, from, server)
				}
				if !bytes.Equal(buf[:got], data) {
					t.Fatalf("%d-byte datagram: got %d bytes back, equal=%v", n, got, bytes.Equal(buf[:got], data))
				}
			}
		})
	}
}

// TestEchoStartFails: a port already taken makes StartEcho fail and leave
// nothing behind.
func TestEchoStartFails(t *testing.T) {
	h, _ := startLoopbackEcho(t)
	check := testutil.LeakCheck(t)
	e, err := StartEcho(h.Session, []netip.AddrPort{
		netip.AddrPortFrom(netip.IPv4Unspecified(), 8),
		netip.AddrPortFrom(netip.IPv6Unspecified(), 7), // taken
	}, testLogger(t))
	if err == nil {
		e.Close()
		t.Fatal("StartEcho on a taken port succeeded")
	}
	if !errors.Is(err, wsa.WSAEADDRINUSE) {
		t.Errorf("StartEcho on a taken port: %v, want WSAEADDRINUSE", err)
	}
	// Port 8 was released: it can be bound again.
	e, err = StartEcho(h.Session, []netip.AddrPort{netip.AddrPortFrom(netip.IPv4Unspecified(), 8)}, nil)
	if err != nil {
		t.Fatalf("port 8 still bound after the failed start: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestEchoCloseNoLeak stops the service while connections are open (one
// idle, one in the middle of a transfer) and checks that every goroutine
// it started, and those of the host, are gone afterwards.
func TestEchoCloseNoLeak(t *testing.T) {
	check := testutil.LeakCheck(t)
	func() {
		h, err := ws2.NewLoopback()
		if err != nil {
			t.Fatalf("NewLoopback: %v", err)
		}
		defer h.Close()
		checkEcho := testutil.LeakCheck(t)
		e, err := StartEcho(h.Session, echoAddrs, testLogger(t))
		if err != nil {
			t.Fatalf("StartEcho: %v", err)
		}
		ws := h.Session
		var clients []wsa.Socket
		defer func() {
			for _, s := range clients {
				ws.Closesocket(s)
			}
		}()
		for i, f := range families {
			s, err := ws.Socket(f.af, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
			if err != nil {
				t.Fatalf("socket: %v", err)
			}
			clients = append(clients, s)
			defer guard(t, ws, s, testTimeout)()
			if err := ws.Connect(s, wsa.SockaddrFromAddrPort(netip.AddrPortFrom(f.loopback, 7))); err != nil {
				t.Fatalf("connect: %v", err)
			}
			if i == 0 {
				continue // idle
			}
			msg := []byte("in flight")
			if err := sendAll(ws, s, msg); err != nil {
				t.Fatalf("send: %v", err)
			}
			buf := make([]byte, 64)
			if n, err := ws.Recv(s, buf, 0); err != nil || !bytes.Equal(buf[:n], msg) {
				t.Fatalf("recv %q, %v", buf[:n], err)
			}
		}
		// Both connections are being served: wait for their goroutines.
		waitFor(t, "connection goroutines", func() bool {
			e.mu.Lock()
			defer e.mu.Unlock()
			return len(e.conns) == 2
		})

		done := make(chan error, 1)
		go func() { done <- e.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Close: %v", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("Echo.Close hangs")
		}
		if err := e.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// The clients see their connections end.
		for _, s := range clients {
			buf := make([]byte, 64)
			n, err := ws.Recv(s, buf, 0)
			if err == nil && n != 0 {
				t.Errorf("recv after the service stopped: %d bytes", n)
			}
		}
		checkEcho()
	}()
	check()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

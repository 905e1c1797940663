package integration

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/wsa"
)

// apiTCPEcho connects from ws to an echo service at addr, sends data while
// reading the echo back, shuts its side down after the last byte, and
// returns everything read until the service closed. Safe from any
// goroutine.
func apiTCPEcho(ws *api.Session, addr netip.AddrPort, data []byte) ([]byte, error) {
	af := int32(wsa.AF_INET)
	if addr.Addr().Is6() {
		af = wsa.AF_INET6
	}
	s, err := ws.Socket(af, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	var once sync.Once
	closeIt := func() { once.Do(func() { ws.Closesocket(s) }) }
	defer closeIt()
	defer time.AfterFunc(stepTimeout, closeIt).Stop()
	if err := ws.Connect(s, wsa.SockaddrFromAddrPort(addr)); err != nil {
		return nil, fmt.Errorf("connect %v: %w", addr, err)
	}
	sent := make(chan error, 1)
	go func() {
		for b := data; len(b) > 0; {
			n, err := ws.Send(s, b[:min(len(b), 48<<10)], 0)
			if err != nil {
				sent <- fmt.Errorf("send: %w", err)
				return
			}
			b = b[n:]
		}
		sent <- ws.Shutdown(s, wsa.SD_SEND)
	}()
	var got bytes.Buffer
	buf := make([]byte, 24<<10)
	for {
		n, err := ws.Recv(s, buf, 0)
		if err != nil {
			closeIt()
			<-sent
			return got.Bytes(), fmt.Errorf("recv after %d bytes: %w", got.Len(), err)
		}
		if n == 0 {
			break
		}
		got.Write(buf[:n])
	}
	return got.Bytes(), <-sent
}

// apiUDPEcho sends each datagram of sizes from ws to the echo service at
// addr and checks that it comes back whole, from addr.
func apiUDPEcho(t *testing.T, ws *api.Session, addr netip.AddrPort, sizes []int) {
	t.Helper()
	af := int32(wsa.AF_INET)
	if addr.Addr().Is6() {
		af = wsa.AF_INET6
	}
	s, err := ws.Socket(af, wsa.SOCK_DGRAM, wsa.IPPROTO_UDP)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	defer ws.Closesocket(s)
	defer closeAfter(ws, s, stepTimeout)()
	buf := make([]byte, 64<<10)
	for _, n := range sizes {
		msg := testutil.RandomBytes(t, n)
		if m, err := ws.Sendto(s, msg, 0, wsa.SockaddrFromAddrPort(addr)); err != nil || int(m) != n {
			t.Fatalf("sendto %d bytes to %v: %d, %v", n, addr, m, err)
		}
		m, from, err := ws.Recvfrom(s, buf, 0)
		if err != nil {
			t.Fatalf("recvfrom (%d-byte datagram to %v): %v", n, addr, err)
		}
		if from == nil || from.AddrPort() != addr {
			t.Errorf("%d-byte reply from %v, want %v", n, from, addr)
		}
		if !bytes.Equal(buf[:m], msg) {
			t.Fatalf("%d-byte datagram to %v: %d bytes back, equal=%v", n, addr, m, bytes.Equal(buf[:m], msg))
		}
	}
}

// TestPipeEcho runs two userspace hosts joined by an in-memory link: host A
// serves echo through the api, host B is the client, over IPv4 and IPv6,
// TCP and UDP. No privileges needed.
func TestPipeEcho(t *testing.T) {
	const mtu = 1280 // the IPv6 minimum: many segments and fragments
	a, b, err := ws2.NewPipe(mtu)
	if err != nil {
		t.Fatalf("NewPipe: %v", err)
	}
	t.Cleanup(func() {
		b.Close()
		a.Close()
	})
	startAPIEcho(t, a.Session,
		netip.AddrPortFrom(netip.IPv4Unspecified(), 7),
		netip.AddrPortFrom(netip.IPv6Unspecified(), 7))

	for _, p := range ws2.PipeAddrA {
		server := netip.AddrPortFrom(p.Addr(), 7)
		name := "IPv4"
		if p.Addr().Is6() {
			name = "IPv6"
		}
		t.Run(name+"/TCP", func(t *testing.T) {
			data := testutil.RandomBytes(t, 1<<20)
			got, err := apiTCPEcho(b.Session, server, data)
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("echoed %d bytes, sent %d: SHA-256 differs", len(got), len(data))
			}
		})
		t.Run(name+"/TCPConcurrent", func(t *testing.T) {
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					data := testutil.RandomBytes(t, 100<<10+i*333)
					got, err := apiTCPEcho(b.Session, server, data)
					if err != nil {
						t.Errorf("connection %d: %v", i, err)
					} else if !bytes.Equal(got, data) {
						t.Errorf("connection %d: echoed %d bytes, sent %d, not equal", i, len(got), len(data))
					}
				}()
			}
			wg.Wait()
		})
		t.Run(name+"/UDP", func(t *testing.T) {
			apiUDPEcho(t, b.Session, server, []int{1, 100, 1200, 1232, 1252, 4000, 65000})
		})
	}
}

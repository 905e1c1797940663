//go:build linux

package integration

import (
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
)

// kernelEcho serves echo on kernel sockets at addr (TCP and UDP) until the
// test ends.
func kernelEcho(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("kernel listen %s: %v", addr, err)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		ln.Close()
		t.Fatalf("kernel listen udp %s: %v", addr, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		ln.Close()
		pc.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
}

// TestTUNOutbound brings a userspace host up in-process with ws2.NewTUN and
// has it reach kernel echo services on the other side of the TUN through
// the api (Connect, Send, Recv, Sendto, Recvfrom) over IPv4 and IPv6; then
// closes the host and checks that the device is gone.
func TestTUNOutbound(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	testutil.DisableDAD(t)
	const name = "ws2i1"
	h, err := ws2.NewTUN(ws2.TUNConfig{
		Name: name,
		MTU:  9000,
		Addrs: []netip.Prefix{
			netip.MustParsePrefix(hostV4 + "/24"), netip.MustParsePrefix(hostV6 + "/64"),
		},
		KernelAddrs: []netip.Prefix{
			netip.MustParsePrefix(kernelV4 + "/24"), netip.MustParsePrefix(kernelV6 + "/64"),
		},
	})
	if err != nil {
		t.Fatalf("NewTUN: %v", err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			h.Close()
		}
	})

	for _, ip := range []string{kernelV4, kernelV6} {
		server := netip.AddrPortFrom(netip.MustParseAddr(ip), 7007)
		kernelEcho(t, server.String())

		// The kernel's listener is up, but the link may still be coming
		// up on the stack's side: retry the first connection briefly.
		var got []byte
		data := testutil.RandomBytes(t, 1<<20)
		deadline := time.Now().Add(stepTimeout)
		for {
			got, err = apiTCPEcho(h.Session, server, data)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("tcp to %v: %v", server, err)
		}
		if sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("tcp to %v: got %d bytes back, sent %d: SHA-256 differs", server, len(got), len(data))
		}
		apiUDPEcho(t, h.Session, server, []int{1, 1000, 8952, 8972, 20000})
	}

	closed = true
	if err := h.Close(); err != nil {
		t.Errorf("Host.Close: %v", err)
	}
	if _, err := net.InterfaceByName(name); err == nil {
		t.Errorf("%s still exists after Host.Close", name)
	}
}

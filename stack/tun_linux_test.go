//go:build linux

package stack

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/tun"
)

// openKernelSide opens TUN name in the test's namespace and gives its
// kernel side the addresses (IPv6 without DAD), then sets it up.
func openKernelSide(t *testing.T, name string, addrs ...string) *tun.Device {
	t.Helper()
	return openKernelSideConfig(t, tun.Config{Name: name}, addrs...)
}

// openKernelSideConfig is openKernelSide with a whole tun.Config.
func openKernelSideConfig(t *testing.T, cfg tun.Config, addrs ...string) *tun.Device {
	t.Helper()
	dev, err := tun.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := dev.Name()
	if err := testutil.DisableInterfaceDAD(name); err != nil {
		dev.Close()
		t.Fatal(err)
	}
	for _, p := range prefixes(addrs...) {
		if err := dev.AddAddress(p); err != nil {
			dev.Close()
			t.Fatal(err)
		}
	}
	if err := dev.SetUp(true); err != nil {
		dev.Close()
		t.Fatal(err)
	}
	return dev
}

// TestTUN runs TCP both ways and UDP between the kernel and a Stack joined
// by a TUN device, over IPv4 and IPv6: 192.0.2.2 and 2001:db8::2 are the
// kernel's, 192.0.2.1 and 2001:db8::1 the Stack's.
func TestTUN(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	check := testutil.LeakCheck(t)
	dev := openKernelSide(t, "ws2t0", "192.0.2.2/24", "2001:db8::2/64")
	s, err := New(Options{})
	if err != nil {
		dev.Close()
		t.Fatal(err)
	}
	var pcap testutil.LockedBuffer
	nic, err := s.AddTUN(dev, NICConfig{Addrs: prefixes("192.0.2.1/24", "2001:db8::1/64"), Pcap: &pcap})
	if err != nil {
		t.Fatal(err)
	}
	if ni := s.GVisor().NICInfo()[nic]; ni.Name != "ws2t0" || ni.MTU != uint32(dev.MTU()) {
		t.Fatalf("NIC = %+v", ni)
	}

	tests := []struct {
		name          string
		stack, kernel netip.Addr
	}{
		{"IPv4", netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")},
		{"IPv6", netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Kernel client → Stack server.
			ap := netip.AddrPortFrom(tt.stack, 8080)
			stop := listenTCP(t, s, ap)
			defer stop()
			c, err := net.DialTimeout("tcp", ap.String(), 10*time.Second)
			if err != nil {
				t.Fatalf("kernel dial %v: %v", ap, err)
			}
			if got := c.LocalAddr().(*net.TCPAddr).AddrPort().Addr(); got != tt.kernel {
				t.Fatalf("kernel side used source %v, want %v", got, tt.kernel)
			}
			roundTrip(t, c, 1<<20)
			c.Close()

			// Stack client → kernel server.
			ln, err := net.Listen("tcp", netip.AddrPortFrom(tt.kernel, 9090).String())
			if err != nil {
				t.Fatal(err)
			}
			stopK := echoServer(ln)
			defer stopK()
			gc := dialTCP(t, s, netip.AddrPortFrom(tt.kernel, 9090))
			roundTrip(t, gc, 1<<20)
			gc.Close()

			// UDP: kernel client → Stack server, and back.
			fa, proto := fullAddr(netip.AddrPortFrom(tt.stack, 53))
			srv, err := gonet.DialUDP(s.GVisor(), &fa, nil, proto)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			go func() {
				buf := make([]byte, 2000)
				srv.SetDeadline(time.Now().Add(10 * time.Second))
				if n, from, err := srv.ReadFrom(buf); err == nil {
					srv.WriteTo(buf[:n], from)
				}
			}()
			uc, err := net.Dial("udp", netip.AddrPortFrom(tt.stack, 53).String())
			if err != nil {
				t.Fatal(err)
			}
			defer uc.Close()
			uc.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := uc.Write([]byte("query")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			n, err := uc.Read(buf)
			if err != nil || string(buf[:n]) != "query" {
				t.Fatalf("UDP echo: %q, %v", buf[:n], err)
			}
		})
	}

	s.Close()
	check()
	// The stack closed the device, so the kernel deleted the interface.
	if _, err := net.InterfaceByName("ws2t0"); err == nil {
		t.Fatal("ws2t0 still exists after Close")
	}
	if _, recs := parsePcap(t, pcap.Bytes()); len(recs) < 20 {
		t.Fatalf("pcap of the TUN NIC has %d records", len(recs))
	}
}

// TestTUNRemoveNIC removes the NIC through gVisor directly: the reader
// stops and the device is closed without deadlock or leak.
func TestTUNRemoveNIC(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	check := testutil.LeakCheck(t)
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	dev := openKernelSide(t, "ws2t0", "192.0.2.2/24")
	nic, err := s.AddTUN(dev, NICConfig{Addrs: prefixes("192.0.2.1/24")})
	if err != nil {
		t.Fatal(err)
	}
	// Traffic in flight while the NIC goes away.
	stopFlood := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		c, err := net.Dial("udp", "192.0.2.1:9")
		if err != nil {
			return
		}
		defer c.Close()
		for {
			select {
			case <-stopFlood:
				return
			default:
				c.Write(make([]byte, 1000))
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.GVisor().RemoveNIC(nic); err != nil {
		t.Fatalf("RemoveNIC: %v", err)
	}
	close(stopFlood)
	<-flooded
	if _, err := net.InterfaceByName("ws2t0"); err == nil {
		t.Fatal("ws2t0 still exists after RemoveNIC")
	}
	s.Close()
	check()
}

// TestAddTUNOwnership: AddTUN takes the device even when it fails.
func TestAddTUNOwnership(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTUN(nil, NICConfig{}); err == nil {
		t.Fatal("AddTUN(nil) succeeded")
	}
	// A bad address: AddTUN fails and closes the device.
	dev := openKernelSide(t, "ws2t0")
	if _, err := s.AddTUN(dev, NICConfig{Addrs: []netip.Prefix{{}}}); err == nil {
		t.Fatal("AddTUN with an invalid address succeeded")
	}
	if _, err := dev.Read([][]byte{make([]byte, 100)}, make([]int, 1), 0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("device still open after a failed AddTUN: %v", err)
	}
	// A closed stack: ErrClosed, and the device is closed too.
	s.Close()
	dev2 := openKernelSide(t, "ws2t1")
	if _, err := s.AddTUN(dev2, NICConfig{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddTUN after Close = %v", err)
	}
	if _, err := net.InterfaceByName("ws2t1"); err == nil {
		t.Fatal("ws2t1 still exists after a failed AddTUN")
	}
}

// TestTUNCloseUnderLoad closes the Stack while the kernel streams into it:
// Close returns, the kernel's connection is reset or times out, and no
// goroutine is left behind.
func TestTUNCloseUnderLoad(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	check := testutil.LeakCheck(t)
	dev := openKernelSide(t, "ws2t0", "192.0.2.2/24")
	s, err := New(Options{})
	if err != nil {
		dev.Close()
		t.Fatal(err)
	}
	if _, err := s.AddTUN(dev, NICConfig{Addrs: prefixes("192.0.2.1/24")}); err != nil {
		t.Fatal(err)
	}
	stop := listenTCP(t, s, netip.MustParseAddrPort("192.0.2.1:8080"))
	c, err := net.DialTimeout("tcp", "192.0.2.1:8080", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	writerDone := writeUntilError(c)
	go io.Copy(io.Discard, c) // the echo comes back
	time.Sleep(200 * time.Millisecond)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked for 10s under load")
	}
	stop()
	c.Close() // ends the writer if the RST was lost with the device
	if err := <-writerDone; err == nil {
		t.Fatal("writer ended without error")
	}
	check()
}

//go:build linux

package stack

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/tun"
)

// tunDrivers are the two drivers of package tun, for table-driven tests.
var tunDrivers = []struct {
	name    string
	offload bool
}{
	{"plain", false},
	{"offload", true},
}

// bulkSize is the size of the TCP transfers of TestTUNDrivers: enough for
// many full windows and, with offload, many super-packets each way.
const bulkSize = 8 << 20

// seededReader returns n pseudo-random bytes, the same for the same seed.
func seededReader(seed uint64, n int64) io.Reader {
	var s [32]byte
	copy(s[:], strconv.FormatUint(seed, 10))
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// hashedRoundTrip writes n pseudo-random bytes to c while reading the echo,
// and compares the SHA-256 of what was sent and what came back.
func hashedRoundTrip(t *testing.T, c net.Conn, n int64, seed uint64) {
	t.Helper()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	sent := sha256.New()
	errc := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, io.TeeReader(seededReader(seed, n), sent))
		errc <- err
	}()
	got := sha256.New()
	m, err := io.CopyN(got, c, n)
	if err != nil {
		t.Fatalf("read back after %d of %d bytes: %v", m, n, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("SHA-256 of the %d echoed bytes %x, sent %x", n, got.Sum(nil), sent.Sum(nil))
	}
}

// udpBurst sends count datagrams of 1000 bytes from one socket to the
// other as fast as it can, and checks that every one arrives intact and
// in order (one flow: GRO and GSO keep its order). count must stay well
// within the receiver's socket buffer (the kernel's default 208 KiB holds
// about 50 such datagrams with their overhead).
func udpBurst(t *testing.T, from net.PacketConn, to net.PacketConn, count int) {
	t.Helper()
	dst := to.LocalAddr()
	payload := func(i int) []byte {
		return append([]byte(fmt.Sprintf("%04d", i)), bytes.Repeat([]byte{byte(i)}, 996)...)
	}
	for i := range count {
		if _, err := from.WriteTo(payload(i), dst); err != nil {
			t.Fatalf("send datagram %d to %v: %v", i, dst, err)
		}
	}
	to.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2000)
	for i := range count {
		n, src, err := to.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d of %d: %v", i, count, err)
		}
		if src.String() != from.LocalAddr().String() || !bytes.Equal(buf[:n], payload(i)) {
			t.Fatalf("datagram %d: %d bytes %q… from %v", i, n, buf[:min(n, 8)], src)
		}
	}
}

// TestTUNDrivers runs TCP (several MiB each way, checked by SHA-256) and
// UDP bursts both ways between the kernel and a Stack over a TUN device,
// with each driver, over IPv4 and IPv6.
func TestTUNDrivers(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	check := testutil.LeakCheck(t)
	for _, drv := range tunDrivers {
		t.Run(drv.name, func(t *testing.T) {
			name := "ws2" + drv.name
			dev := openKernelSideConfig(t, tun.Config{Name: name, Offload: drv.offload}, "192.0.2.2/24", "2001:db8::2/64")
			if dev.Offload() != drv.offload {
				dev.Close()
				t.Fatalf("Offload() = %t (%v)", dev.Offload(), dev.OffloadError())
			}
			s, err := New(Options{})
			if err != nil {
				dev.Close()
				t.Fatal(err)
			}
			defer s.Close()
			var pcap testutil.LockedBuffer
			if _, err := s.AddTUN(dev, NICConfig{Addrs: prefixes("192.0.2.1/24", "2001:db8::1/64"), Pcap: &pcap}); err != nil {
				t.Fatal(err)
			}
			for _, fam := range []struct {
				name          string
				stack, kernel netip.Addr
			}{
				{"IPv4", netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")},
				{"IPv6", netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")},
			} {
				t.Run(fam.name, func(t *testing.T) {
					// Kernel client → Stack echo server and back.
					ap := netip.AddrPortFrom(fam.stack, 8080)
					fa, proto := fullAddr(ap)
					gln, err := gonet.ListenTCP(s.GVisor(), fa, proto)
					if err != nil {
						t.Fatal(err)
					}
					// Deadlines on the echo connections, so that a stalled
					// transfer fails the test instead of hanging it.
					stop := echoServer(deadlineListener{gln})
					defer stop()
					defer dumpOnFailure(t, s, dev.Name())
					c, err := net.DialTimeout("tcp", ap.String(), 10*time.Second)
					if err != nil {
						t.Fatalf("kernel dial %v: %v", ap, err)
					}
					hashedRoundTrip(t, c, bulkSize, 1)
					c.Close()

					// Stack client → kernel echo server and back.
					ln, err := net.Listen("tcp", netip.AddrPortFrom(fam.kernel, 9090).String())
					if err != nil {
						t.Fatal(err)
					}
					stopK := echoServer(deadlineListener{ln})
					defer stopK()
					gc := dialTCP(t, s, netip.AddrPortFrom(fam.kernel, 9090))
					hashedRoundTrip(t, gc, bulkSize, 2)
					gc.Close()

					// UDP bursts both ways.
					kc, err := net.ListenPacket("udp", netip.AddrPortFrom(fam.kernel, 5353).String())
					if err != nil {
						t.Fatal(err)
					}
					defer kc.Close()
					ua, proto := fullAddr(netip.AddrPortFrom(fam.stack, 53))
					sc, err := gonet.DialUDP(s.GVisor(), &ua, nil, proto)
					if err != nil {
						t.Fatal(err)
					}
					defer sc.Close()
					udpBurst(t, kc, sc, 40)
					udpBurst(t, sc, kc, 40)
				})
			}
			s.Close()
			if _, err := net.InterfaceByName(name); err == nil {
				t.Fatalf("%s still exists after Close", name)
			}
			if _, recs := parsePcap(t, pcap.Bytes()); len(recs) < 100 {
				t.Fatalf("pcap of the TUN NIC has %d records", len(recs))
			}
		})
	}
	check()
}

// deadlineListener gives every connection it accepts a one-minute
// deadline.
type deadlineListener struct{ net.Listener }

func (l deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		c.SetDeadline(time.Now().Add(time.Minute))
	}
	return c, err
}

// dumpOnFailure logs the counters that explain a stalled transfer.
func dumpOnFailure(t *testing.T, s *Stack, name string) {
	if !t.Failed() {
		return
	}
	st := s.GVisor().Stats()
	s.mu.Lock()
	for _, ep := range s.tuns {
		n, last := ep.dev.Dropped()
		t.Logf("device %s: Read dropped %d (last: %v)", ep.dev.Name(), n, last)
	}
	s.mu.Unlock()
	for id, ni := range s.GVisor().NICInfo() {
		t.Logf("NIC %d %s: tx %d (dropped, queue full: %d), rx %d", id, ni.Name, ni.Stats.Tx.Packets.Value(),
			ni.Stats.TxPacketsDroppedNoBufferSpace.Value(), ni.Stats.Rx.Packets.Value())
	}
	t.Logf("gVisor TCP: retransmits %d, timeouts %d, fast retransmits %d, checksum errors %d, invalid segments %d, IP malformed %d, dropped %d",
		st.TCP.Retransmits.Value(), st.TCP.Timeouts.Value(), st.TCP.FastRetransmit.Value(),
		st.TCP.ChecksumErrors.Value(), st.TCP.InvalidSegmentsReceived.Value(), st.IP.MalformedPacketsReceived.Value(), st.DroppedPackets.Value())
	for _, f := range []string{"/proc/net/dev", "/proc/net/snmp", "/proc/net/netstat"} {
		b, _ := os.ReadFile(f)
		t.Logf("%s:\n%s", f, b)
	}
}

// sysCounter reads /sys/class/net/<name>/statistics/<counter>.
func sysCounter(t *testing.T, name, counter string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/sys/class/net/" + name + "/statistics/" + counter)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// oneWay sends n bytes from w to r (closing w's write side at the end) and
// waits until r has read them all.
func oneWay(t *testing.T, w, r net.Conn, n int64) {
	t.Helper()
	w.SetDeadline(time.Now().Add(60 * time.Second))
	r.SetDeadline(time.Now().Add(60 * time.Second))
	errc := make(chan error, 1)
	go func() {
		_, err := io.Copy(w, seededReader(3, n))
		if err == nil {
			err = w.(interface{ CloseWrite() error }).CloseWrite()
		}
		errc <- err
	}()
	m, err := io.Copy(io.Discard, r)
	if err != nil || m != n {
		t.Fatalf("received %d of %d bytes: %v", m, n, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("send: %v", err)
	}
}

// TestTUNSuperPackets checks that the offload driver really moves
// super-packets, by counting: the kernel counts a GSO or GRO super-packet
// once in the TUN interface's statistics, gVisor counts every MTU-sized
// packet in its NIC's. With the plain driver the counts match; with the
// offload driver the kernel must count fewer packets each way. (Bulk TCP
// from the kernel always leaves in super-packets of at least two segments,
// tcp_min_tso_segs; towards the kernel, segments that queue up while a
// batch is being written coalesce. The bounds are loose on purpose.)
func TestTUNSuperPackets(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, drv := range tunDrivers {
		t.Run(drv.name, func(t *testing.T) {
			name := "ws2" + drv.name
			dev := openKernelSideConfig(t, tun.Config{Name: name, Offload: drv.offload}, "192.0.2.2/24")
			s, err := New(Options{})
			if err != nil {
				dev.Close()
				t.Fatal(err)
			}
			defer s.Close()
			nic, err := s.AddTUN(dev, NICConfig{Addrs: prefixes("192.0.2.1/24")})
			if err != nil {
				t.Fatal(err)
			}
			gv := func() tcpip.NICStats { return s.GVisor().NICInfo()[nic].Stats }

			// Kernel → Stack.
			fa, proto := fullAddr(netip.MustParseAddrPort("192.0.2.1:8080"))
			ln, err := gonet.ListenTCP(s.GVisor(), fa, proto)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			kTx0, gRx0 := sysCounter(t, name, "tx_packets"), gv().Rx.Packets.Value()
			kc, err := net.DialTimeout("tcp", "192.0.2.1:8080", 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer kc.Close()
			sc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			oneWay(t, kc, sc, bulkSize)
			kTx, gRx := sysCounter(t, name, "tx_packets")-kTx0, gv().Rx.Packets.Value()-gRx0

			// Stack → Kernel.
			kln, err := net.Listen("tcp", "192.0.2.2:9090")
			if err != nil {
				t.Fatal(err)
			}
			defer kln.Close()
			kRx0, gTx0 := sysCounter(t, name, "rx_packets"), gv().Tx.Packets.Value()
			gc := dialTCP(t, s, netip.MustParseAddrPort("192.0.2.2:9090"))
			defer gc.Close()
			ksc, err := kln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer ksc.Close()
			oneWay(t, gc, ksc, bulkSize)
			kRx, gTx := sysCounter(t, name, "rx_packets")-kRx0, gv().Tx.Packets.Value()-gTx0

			t.Logf("kernel→stack: kernel sent %d packets, gVisor received %d (%.1f per kernel packet)", kTx, gRx, float64(gRx)/float64(max(kTx, 1)))
			t.Logf("stack→kernel: gVisor sent %d packets, kernel received %d (%.1f per kernel packet)", gTx, kRx, float64(gTx)/float64(max(kRx, 1)))
			if !drv.offload {
				return
			}
			if gRx < 2*kTx {
				t.Errorf("kernel→stack: %d packets out of %d reads; want at least 2 per read (GSO)", gRx, kTx)
			}
			if kRx >= gTx {
				t.Errorf("stack→kernel: the kernel received %d packets for gVisor's %d; want fewer (GRO)", kRx, gTx)
			}
		})
	}
}

//go:build linux

package stack

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/tun"
)

// nsThread is one OS thread moved into a new network namespace, and the
// goroutine locked to it. Everything that creates a kernel object bound to
// a namespace (the TUN device, netlink sockets, Go net sockets) runs on it
// through do; the descriptors it creates then work from any goroutine. The
// goroutine never unlocks its thread, so when stop ends it the runtime
// destroys the thread instead of reusing it in the wrong namespace (and
// the runtime never clones new threads from a locked one).
//
// Benchmarks cannot use netns.Enter, which re-runs a *testing.T test in a
// child process; this is the same isolation (a network namespace of its
// own, nothing added to the machine's) within the benchmark's process.
type nsThread struct {
	work chan func()
	done chan struct{}
}

// newNSThread starts the thread, or ends b (skip, or fail under
// WS2_REQUIRE_TUN=1) when namespaces or TUN devices cannot be had.
func newNSThread(b *testing.B) *nsThread {
	b.Helper()
	if os.Geteuid() != 0 {
		netns.Require(b, "netns: not running as root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		netns.Require(b, "netns: no TUN driver: "+err.Error())
	}
	n := &nsThread{work: make(chan func()), done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		defer close(n.done)
		runtime.LockOSThread() // never unlocked: the thread dies with us
		before, err := threadNetns()
		if err == nil {
			err = unix.Unshare(unix.CLONE_NEWNET)
		}
		if err == nil {
			var after uint64
			if after, err = threadNetns(); err == nil && after == before {
				err = fmt.Errorf("still in namespace %d after unshare", before)
			}
		}
		if err == nil {
			err = netns.LinkUp("lo")
		}
		errc <- err
		if err != nil {
			return
		}
		for f := range n.work {
			f()
		}
	}()
	if err := <-errc; err != nil {
		netns.Require(b, "netns: new network namespace for this thread: "+err.Error())
	}
	return n
}

// do runs f on the namespace's thread and waits for it.
func (n *nsThread) do(f func()) {
	ran := make(chan struct{})
	n.work <- func() { defer close(ran); f() }
	<-ran
}

// stop ends the thread (and with it, once every descriptor made in it is
// closed, the namespace).
func (n *nsThread) stop() {
	close(n.work)
	<-n.done
}

// threadNetns returns the inode of the calling thread's network namespace.
func threadNetns() (uint64, error) {
	fi, err := os.Stat("/proc/thread-self/ns/net")
	if err != nil {
		return 0, err
	}
	return fi.Sys().(*syscall.Stat_t).Ino, nil
}

// BenchmarkTUNBulk measures one bulk TCP stream between the kernel (Go net)
// and a Stack (gonet) over a TUN device of each driver, each way, and
// reports Gbit/s of payload. It runs in a network namespace of its own
// (see nsThread): 192.0.2.2 is the kernel's side, 192.0.2.1 the Stack's.
//
//	go test -run '^$' -bench BenchmarkTUNBulk ./stack/
func BenchmarkTUNBulk(b *testing.B) {
	ns := newNSThread(b)
	defer ns.stop()
	for _, drv := range tunDrivers {
		b.Run(drv.name, func(b *testing.B) {
			var (
				dev *tun.Device
				err error
			)
			name := "ws2b" + drv.name
			ns.do(func() {
				dev, err = tun.Open(tun.Config{Name: name, Offload: drv.offload})
				if err == nil {
					err = dev.AddAddress(netip.MustParsePrefix("192.0.2.2/24"))
				}
				if err == nil {
					err = dev.SetUp(true)
				}
			})
			if err != nil {
				if dev != nil {
					dev.Close()
				}
				b.Fatal(err)
			}
			if dev.Offload() != drv.offload {
				b.Fatalf("Offload() = %t: %v", dev.Offload(), dev.OffloadError())
			}
			s, err := New(Options{})
			if err != nil {
				dev.Close()
				b.Fatal(err)
			}
			defer s.Close()
			nic, err := s.AddTUN(dev, NICConfig{Addrs: prefixes("192.0.2.1/24")})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { // losses would explain a poor figure
				st := s.GVisor().Stats()
				nst := s.GVisor().NICInfo()[nic].Stats
				b.Logf("tx %d packets, %d dropped (queue full); rx %d packets; TCP retransmits %d, timeouts %d, fast retransmits %d",
					nst.Tx.Packets.Value(), nst.TxPacketsDroppedNoBufferSpace.Value(), nst.Rx.Packets.Value(),
					st.TCP.Retransmits.Value(), st.TCP.Timeouts.Value(), st.TCP.FastRetransmit.Value())
			}()
			fa, proto := fullAddr(netip.MustParseAddrPort("192.0.2.1:8080"))
			gln, err := gonet.ListenTCP(s.GVisor(), fa, proto)
			if err != nil {
				b.Fatal(err)
			}
			defer gln.Close()
			var kln net.Listener
			ns.do(func() { kln, err = net.Listen("tcp", "192.0.2.2:9090") })
			if err != nil {
				b.Fatal(err)
			}
			defer kln.Close()

			b.Run("kernel-to-stack", func(b *testing.B) {
				var kc net.Conn
				ns.do(func() { kc, err = net.DialTimeout("tcp", "192.0.2.1:8080", 10*time.Second) })
				if err != nil {
					b.Fatal(err)
				}
				defer kc.Close()
				sc, err := gln.Accept()
				if err != nil {
					b.Fatal(err)
				}
				defer sc.Close()
				bulk(b, kc, sc)
			})
			b.Run("stack-to-kernel", func(b *testing.B) {
				gc, err := gonet.DialTCP(s.GVisor(), tcpipFullAddr("192.0.2.2:9090"), proto)
				if err != nil {
					b.Fatal(err)
				}
				defer gc.Close()
				kc, err := kln.Accept()
				if err != nil {
					b.Fatal(err)
				}
				defer kc.Close()
				bulk(b, gc, kc)
			})
		})
	}
}

// bulkChunk is what one benchmark iteration sends.
const bulkChunk = 1 << 20

// bulk sends b.N chunks from w to r, which discards them, and reports the
// rate at which r received them.
func bulk(b *testing.B, w, r net.Conn) {
	b.Helper()
	got := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, r, int64(b.N)*bulkChunk)
		got <- err
	}()
	buf := make([]byte, 256<<10)
	b.SetBytes(bulkChunk)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for sent := 0; sent < bulkChunk; sent += len(buf) {
			if _, err := w.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := <-got; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)*bulkChunk*8/elapsed.Seconds()/1e9, "Gbit/s")
}

// tcpipFullAddr is fullAddr for a literal address and port.
func tcpipFullAddr(s string) tcpip.FullAddress {
	fa, _ := fullAddr(netip.MustParseAddrPort(s))
	return fa
}

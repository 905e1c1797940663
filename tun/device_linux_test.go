//go:build linux

package tun

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
)

func TestSentinelFor(t *testing.T) {
	tests := []struct {
		atOpen bool
		errno  syscall.Errno
		want   error
	}{
		{true, unix.ENOENT, ErrNoDevice},
		{true, unix.ENODEV, ErrNoDevice},
		{true, unix.ENXIO, ErrNoDevice},
		{true, unix.EPERM, ErrPermission},
		{true, unix.EACCES, ErrPermission},
		{true, unix.EMFILE, nil},
		{true, unix.EBUSY, nil},
		{false, unix.EPERM, ErrPermission},
		{false, unix.EACCES, ErrPermission},
		{false, unix.EBUSY, ErrBusy},
		{false, unix.EINVAL, ErrBusy},
		{false, unix.EEXIST, ErrBusy},
		{false, unix.ENOMEM, nil},
	}
	for _, tt := range tests {
		if got := sentinelFor(tt.atOpen, tt.errno); got != tt.want {
			t.Errorf("sentinelFor(%v, %v) = %v, want %v", tt.atOpen, tt.errno, got, tt.want)
		}
	}
}

// TestClassifyOpenError feeds errors shaped like water's (a bare errno from
// open(2), an *os.SyscallError from ioctl(2)) and checks that both the
// sentinel and the errno stay visible to errors.Is.
func TestClassifyOpenError(t *testing.T) {
	tests := []struct {
		in   error
		want error // sentinel, or nil for none
	}{
		{syscall.ENOENT, ErrNoDevice},
		{syscall.EACCES, ErrPermission},
		{os.NewSyscallError("ioctl", syscall.EPERM), ErrPermission},
		{os.NewSyscallError("ioctl", syscall.EBUSY), ErrBusy},
		{os.NewSyscallError("ioctl", syscall.EINVAL), ErrBusy},
		{os.NewSyscallError("ioctl", syscall.ENOMEM), nil},
		{errors.New("odd"), nil},
	}
	sentinels := []error{ErrNoDevice, ErrPermission, ErrBusy, ErrBadName}
	for _, tt := range tests {
		err := classifyOpenError("ws2t0", tt.in)
		for _, s := range sentinels {
			if errors.Is(err, s) != (s == tt.want) {
				t.Errorf("classifyOpenError(%v) = %v: errors.Is(%v) = %v", tt.in, err, s, !(s == tt.want))
			}
		}
		var errno syscall.Errno
		if errors.As(tt.in, &errno) && !errors.Is(err, errno) {
			t.Errorf("classifyOpenError(%v) = %v: errno lost", tt.in, err)
		}
		if !strings.Contains(err.Error(), "ws2t0") {
			t.Errorf("classifyOpenError(%v) = %v: name missing", tt.in, err)
		}
	}
}

// sysNet reads /sys/class/net/<name>/<file> (sysfs is remounted for the
// test's namespace by netns.Enter).
func sysNet(t *testing.T, name, file string) string {
	t.Helper()
	b, err := os.ReadFile("/sys/class/net/" + name + "/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// ifInet6 returns the IPv6 addresses of an interface from /proc/net/if_inet6.
func ifInet6(t *testing.T, name string) []netip.Prefix {
	t.Helper()
	f, err := os.Open("/proc/net/if_inet6")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []netip.Prefix
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 20010db8000000000000000000000001 03 40 00 80     ws2t0
		fs := strings.Fields(sc.Text())
		if len(fs) != 6 || fs[5] != name {
			continue
		}
		raw, err := hex.DecodeString(fs[0])
		if err != nil {
			t.Fatal(err)
		}
		bits, err := strconv.ParseUint(fs[2], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, netip.PrefixFrom(netip.AddrFrom16([16]byte(raw)), int(bits)))
	}
	return out
}

// TestOpenConfigure opens a device with each driver and configures it
// through netlink: the driver changes the descriptor, never the
// configuration.
func TestOpenConfigure(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, drv := range drivers {
		t.Run(drv.name, func(t *testing.T) {
			d, err := Open(Config{Name: "ws2t0", MTU: 1400, Offload: drv.offload})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.Name() != "ws2t0" {
				t.Fatalf("Name = %q", d.Name())
			}
			if d.Offload() != drv.offload || d.OffloadError() != nil {
				t.Fatalf("Offload() = %t, OffloadError() = %v; want %t, nil", d.Offload(), d.OffloadError(), drv.offload)
			}
			if d.Headroom() != drv.headroom || d.BatchSize() != 128 {
				t.Fatalf("Headroom() = %d, BatchSize() = %d; want %d, 128", d.Headroom(), d.BatchSize(), drv.headroom)
			}
			ifi, err := net.InterfaceByName("ws2t0")
			if err != nil {
				t.Fatal(err)
			}
			if d.Index() != ifi.Index {
				t.Fatalf("Index = %d, kernel says %d", d.Index(), ifi.Index)
			}
			li, err := linkByName("ws2t0")
			if err != nil {
				t.Fatal(err)
			}
			if li.Kind != "tun" || li.MTU != 1400 || li.Index != d.Index() || li.Flags&unix.IFF_UP != 0 || li.TUN.VnetHdr != drv.offload || li.TUN.MultiQueue {
				t.Fatalf("linkByName = %+v, want kind tun, MTU 1400, down, single queue, vnet_hdr %t", li, drv.offload)
			}
			// The offload driver caps super-packets at one Read's worth.
			if drv.offload && li.GSOMaxSegs != batchSize {
				t.Fatalf("gso_max_segs = %d, want %d", li.GSOMaxSegs, batchSize)
			}
			if d.MTU() != 1400 || sysNet(t, "ws2t0", "mtu") != "1400" {
				t.Fatalf("MTU = %d, sysfs %s, want 1400", d.MTU(), sysNet(t, "ws2t0", "mtu"))
			}
			if got := sysNet(t, "ws2t0", "tun_flags"); got != drv.flags {
				t.Fatalf("tun_flags = %s, want %s", got, drv.flags)
			}

			for _, mtu := range []int{9000, 1280} {
				if err := d.SetMTU(mtu); err != nil {
					t.Fatal(err)
				}
				if d.MTU() != mtu || sysNet(t, "ws2t0", "mtu") != strconv.Itoa(mtu) {
					t.Fatalf("after SetMTU(%d): MTU %d, sysfs %s", mtu, d.MTU(), sysNet(t, "ws2t0", "mtu"))
				}
			}
			for _, bad := range []int{0, MinMTU - 1, MaxMTU + 1} {
				if err := d.SetMTU(bad); err == nil {
					t.Fatalf("SetMTU(%d) succeeded", bad)
				}
			}
			if d.MTU() != 1280 {
				t.Fatalf("failed SetMTU changed MTU to %d", d.MTU())
			}

			flags := func() uint64 {
				v, err := strconv.ParseUint(sysNet(t, "ws2t0", "flags"), 0, 32)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			if err := d.SetUp(true); err != nil {
				t.Fatal(err)
			}
			if flags()&unix.IFF_UP == 0 {
				t.Fatalf("flags %#x after SetUp(true)", flags())
			}
			if li, err := linkByName("ws2t0"); err != nil || li.Flags&unix.IFF_UP == 0 {
				t.Fatalf("after SetUp(true): linkByName = %+v, %v", li, err)
			}
			if s := sysNet(t, "ws2t0", "operstate"); s == "down" {
				t.Fatalf("operstate %s after SetUp(true) with the queue attached", s)
			}

			// Turn DAD off so the IPv6 address is not tentative; not needed for
			// the read-back, but it keeps /proc/net/if_inet6 flags stable.
			if err := testutil.DisableInterfaceDAD("ws2t0"); err != nil {
				t.Fatal(err)
			}
			want := []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64")}
			for _, p := range want {
				if err := d.AddAddress(p); err != nil {
					t.Fatal(err)
				}
			}
			got, err := addresses(d.Index())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range want {
				if !slices.Contains(got, p) {
					t.Fatalf("netlink dump %v lacks %v", got, p)
				}
			}
			if v6 := ifInet6(t, "ws2t0"); !slices.Contains(v6, want[1]) {
				t.Fatalf("/proc/net/if_inet6 for ws2t0 = %v, lacks %v", v6, want[1])
			}
			ifaddrs, err := ifi.Addrs()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(ifaddrs, func(a net.Addr) bool { return a.String() == "192.0.2.1/24" }) {
				t.Fatalf("net.Interface.Addrs = %v, lacks 192.0.2.1/24", ifaddrs)
			}
			// Adding it again: EEXIST from the kernel, wrapped.
			err = d.AddAddress(want[0])
			var ne *NetlinkError
			if !errors.Is(err, unix.EEXIST) || !errors.As(err, &ne) || !strings.Contains(err.Error(), "ws2t0") {
				t.Fatalf("duplicate AddAddress = %v, want wrapped EEXIST *NetlinkError", err)
			}
			if err := d.AddAddress(netip.Prefix{}); err == nil {
				t.Fatal("AddAddress(zero prefix) succeeded")
			}

			if err := d.SetUp(false); err != nil {
				t.Fatal(err)
			}
			if flags()&unix.IFF_UP != 0 {
				t.Fatalf("flags %#x after SetUp(false)", flags())
			}

			// Close deletes the (non-persistent) interface.
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatalf("second Close = %v", err)
			}
			if _, err := linkByName("ws2t0"); !errors.Is(err, unix.ENODEV) {
				t.Fatalf("after Close: linkByName = %v, want ENODEV", err)
			}
			if err := d.SetUp(true); !errors.Is(err, unix.ENODEV) {
				t.Fatalf("SetUp after Close = %v, want ENODEV", err)
			}
		})
	}
}

func TestOpenKernelName(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, drv := range drivers {
		t.Run(drv.name, func(t *testing.T) {
			d, err := Open(Config{Offload: drv.offload})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if !strings.HasPrefix(d.Name(), "tun") || d.Offload() != drv.offload {
				t.Fatalf("kernel-chosen name %q, Offload() = %t", d.Name(), d.Offload())
			}
			if d.MTU() != DefaultMTU || sysNet(t, d.Name(), "mtu") != strconv.Itoa(DefaultMTU) {
				t.Fatalf("MTU = %d, sysfs %s", d.MTU(), sysNet(t, d.Name(), "mtu"))
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for i, drv := range drivers {
		other := drivers[1-i]
		t.Run(drv.name, func(t *testing.T) {
			// A single-queue device of this driver, and multi-queue
			// devices of each.
			held, err := Open(Config{Name: "ws2held", Offload: drv.offload})
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			mqName := map[bool]string{false: "ws2mqp", true: "ws2mqo"}
			for _, off := range []bool{false, true} {
				mq, err := Open(Config{Name: mqName[off], MultiQueue: true, Offload: off})
				if err != nil {
					t.Fatal(err)
				}
				defer mq.Close()
			}

			tests := []struct {
				name  string
				cfg   Config
				want  error
				errno syscall.Errno // 0: not checked
				text  string        // "": not checked
			}{
				{"bad name", Config{Name: "has space"}, ErrBadName, 0, ""},
				{"too long", Config{Name: "abcdefghijklmnop"}, ErrBadName, 0, ""},
				{"template", Config{Name: "ws2t%d"}, ErrBadName, 0, ""},
				{"lo is not a TUN", Config{Name: "lo"}, ErrBusy, 0, "non-TUN"},
				{"TUN already attached", Config{Name: "ws2held"}, ErrBusy, unix.EBUSY, ""},
				{"single queue on a multi-queue TUN", Config{Name: mqName[drv.offload]}, ErrBusy, unix.EINVAL, ""},
				{"multi-queue on a single-queue TUN", Config{Name: "ws2held", MultiQueue: true}, ErrBusy, unix.EINVAL, ""},
				{"queue on the other driver's queues", Config{Name: mqName[other.offload], MultiQueue: true}, ErrBusy, 0, "use the " + other.desc + " driver"},
			}
			for _, tt := range tests {
				tt.cfg.Offload = drv.offload
				t.Run(tt.name, func(t *testing.T) {
					d, err := Open(tt.cfg)
					if err == nil {
						d.Close()
						t.Fatalf("Open(%+v) succeeded", tt.cfg)
					}
					if !errors.Is(err, tt.want) {
						t.Fatalf("Open(%+v) = %v, want %v", tt.cfg, err, tt.want)
					}
					if tt.errno != 0 && !errors.Is(err, tt.errno) {
						t.Fatalf("Open(%+v) = %v, want errno %v", tt.cfg, err, tt.errno)
					}
					if !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), tt.cfg.Name) {
						t.Fatalf("Open(%+v) = %q, want it to name the device and say %q", tt.cfg, err, tt.text)
					}
				})
			}
			// The other driver on the held device.
			if d, err := Open(Config{Name: "ws2held", Offload: other.offload}); err == nil || !errors.Is(err, ErrBusy) || !errors.Is(err, unix.EBUSY) || !strings.Contains(err.Error(), "ws2held") {
				if d != nil {
					d.Close()
				}
				t.Fatalf("%s on an attached %s TUN: %v, want ErrBusy, EBUSY", other.name, drv.name, err)
			}
			// The failed attempts did not disturb the held devices, and
			// the multi-queue devices kept their format.
			for name, flags := range map[string]string{"ws2held": drv.flags, "ws2mqp": drivers[0].mqFlags, "ws2mqo": drivers[1].mqFlags} {
				if _, err := linkByName(name); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got := sysNet(t, name, "tun_flags"); got != flags {
					t.Fatalf("%s: tun_flags = %s, want %s", name, got, flags)
				}
			}
		})
	}
}

func TestMultiQueue(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, drv := range drivers {
		t.Run(drv.name, func(t *testing.T) {
			cfg := Config{Name: "ws2mq", MultiQueue: true, Offload: drv.offload}
			q1, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer q1.Close()
			q2, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer q2.Close()
			if q1.Index() != q2.Index() || q1.Offload() != drv.offload || q2.Offload() != drv.offload {
				t.Fatalf("queues: index %d/%d, offload %t/%t", q1.Index(), q2.Index(), q1.Offload(), q2.Offload())
			}
			if got := sysNet(t, "ws2mq", "tun_flags"); got != drv.mqFlags {
				t.Fatalf("tun_flags = %s, want %s (TUN|NO_PI|MULTI_QUEUE[|VNET_HDR])", got, drv.mqFlags)
			}
			if li, err := linkByName("ws2mq"); err != nil || li.TUN.Queues != 2 || !li.TUN.MultiQueue {
				t.Fatalf("linkByName = %+v, %v; want 2 queues", li, err)
			}
			q1.Close()
			if _, err := linkByName("ws2mq"); err != nil {
				t.Fatalf("interface gone with a queue still open: %v", err)
			}
			q2.Close()
			if _, err := linkByName("ws2mq"); !errors.Is(err, unix.ENODEV) {
				t.Fatalf("after closing both queues: %v, want ENODEV", err)
			}
		})
	}
}

// openUp opens name with the offload driver or not, adds the addresses,
// turns DAD off and sets it up.
func openUp(t *testing.T, name string, offload bool, addrs ...string) *Device {
	t.Helper()
	d, err := Open(Config{Name: name, Offload: offload})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := testutil.DisableInterfaceDAD(name); err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if err := d.AddAddress(netip.MustParsePrefix(a)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SetUp(true); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCloseUnblocksRead(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, drv := range drivers {
		t.Run(drv.name, func(t *testing.T) {
			// Down, so the kernel sends nothing (no IPv6 router solicitations).
			d, err := Open(Config{Name: "ws2t0", Offload: drv.offload})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				bufs := [][]byte{make([]byte, 2048)}
				_, err := d.Read(bufs, make([]int, 1), 0)
				done <- err
			}()
			select {
			case err := <-done:
				t.Fatalf("Read returned before Close: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, os.ErrClosed) {
					t.Fatalf("Read after Close = %v, want os.ErrClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Read still blocked 5s after Close")
			}
			// And later calls fail the same way, without blocking.
			if _, err := d.Read([][]byte{make([]byte, 10)}, make([]int, 1), 0); !errors.Is(err, os.ErrClosed) {
				t.Fatalf("Read on closed device = %v", err)
			}
			if n, err := d.Write([][]byte{make([]byte, drv.headroom+30)}, drv.headroom); n != 0 || !errors.Is(err, os.ErrClosed) {
				t.Fatalf("Write on closed device = %d, %v", n, err)
			}
			if err := d.Close(); err != nil {
				t.Fatalf("second Close = %v", err)
			}
		})
	}
}

// parseIPv4UDP returns the destination and UDP payload of an IPv4/UDP
// packet, or ok=false.
func parseIPv4UDP(p []byte) (dst netip.AddrPort, payload []byte, ok bool) {
	if len(p) < 28 || p[0]>>4 != 4 || p[9] != unix.IPPROTO_UDP {
		return netip.AddrPort{}, nil, false
	}
	ihl := int(p[0]&0xf) * 4
	dstIP := netip.AddrFrom4([4]byte(p[16:20]))
	port := binary.BigEndian.Uint16(p[ihl+2 : ihl+4])
	return netip.AddrPortFrom(dstIP, port), p[ihl+8:], true
}

// checksum is the Internet checksum of b, folded, not inverted.
func checksum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = (sum >> 16) + (sum & 0xffff)
	}
	return sum
}

// ipv4UDP builds an IPv4/UDP packet with valid checksums.
func ipv4UDP(src, dst netip.AddrPort, payload []byte) []byte {
	p := make([]byte, 28+len(payload))
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[8] = 64
	p[9] = unix.IPPROTO_UDP
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	binary.BigEndian.PutUint16(p[10:], ^uint16(checksum(0, p[:20])))
	u := p[20:]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	copy(u[8:], payload)
	pseudo := append(append(s[:], d[:]...), 0, unix.IPPROTO_UDP, 0, 0)
	binary.BigEndian.PutUint16(pseudo[10:], uint16(8+len(payload)))
	cs := ^uint16(checksum(checksum(0, pseudo), u))
	if cs == 0 {
		cs = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], cs)
	return p
}

// TestReadFromKernel sends UDP datagrams from a kernel socket to an address
// routed through the TUN and reads them back: in batches with the plain
// driver, single packets (no GSO) with the offload driver.
func TestReadFromKernel(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, drv := range drivers {
		t.Run(drv.name, func(t *testing.T) {
			d := openUp(t, "ws2t0", drv.offload, "192.0.2.1/24")
			c, err := net.Dial("udp4", "192.0.2.99:9999")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			const count = 20
			for i := range count {
				if _, err := fmt.Fprintf(c, "packet %d", i); err != nil {
					t.Fatal(err)
				}
			}
			bufs := make([][]byte, d.BatchSize())
			for i := range bufs {
				bufs[i] = make([]byte, 16+d.MTU())
			}
			sizes := make([]int, len(bufs))
			var seen []string
			batches, maxBatch := 0, 0
			deadline := time.Now().Add(10 * time.Second)
			for len(seen) < count && time.Now().Before(deadline) {
				n, err := d.Read(bufs, sizes, 16)
				if err != nil {
					t.Fatal(err)
				}
				batches++
				maxBatch = max(maxBatch, n)
				for i := range n {
					dst, payload, ok := parseIPv4UDP(bufs[i][16 : 16+sizes[i]])
					if !ok { // e.g. an IPv6 router solicitation
						continue
					}
					if dst != netip.MustParseAddrPort("192.0.2.99:9999") {
						t.Fatalf("packet to %v", dst)
					}
					seen = append(seen, string(payload))
				}
			}
			if len(seen) != count {
				t.Fatalf("read %d of %d datagrams: %q", len(seen), count, seen)
			}
			for i, s := range seen {
				if s != fmt.Sprintf("packet %d", i) {
					t.Fatalf("datagram %d = %q (order or content)", i, s)
				}
			}
			if n, last := d.Dropped(); n != 0 || last != nil {
				t.Fatalf("Dropped() = %d, %v; want 0, nil", n, last)
			}
			t.Logf("%d datagrams in %d Reads (largest batch %d)", count, batches, maxBatch)
			if !drv.drains {
				return
			}
			// The sends were queued before the first Read, so Read drained
			// more than one per call.
			if maxBatch < 2 {
				t.Fatalf("largest batch %d over %d Reads; want draining", maxBatch, batches)
			}

			// A short buffer: the kernel truncates the packet to fit.
			if _, err := fmt.Fprint(c, strings.Repeat("x", 200)); err != nil {
				t.Fatal(err)
			}
			short := make([]byte, 100)
			for {
				n, err := d.Read([][]byte{short}, sizes, 0)
				if err != nil || n != 1 {
					t.Fatalf("short-buffer Read = %d, %v", n, err)
				}
				if short[0]>>4 != 4 {
					continue // IPv6 control traffic
				}
				if sizes[0] != 100 {
					t.Fatalf("228-byte packet into a 100-byte buffer: size %d, want 100 (truncated)", sizes[0])
				}
				break
			}
		})
	}
}

// TestWriteToKernel writes a batch of IPv4/UDP packets into the TUN (which
// the offload driver may coalesce into one UDP GSO super-packet that the
// kernel splits again for the socket) and receives them on a kernel socket.
func TestWriteToKernel(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, drv := range drivers {
		t.Run(drv.name, func(t *testing.T) {
			d := openUp(t, "ws2t0", drv.offload, "192.0.2.1/24")
			pc, err := net.ListenPacket("udp4", "192.0.2.1:5000")
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			src := netip.MustParseAddrPort("192.0.2.7:4000")
			dst := netip.MustParseAddrPort("192.0.2.1:5000")
			const off, count = 10, 20 // off: at least either driver's headroom
			var bufs [][]byte
			for i := range count {
				pkt := ipv4UDP(src, dst, fmt.Appendf(nil, "hello %02d", i)) // equal sizes: coalescable
				b := make([]byte, off, off+MaxPacketSize)
				bufs = append(bufs, append(b, pkt...))
			}
			if drv.headroom > 0 {
				if n, err := d.Write(slices.Clone(bufs), drv.headroom-1); n != 0 || err == nil || !strings.Contains(err.Error(), "headroom") {
					t.Fatalf("Write with offset below Headroom = %d, %v", n, err)
				}
			}
			if n, err := d.Write([][]byte{make([]byte, off)}, off); n != 0 || err == nil || !strings.Contains(err.Error(), drv.emptyErr) {
				t.Fatalf("Write of an empty packet = %d, %v; want 0, %q", n, err, drv.emptyErr)
			}
			if n, err := d.Write(bufs, off); n != count || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", n, err, count)
			}
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 100)
			for i := range count {
				m, from, err := pc.ReadFrom(buf)
				if err != nil {
					t.Fatal(err)
				}
				if from.String() != src.String() || string(buf[:m]) != fmt.Sprintf("hello %02d", i) {
					t.Fatalf("datagram %d: %q from %v", i, buf[:m], from)
				}
			}
			if !drv.drains {
				return
			}

			// A packet the kernel refuses in the middle (IP version 0:
			// EINVAL): the plain driver stops there and says which one.
			bad := []byte{0x00, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
			hello := func(s string) []byte { return ipv4UDP(src, dst, []byte(s)) }
			n, err := d.Write([][]byte{hello("hello 0"), bad, hello("hello 1")}, 0)
			if n != 1 || !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "packet 1") {
				t.Fatalf("Write with a bad second packet = %d, %v; want 1, EINVAL at packet 1", n, err)
			}
			m, _, err := pc.ReadFrom(buf)
			if err != nil || string(buf[:m]) != "hello 0" {
				t.Fatalf("after partial write: %q, %v", buf[:m], err)
			}
		})
	}
}

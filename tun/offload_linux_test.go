//go:build linux

package tun

import (
	"encoding/binary"
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

// drivers are the two drivers, for table-driven tests.
var drivers = []struct {
	name    string
	offload bool
	flags   string // /sys/class/net/<name>/tun_flags of a single-queue device
}{
	{"plain", false, "0x1001"},  // IFF_TUN|IFF_NO_PI
	{"offload", true, "0x5001"}, // … |IFF_VNET_HDR
}

// TestOpenDrivers opens a device with each driver and configures it through
// netlink: the driver changes the descriptor, never the configuration.
func TestOpenDrivers(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	for _, drv := range drivers {
		t.Run(drv.name, func(t *testing.T) {
			name := "ws2" + drv.name
			d, err := Open(Config{Name: name, MTU: 1400, Offload: drv.offload})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.Offload() != drv.offload || d.OffloadError() != nil {
				t.Fatalf("Offload() = %t, OffloadError() = %v; want %t, nil", d.Offload(), d.OffloadError(), drv.offload)
			}
			wantHeadroom := 0
			if drv.offload {
				wantHeadroom = 10
			}
			if d.Headroom() != wantHeadroom || d.BatchSize() != 128 {
				t.Fatalf("Headroom() = %d, BatchSize() = %d; want %d, 128", d.Headroom(), d.BatchSize(), wantHeadroom)
			}
			if got := sysNet(t, name, "tun_flags"); got != drv.flags {
				t.Fatalf("tun_flags = %s, want %s", got, drv.flags)
			}
			li, err := linkByName(name)
			if err != nil {
				t.Fatal(err)
			}
			if li.Kind != "tun" || li.MTU != 1400 || li.Index != d.Index() || li.TUN.VnetHdr != drv.offload || li.TUN.MultiQueue {
				t.Fatalf("linkByName = %+v", li)
			}
			// The offload driver caps super-packets at one Read's worth.
			if drv.offload && li.GSOMaxSegs != batchSize {
				t.Fatalf("gso_max_segs = %d, want %d", li.GSOMaxSegs, batchSize)
			}
			if err := d.SetMTU(9000); err != nil {
				t.Fatal(err)
			}
			if d.MTU() != 9000 || sysNet(t, name, "mtu") != "9000" {
				t.Fatalf("after SetMTU(9000): MTU %d, sysfs %s", d.MTU(), sysNet(t, name, "mtu"))
			}
			if err := testutil.DisableInterfaceDAD(name); err != nil {
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
					t.Fatalf("addresses %v lack %v", got, p)
				}
			}
			if err := d.SetUp(true); err != nil {
				t.Fatal(err)
			}
			if li, err := linkByName(name); err != nil || li.Flags&unix.IFF_UP == 0 {
				t.Fatalf("after SetUp(true): %+v, %v", li, err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := linkByName(name); !errors.Is(err, unix.ENODEV) {
				t.Fatalf("after Close: linkByName = %v, want ENODEV", err)
			}
		})
	}
}

func TestOpenOffloadKernelName(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	d, err := Open(Config{Offload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !strings.HasPrefix(d.Name(), "tun") || !d.Offload() {
		t.Fatalf("Name() = %q, Offload() = %t", d.Name(), d.Offload())
	}
	if d.MTU() != DefaultMTU || sysNet(t, d.Name(), "mtu") != strconv.Itoa(DefaultMTU) {
		t.Fatalf("MTU = %d, sysfs %s", d.MTU(), sysNet(t, d.Name(), "mtu"))
	}
}

func TestOpenOffloadErrors(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	held, err := Open(Config{Name: "ws2held", Offload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	mqPlain, err := Open(Config{Name: "ws2mqp", MultiQueue: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mqPlain.Close()
	mqOff, err := Open(Config{Name: "ws2mqo", MultiQueue: true, Offload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mqOff.Close()

	tests := []struct {
		name  string
		cfg   Config
		want  error
		errno syscall.Errno // 0: not checked
		text  string        // "": not checked
	}{
		{"bad name", Config{Name: "has space", Offload: true}, ErrBadName, 0, ""},
		{"too long", Config{Name: "abcdefghijklmnop", Offload: true}, ErrBadName, 0, ""},
		{"template", Config{Name: "ws2t%d", Offload: true}, ErrBadName, 0, ""},
		{"lo is not a TUN", Config{Name: "lo", Offload: true}, ErrBusy, 0, "non-TUN"},
		{"TUN already attached", Config{Name: "ws2held", Offload: true}, ErrBusy, unix.EBUSY, ""},
		{"plain on an attached offload TUN", Config{Name: "ws2held"}, ErrBusy, unix.EBUSY, ""},
		{"single queue on a multi-queue TUN", Config{Name: "ws2mqo", Offload: true}, ErrBusy, unix.EINVAL, ""},
		{"multi-queue on a single-queue TUN", Config{Name: "ws2held", MultiQueue: true, Offload: true}, ErrBusy, unix.EINVAL, ""},
		{"offload queue on plain queues", Config{Name: "ws2mqp", MultiQueue: true, Offload: true}, ErrBusy, 0, "use the plain (no IFF_VNET_HDR) driver"},
		{"plain queue on offload queues", Config{Name: "ws2mqo", MultiQueue: true}, ErrBusy, 0, "use the offload (IFF_VNET_HDR) driver"},
	}
	for _, tt := range tests {
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
			if !strings.Contains(err.Error(), tt.text) || (tt.cfg.Name != "" && !strings.Contains(err.Error(), tt.cfg.Name)) {
				t.Fatalf("Open(%+v) = %q, want it to name the device and say %q", tt.cfg, err, tt.text)
			}
		})
	}
	// The failed attempts changed nothing: the multi-queue devices kept
	// their format.
	for name, flags := range map[string]string{"ws2held": "0x5001", "ws2mqp": "0x1101", "ws2mqo": "0x5101"} {
		if got := sysNet(t, name, "tun_flags"); got != flags {
			t.Fatalf("%s: tun_flags = %s, want %s", name, got, flags)
		}
	}
}

func TestOffloadMultiQueue(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	q1, err := Open(Config{Name: "ws2mq", MultiQueue: true, Offload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer q1.Close()
	q2, err := Open(Config{Name: "ws2mq", MultiQueue: true, Offload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	if q1.Index() != q2.Index() || !q1.Offload() || !q2.Offload() {
		t.Fatalf("queues: index %d/%d, offload %t/%t", q1.Index(), q2.Index(), q1.Offload(), q2.Offload())
	}
	if got := sysNet(t, "ws2mq", "tun_flags"); got != "0x5101" {
		t.Fatalf("tun_flags = %s, want 0x5101 (TUN|NO_PI|MULTI_QUEUE|VNET_HDR)", got)
	}
	if li, err := linkByName("ws2mq"); err != nil || li.TUN.Queues != 2 || !li.TUN.MultiQueue {
		t.Fatalf("linkByName = %+v, %v; want 2 queues", li, err)
	}
}

// TestOffloadRefused plays a kernel that refuses TUNSETOFFLOAD: Open falls
// back to the plain driver on the same interface and says why.
func TestOffloadRefused(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	saved := setOffload
	defer func() { setOffload = saved }()
	setOffload = func(int, int) error { return unix.EINVAL }

	for _, name := range []string{"ws2t0", ""} {
		t.Run(fmt.Sprintf("name=%q", name), func(t *testing.T) {
			d, err := Open(Config{Name: name, MTU: 1300, Offload: true})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.Offload() || d.Headroom() != 0 {
				t.Fatalf("Offload() = %t, Headroom() = %d after a refusal", d.Offload(), d.Headroom())
			}
			oe := d.OffloadError()
			if !errors.Is(oe, unix.EINVAL) || !strings.Contains(oe.Error(), "TUNSETOFFLOAD") || !strings.Contains(oe.Error(), d.Name()) {
				t.Fatalf("OffloadError() = %v", oe)
			}
			if name != "" && d.Name() != name {
				t.Fatalf("Name() = %q, want %q", d.Name(), name)
			}
			if got := sysNet(t, d.Name(), "tun_flags"); got != "0x1001" {
				t.Fatalf("tun_flags = %s, want 0x1001 (plain)", got)
			}
			if d.MTU() != 1300 || sysNet(t, d.Name(), "mtu") != "1300" {
				t.Fatalf("MTU = %d, sysfs %s", d.MTU(), sysNet(t, d.Name(), "mtu"))
			}
		})
	}
}

// TestOffloadReadWrite moves UDP datagrams both ways through an offload
// device: single packets from the kernel (no GSO), and a batch written
// with the virtio-net header headroom, which the driver may coalesce into
// one UDP GSO super-packet that the kernel splits again for the socket.
func TestOffloadReadWrite(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	d, err := Open(Config{Name: "ws2t0", Offload: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.AddAddress(netip.MustParsePrefix("192.0.2.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := d.SetUp(true); err != nil {
		t.Fatal(err)
	}

	// Kernel → device.
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
	deadline := time.Now().Add(10 * time.Second)
	for len(seen) < count && time.Now().Before(deadline) {
		n, err := d.Read(bufs, sizes, 16)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			dst, payload, ok := parseIPv4UDP(bufs[i][16 : 16+sizes[i]])
			if !ok {
				continue // IPv6 control traffic
			}
			if dst != netip.MustParseAddrPort("192.0.2.99:9999") {
				t.Fatalf("packet to %v", dst)
			}
			seen = append(seen, string(payload))
		}
	}
	for i := range count {
		if i >= len(seen) || seen[i] != fmt.Sprintf("packet %d", i) {
			t.Fatalf("read %q, want packet 0..%d in order", seen, count-1)
		}
	}
	if n, last := d.Dropped(); n != 0 || last != nil {
		t.Fatalf("Dropped() = %d, %v; want 0, nil", n, last)
	}

	// Device → kernel.
	pc, err := net.ListenPacket("udp4", "192.0.2.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	src := netip.MustParseAddrPort("192.0.2.7:4000")
	dst := netip.MustParseAddrPort("192.0.2.1:5000")
	off := d.Headroom()
	var out [][]byte
	for i := range count {
		pkt := ipv4UDP(src, dst, fmt.Appendf(nil, "hello %02d", i)) // equal sizes: coalescable
		b := make([]byte, off, off+MaxPacketSize)
		out = append(out, append(b, pkt...))
	}
	if n, err := d.Write(slices.Clone(out), off-1); n != 0 || err == nil || !strings.Contains(err.Error(), "headroom") {
		t.Fatalf("Write with offset below Headroom = %d, %v", n, err)
	}
	if n, err := d.Write([][]byte{make([]byte, off)}, off); n != 0 || err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("Write of an empty packet = %d, %v", n, err)
	}
	if n, err := d.Write(out, off); n != count || err != nil {
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
}

func TestOffloadCloseUnblocksRead(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	d, err := Open(Config{Name: "ws2t0", Offload: true}) // down: the kernel sends nothing
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
	if _, err := d.Read([][]byte{make([]byte, 10)}, make([]int, 1), 0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Read on closed device = %v", err)
	}
	if n, err := d.Write([][]byte{make([]byte, 40)}, 10); n != 0 || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write on closed device = %d, %v", n, err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestParseTUNInfo(t *testing.T) {
	u32 := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	var data []byte
	data = appendAttr(data, unix.IFLA_TUN_VNET_HDR, []byte{1})
	data = appendAttr(data, unix.IFLA_TUN_MULTI_QUEUE, []byte{1})
	data = appendAttr(data, unix.IFLA_TUN_NUM_QUEUES, u32(2))
	data = appendAttr(data, unix.IFLA_TUN_NUM_DISABLED_QUEUES, u32(1))
	tests := []struct {
		name string
		data []byte
		want tunInfo
	}{
		{"empty", nil, tunInfo{}},
		{"all", data, tunInfo{VnetHdr: true, MultiQueue: true, Queues: 3}},
		{"flags off", appendAttr(appendAttr(nil, unix.IFLA_TUN_VNET_HDR, []byte{0}), unix.IFLA_TUN_MULTI_QUEUE, []byte{0}), tunInfo{}},
		{"short count ignored", appendAttr(nil, unix.IFLA_TUN_NUM_QUEUES, []byte{1, 0}), tunInfo{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseTUNInfo(tt.data); got != tt.want {
				t.Fatalf("parseTUNInfo = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestCheckExisting covers the refusals Open makes before touching the
// kernel.
func TestCheckExisting(t *testing.T) {
	tunLink := func(vnet, mq bool, queues int) linkInfo {
		return linkInfo{Kind: "tun", TUN: tunInfo{VnetHdr: vnet, MultiQueue: mq, Queues: queues}}
	}
	tests := []struct {
		name string
		cfg  Config
		li   linkInfo
		ok   bool
	}{
		{"veth", Config{Name: "x"}, linkInfo{Kind: "veth"}, false},
		{"physical", Config{Name: "x", Offload: true}, linkInfo{}, false},
		{"plain on plain queues", Config{Name: "x", MultiQueue: true}, tunLink(false, true, 2), true},
		{"offload on offload queues", Config{Name: "x", MultiQueue: true, Offload: true}, tunLink(true, true, 1), true},
		{"offload on plain queues", Config{Name: "x", MultiQueue: true, Offload: true}, tunLink(false, true, 1), false},
		{"plain on offload queues", Config{Name: "x", MultiQueue: true}, tunLink(true, true, 1), false},
		{"either on a queueless persistent device", Config{Name: "x", MultiQueue: true}, tunLink(true, true, 0), true},
		{"single queue: the kernel decides", Config{Name: "x", Offload: true}, tunLink(false, false, 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkExisting(tt.cfg, tt.li)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBusy)) {
				t.Fatalf("checkExisting = %v, want ok=%t or ErrBusy", err, tt.ok)
			}
		})
	}
}

// TestIsIOError separates the driver's system-call errors from the
// packets it could not handle.
func TestIsIOError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "read", Path: "/dev/tun", Err: unix.EIO}, true},
		{os.ErrClosed, true},
		{unix.EBADFD, true},
		{errors.New("unsupported virtio GSO type: 9"), false},
		{fmt.Errorf("tcp header len is invalid: %d", 4), false},
	}
	for _, tt := range tests {
		if got := isIOError(tt.err); got != tt.want {
			t.Errorf("isIOError(%v) = %t, want %t", tt.err, got, tt.want)
		}
	}
}

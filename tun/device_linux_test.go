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

func TestOpenConfigure(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	d, err := Open(Config{Name: "ws2t0", MTU: 1400})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Name() != "ws2t0" {
		t.Fatalf("Name = %q", d.Name())
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
	if li.Kind != "tun" || li.MTU != 1400 || li.Index != d.Index() || li.Flags&unix.IFF_UP != 0 {
		t.Fatalf("linkByName = %+v, want kind tun, MTU 1400, down", li)
	}
	if d.MTU() != 1400 || sysNet(t, "ws2t0", "mtu") != "1400" {
		t.Fatalf("MTU = %d, sysfs %s, want 1400", d.MTU(), sysNet(t, "ws2t0", "mtu"))
	}
	// IFF_TUN|IFF_NO_PI, and no IFF_VNET_HDR.
	if got := sysNet(t, "ws2t0", "tun_flags"); got != "0x1001" {
		t.Fatalf("tun_flags = %s, want 0x1001", got)
	}

	if err := d.SetMTU(1280); err != nil {
		t.Fatal(err)
	}
	if d.MTU() != 1280 || sysNet(t, "ws2t0", "mtu") != "1280" {
		t.Fatalf("after SetMTU(1280): MTU %d, sysfs %s", d.MTU(), sysNet(t, "ws2t0", "mtu"))
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
}

func TestOpenKernelName(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	d, err := Open(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !strings.HasPrefix(d.Name(), "tun") {
		t.Fatalf("kernel-chosen name %q", d.Name())
	}
	if d.MTU() != DefaultMTU || sysNet(t, d.Name(), "mtu") != strconv.Itoa(DefaultMTU) {
		t.Fatalf("MTU = %d, sysfs %s", d.MTU(), sysNet(t, d.Name(), "mtu"))
	}
}

func TestOpenErrors(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	held, err := Open(Config{Name: "ws2held"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	mq, err := Open(Config{Name: "ws2mq", MultiQueue: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mq.Close()

	tests := []struct {
		name  string
		cfg   Config
		want  error
		errno syscall.Errno // 0: not checked
	}{
		{"bad name", Config{Name: "has space"}, ErrBadName, 0},
		{"too long", Config{Name: "abcdefghijklmnop"}, ErrBadName, 0},
		{"template", Config{Name: "ws2t%d"}, ErrBadName, 0},
		{"lo is not a TUN", Config{Name: "lo"}, ErrBusy, 0},
		{"TUN already attached", Config{Name: "ws2held"}, ErrBusy, unix.EBUSY},
		{"single queue on a multi-queue TUN", Config{Name: "ws2mq"}, ErrBusy, unix.EINVAL},
		{"multi-queue on a single-queue TUN", Config{Name: "ws2held", MultiQueue: true}, ErrBusy, unix.EINVAL},
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
		})
	}
	// The failed attempts did not disturb the held devices.
	for _, n := range []string{"ws2held", "ws2mq"} {
		if _, err := linkByName(n); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
}

func TestMultiQueue(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	q1, err := Open(Config{Name: "ws2mq", MultiQueue: true})
	if err != nil {
		t.Fatal(err)
	}
	q2, err := Open(Config{Name: "ws2mq", MultiQueue: true})
	if err != nil {
		q1.Close()
		t.Fatal(err)
	}
	if q1.Index() != q2.Index() {
		t.Fatalf("queues on different interfaces: %d, %d", q1.Index(), q2.Index())
	}
	if got := sysNet(t, "ws2mq", "tun_flags"); got != "0x1101" {
		t.Fatalf("tun_flags = %s, want 0x1101 (TUN|NO_PI|MULTI_QUEUE)", got)
	}
	q1.Close()
	if _, err := linkByName("ws2mq"); err != nil {
		t.Fatalf("interface gone with a queue still open: %v", err)
	}
	q2.Close()
	if _, err := linkByName("ws2mq"); !errors.Is(err, unix.ENODEV) {
		t.Fatalf("after closing both queues: %v, want ENODEV", err)
	}
}

// openUp opens name, adds the addresses, turns DAD off and sets it up.
func openUp(t *testing.T, name string, addrs ...string) *Device {
	t.Helper()
	d, err := Open(Config{Name: name})
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
	// Down, so the kernel sends nothing (no IPv6 router solicitations).
	d, err := Open(Config{Name: "ws2t0"})
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
	if n, err := d.Write([][]byte{make([]byte, 20)}, 0); n != 0 || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write on closed device = %d, %v", n, err)
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
// routed through the TUN and reads them back in batches.
func TestReadFromKernel(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	d := openUp(t, "ws2t0", "192.0.2.1/24")
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
	// The sends were queued before the first Read, so Read drained more
	// than one per call.
	if maxBatch < 2 {
		t.Fatalf("largest batch %d over %d Reads; want draining", maxBatch, batches)
	}
	t.Logf("%d datagrams in %d Reads (largest batch %d)", count, batches, maxBatch)

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
}

// TestWriteToKernel writes a batch of IPv4/UDP packets into the TUN and
// receives them on a kernel socket.
func TestWriteToKernel(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	d := openUp(t, "ws2t0", "192.0.2.1/24")
	pc, err := net.ListenPacket("udp4", "192.0.2.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	src := netip.MustParseAddrPort("192.0.2.7:4000")
	dst := netip.MustParseAddrPort("192.0.2.1:5000")
	const off = 10
	var bufs [][]byte
	for i := range 5 {
		pkt := ipv4UDP(src, dst, fmt.Appendf(nil, "hello %d", i))
		bufs = append(bufs, append(make([]byte, off), pkt...))
	}
	n, err := d.Write(bufs, off)
	if err != nil || n != len(bufs) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	for i := range 5 {
		m, from, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if from.String() != src.String() || string(buf[:m]) != fmt.Sprintf("hello %d", i) {
			t.Fatalf("got %q from %v", buf[:m], from)
		}
	}

	// A packet the kernel refuses in the middle (IP version 0: EINVAL):
	// Write stops there and says which one.
	bad := []byte{0x00, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	n, err = d.Write([][]byte{bufs[0][off:], bad, bufs[1][off:]}, 0)
	if n != 1 || !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "packet 1") {
		t.Fatalf("Write with a bad second packet = %d, %v; want 1, EINVAL at packet 1", n, err)
	}
	m, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:m]) != "hello 0" {
		t.Fatalf("after partial write: %q, %v", buf[:m], err)
	}
}

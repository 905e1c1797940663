//go:build linux

package tun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/internal/netns"
)

// drivers are the two drivers, for table-driven tests, with what differs
// between them.
var drivers = []struct {
	name     string
	offload  bool
	flags    string // /sys/class/net/<name>/tun_flags of a single-queue device
	mqFlags  string // … of a multi-queue device
	desc     string // how refusals to mix the drivers name it
	headroom int    // Headroom(): the least offset Write takes
	// drains: Read drains whatever the kernel queued (several packets a
	// call) and truncates a packet to a short buffer; Write stops at the
	// first packet the kernel refuses. The offload driver reads one
	// (super-)packet a call and writes the whole batch.
	drains   bool
	emptyErr string // what Write says of an empty packet
}{
	{"plain", false, "0x1001", "0x1101", "plain (no IFF_VNET_HDR)", 0, true, "packet 0"}, // IFF_TUN|IFF_NO_PI (|IFF_MULTI_QUEUE)
	{"offload", true, "0x5001", "0x5101", "offload (IFF_VNET_HDR)", 10, false, "empty"},  // … |IFF_VNET_HDR
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

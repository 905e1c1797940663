//go:build linux

package tun

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/songgao/water"
	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

// Device is one open queue of a Linux TUN interface.
//
// A Device is moved by one of two drivers, chosen by Config.Offload: the
// plain driver (water, one packet per read(2)/write(2)) or the offload
// driver (wireguard-go's, IFF_VNET_HDR with GSO/GRO super-packets). Both
// have the same methods and configuration; Offload reports which one is in
// use and Headroom the write offset it needs.
//
// A Device owns its file descriptor: Close releases it, and when the last
// descriptor of a non-persistent TUN interface is closed the kernel deletes
// the interface together with its addresses and routes. (water and
// wireguard-go each hand back an *os.File whose finalizer closes the
// descriptor once it is garbage collected; the Device holds that file, so
// the interface lives exactly as long as the Device is open and reachable.)
//
// All methods are safe for concurrent use. Read and Write may run at the
// same time as each other and as Close; several concurrent Reads each get
// different packets. The configuration methods (SetMTU, AddAddress, SetUp)
// talk to the kernel through rtnetlink in the calling goroutine's network
// namespace, which is the namespace the device was created in unless the
// caller moved its thread.
type Device struct {
	name  string
	index int
	mtu   atomic.Int32

	// The plain driver: the file from water (holding it keeps its
	// finalizer away) and its raw descriptor. nil with the offload driver.
	file *os.File
	rc   syscall.RawConn

	// The offload driver (wireguard-go's, which holds the file); nil with
	// the plain driver.
	wg wgtun.Device

	// offloadErr is why Config.Offload was asked for but the plain
	// driver is in use; nil otherwise.
	offloadErr error

	// Packets the offload driver read and dropped, and the last reason.
	dropped  atomic.Uint64
	lastDrop atomic.Pointer[error]

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open creates the TUN interface cfg.Name (or attaches to the existing TUN
// interface of that name) with IFF_TUN|IFF_NO_PI (and IFF_VNET_HDR for the
// offload driver, see Config.Offload), and sets its MTU. The interface, if
// new, starts down and without addresses; see AddAddress and SetUp.
//
// Errors wrap ErrBadName, ErrNoDevice, ErrPermission or ErrBusy where they
// apply, together with the errno the kernel returned. A kernel that refuses
// the offloads is not an error: Open falls back to the plain driver and
// records why (Device.OffloadError).
func Open(cfg Config) (*Device, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	// water leaks its descriptor when TUNSETIFF fails, so refuse the one
	// failure that can be seen in advance: the name belongs to an
	// interface that is not a TUN device. And a multi-queue interface
	// whose queues use the other driver: the kernel would switch the
	// virtio-net header on (or off) for all of them.
	if cfg.Name != "" {
		if li, err := linkByName(cfg.Name); err == nil {
			if err := checkExisting(cfg, li); err != nil {
				return nil, err
			}
		}
	}

	var d *Device
	if cfg.Offload {
		var refused *offloadRefusedError
		d, refused, err = openOffload(cfg)
		if refused != nil {
			// The offload driver's descriptor is closed; a new interface
			// went with it. Attach the plain driver by the name the
			// kernel gave.
			if cfg.Name == "" {
				cfg.Name = refused.name
			}
			d, err = openWater(cfg)
			if d != nil {
				d.offloadErr = refused
			}
		}
	} else {
		d, err = openWater(cfg)
	}
	if err != nil {
		return nil, err
	}
	if cur, err := linkByName(d.name); err != nil || cur.MTU != cfg.MTU {
		if err := d.SetMTU(cfg.MTU); err != nil {
			d.Close()
			return nil, err
		}
	}
	d.mtu.Store(int32(cfg.MTU))
	return d, nil
}

// checkExisting refuses to attach to the existing interface li when that
// cannot work: it is not a TUN device, or it is a multi-queue TUN device
// with queues attached whose virtio-net header setting differs from the
// driver cfg asks for.
func checkExisting(cfg Config, li linkInfo) error {
	if li.Kind != "tun" {
		kind := li.Kind
		if kind == "" {
			kind = "non-TUN"
		}
		return fmt.Errorf("tun: open %q: interface exists and is a %s device: %w", cfg.Name, kind, ErrBusy)
	}
	if cfg.MultiQueue && li.TUN.MultiQueue && li.TUN.Queues > 0 && li.TUN.VnetHdr != cfg.Offload {
		has, want := "plain (no IFF_VNET_HDR)", "offload"
		if li.TUN.VnetHdr {
			has, want = "offload (IFF_VNET_HDR)", "plain"
		}
		return fmt.Errorf("tun: open %q: the interface's %d queues use the %s driver; attaching the %s driver would change their packet format (open every queue with the same Config.Offload): %w",
			cfg.Name, li.TUN.Queues, has, want, ErrBusy)
	}
	return nil
}

// openWater opens the device with the plain driver (water).
func openWater(cfg Config) (*Device, error) {
	ifce, err := water.New(water.Config{
		DeviceType: water.TUN,
		PlatformSpecificParams: water.PlatformSpecificParams{
			Name:       cfg.Name,
			MultiQueue: cfg.MultiQueue,
		},
	})
	if err != nil {
		return nil, classifyOpenError(cfg.Name, err)
	}
	d, err := newDevice(ifce)
	if err != nil {
		ifce.Close()
		return nil, err
	}
	return d, nil
}

// newDevice wraps a freshly opened water interface.
func newDevice(ifce *water.Interface) (*Device, error) {
	name := ifce.Name()
	file, ok := ifce.ReadWriteCloser.(*os.File)
	if !ok {
		return nil, fmt.Errorf("tun: open %q: water returned %T, not *os.File", name, ifce.ReadWriteCloser)
	}
	rc, err := file.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("tun: open %q: %w", name, err)
	}
	li, err := linkByName(name)
	if err != nil {
		return nil, fmt.Errorf("tun: open %q: read back interface: %w", name, err)
	}
	return &Device{name: name, index: li.Index, file: file, rc: rc}, nil
}

// classifyOpenError wraps an error from water.New with the sentinel it
// belongs to. water returns a bare errno when opening /dev/net/tun fails and
// an *os.SyscallError("ioctl") when TUNSETIFF (or a later ioctl) fails.
func classifyOpenError(name string, err error) error {
	var se *os.SyscallError
	stage := "open /dev/net/tun"
	if errors.As(err, &se) {
		stage = se.Syscall + " TUNSETIFF"
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("tun: open %q: %s: %w", name, stage, err)
	}
	if s := sentinelFor(se == nil, errno); s != nil {
		return fmt.Errorf("tun: open %q: %s: %w: %w", name, stage, s, err)
	}
	return fmt.Errorf("tun: open %q: %s: %w", name, stage, err)
}

// sentinelFor maps an errno from opening /dev/net/tun (atOpen) or from the
// TUNSETIFF ioctl to the sentinel error it means, or nil.
func sentinelFor(atOpen bool, errno syscall.Errno) error {
	switch errno {
	case unix.EPERM, unix.EACCES:
		return ErrPermission
	}
	if atOpen {
		switch errno {
		case unix.ENOENT, unix.ENODEV, unix.ENXIO:
			return ErrNoDevice
		}
		return nil
	}
	switch errno {
	// EBUSY: a single-queue TUN already attached, or IFF_TUN_EXCL.
	// EINVAL: the name is a device of another kind, or the queue flags
	// differ from the existing interface's. EEXIST: named device exists
	// (kept for older kernels and other drivers).
	case unix.EBUSY, unix.EINVAL, unix.EEXIST:
		return ErrBusy
	}
	return nil
}

// Name returns the interface name, as chosen by the kernel if Config.Name
// was empty.
func (d *Device) Name() string { return d.name }

// Index returns the interface index (ifindex).
func (d *Device) Index() int { return d.index }

// MTU returns the MTU last set through this Device (at Open or by SetMTU).
// A change made behind its back, for example with ip-link(8), is not seen.
func (d *Device) MTU() int { return int(d.mtu.Load()) }

// SetMTU sets the interface MTU, within [MinMTU, MaxMTU].
func (d *Device) SetMTU(n int) error {
	if n < MinMTU || n > MaxMTU {
		return fmt.Errorf("tun %s: set MTU %d: outside [%d, %d]", d.name, n, MinMTU, MaxMTU)
	}
	if err := setLinkMTU(d.index, n); err != nil {
		return fmt.Errorf("tun %s: set MTU %d: %w", d.name, n, err)
	}
	d.mtu.Store(int32(n))
	return nil
}

// AddAddress assigns p (IPv4 or IPv6) to the kernel side of the interface,
// which also gives the kernel a route to p's network through it. These are
// the kernel's addresses, not the userspace stack's: the peer at the other
// end of the device uses its own. An address the interface already has
// fails with EEXIST (errors.Is(err, unix.EEXIST)).
//
// IPv6 addresses undergo duplicate address detection and stay tentative
// (unusable as a source) for about a second unless DAD is off for the
// interface (/proc/sys/net/ipv6/conf/<name>/accept_dad = 0).
func (d *Device) AddAddress(p netip.Prefix) error {
	if err := addAddress(d.index, p); err != nil {
		return fmt.Errorf("tun %s: add address %v: %w", d.name, p, err)
	}
	return nil
}

// SetUp sets the interface administratively up or down (IFF_UP).
func (d *Device) SetUp(up bool) error {
	if err := setLinkUp(d.index, up); err != nil {
		return fmt.Errorf("tun %s: set up=%t: %w", d.name, up, err)
	}
	return nil
}

// Offload reports whether the offload driver is in use: Config.Offload was
// set and the kernel accepted the virtio-net header and the offloads.
func (d *Device) Offload() bool { return d.wg != nil }

// OffloadError returns why the plain driver is in use although
// Config.Offload was set (the kernel refused TUNSETOFFLOAD), or nil.
func (d *Device) OffloadError() error { return d.offloadErr }

// Dropped returns how many packets (or super-packets) Read took from the
// kernel and dropped because the driver could not split them into the
// buffers given, and the last such error (nil if none). Only the offload
// driver drops; the plain driver truncates instead (see Read).
func (d *Device) Dropped() (n uint64, last error) {
	if p := d.lastDrop.Load(); p != nil {
		last = *p
	}
	return d.dropped.Load(), last
}

// Headroom returns the least offset Write accepts: the bytes in front of
// each packet that the driver writes its own header into. It is 0 for the
// plain driver and the length of struct virtio_net_hdr (10) for the
// offload driver. It never changes over the life of a Device.
func (d *Device) Headroom() int {
	if d.wg != nil {
		return virtioNetHdrLen
	}
	return 0
}

// BatchSize returns the largest number of packets one Read or Write moves.
// It never changes over the life of a Device; callers size their buffer
// slices with it.
func (d *Device) BatchSize() int { return batchSize }

// Read reads up to len(bufs) packets: packet i goes to bufs[i][offset:] and
// its length to sizes[i]. It returns the number of packets read.
//
// Read blocks (parked in the Go runtime poller, not in a thread) until at
// least one packet is available. Each buffer should have room for MTU bytes
// after offset. len(sizes) must be at least len(bufs). An error that
// follows some packets is dropped and those packets returned; a lasting one
// shows on the next call.
//
// The plain driver then drains whatever else the kernel has queued without
// blocking again, one read(2) per packet; the kernel silently truncates a
// packet that does not fit its buffer, and sizes[i] is then
// len(bufs[i])-offset.
//
// The offload driver makes one read(2), of one packet or of one GSO
// super-packet, and splits a super-packet into MTU-sized packets with
// their own IP and TCP/UDP headers and checksums, one per buffer (so
// bufs[0:n] come from one flow). The kernel sends super-packets of at most
// BatchSize segments; give Read BatchSize buffers so that none is cut
// short (the segments that do not fit are dropped). A packet the driver
// cannot parse, or one larger than its buffer, is dropped, and Read goes on
// to the next one.
//
// Several Reads may run at once; each gets different packets (the offload
// driver serializes them).
//
// After Close, or when Close is called during a blocked Read, Read returns
// an error for which errors.Is(err, os.ErrClosed) holds.
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(sizes) < len(bufs) {
		return 0, fmt.Errorf("tun %s: read: %d sizes for %d buffers", d.name, len(sizes), len(bufs))
	}
	if len(bufs) == 0 {
		return 0, nil
	}
	if offset < 0 {
		return 0, fmt.Errorf("tun %s: read: negative offset %d", d.name, offset)
	}
	if d.wg != nil {
		return d.readOffload(bufs, sizes, offset)
	}
	var (
		n    int
		rerr error
	)
	err := d.rc.Read(func(fd uintptr) bool {
		for n < len(bufs) {
			m, err := unix.Read(int(fd), bufs[n][offset:])
			switch err {
			case nil:
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return n > 0 // nothing yet: park until readable
			default:
				rerr = err
				return true
			}
			sizes[n] = m
			n++
		}
		return true
	})
	if n > 0 {
		// A packet-specific error after some packets: deliver those;
		// a persistent one shows again on the next call.
		return n, nil
	}
	if d.closed.Load() {
		return 0, fmt.Errorf("tun %s: read: %w", d.name, os.ErrClosed)
	}
	if err != nil {
		return 0, fmt.Errorf("tun %s: read: %w", d.name, err)
	}
	return 0, fmt.Errorf("tun %s: read: %w", d.name, os.NewSyscallError("read", rerr))
}

// Write writes each bufs[i][offset:] as one IP packet and returns the
// number of packets written. offset must be at least Headroom(). The
// kernel never blocks a TUN write in practice; if it did, Write would park
// in the runtime poller. Concurrent Writes are safe.
//
// The plain driver writes the packets in order, one write(2) each. It
// stops at the first packet the kernel refuses and returns that error; the
// caller may drop that packet and retry with the rest (bufs[n+1:]).
//
// The offload driver first coalesces the TCP and UDP packets of each flow
// in the batch into GRO super-packets, in place: it appends a packet's
// payload to the first packet of its flow (its buffer must have the
// capacity; give each buffer cap(bufs[i]) == offset+MaxPacketSize for
// whole flows to coalesce, as less capacity only coalesces less) and
// writes a virtio-net header into the offset bytes in front of it. So
// Write modifies the buffers and the bufs slice itself (its elements may
// be extended and reordered). Packets with invalid checksums are written
// as they are, never coalesced. Then it makes one write(2) per
// (super-)packet, all of them even after a failure, and the batch is
// consumed: on error n is len(bufs) minus the number of refused writes
// (each lost at least one packet; all packets merged into it), the errors
// are joined, and the buffers must not be written again.
//
// After Close, Write returns an error for which errors.Is(err, os.ErrClosed)
// holds.
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	if offset < 0 {
		return 0, fmt.Errorf("tun %s: write: negative offset %d", d.name, offset)
	}
	if d.wg != nil {
		return d.writeOffload(bufs, offset)
	}
	var (
		n    int
		werr error
	)
	err := d.rc.Write(func(fd uintptr) bool {
		for n < len(bufs) {
			_, err := unix.Write(int(fd), bufs[n][offset:])
			switch err {
			case nil:
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // park until writable
			default:
				werr = err
				return true
			}
			n++
		}
		return true
	})
	if d.closed.Load() && n < len(bufs) {
		return n, fmt.Errorf("tun %s: write: %w", d.name, os.ErrClosed)
	}
	if err != nil {
		return n, fmt.Errorf("tun %s: write: %w", d.name, err)
	}
	if werr != nil {
		return n, fmt.Errorf("tun %s: write packet %d: %w", d.name, n, os.NewSyscallError("write", werr))
	}
	return n, nil
}

// Close closes the device's descriptor, ending any blocked Read or Write.
// If it was the interface's last queue (and the interface is not
// persistent) the kernel deletes the interface. Close is idempotent: later
// calls return nil.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		d.closed.Store(true)
		// The poller wakes any goroutine parked in Read or Write; the
		// descriptor itself is closed once they have let go of it.
		if d.wg != nil {
			d.closeErr = d.wg.Close()
		} else {
			d.closeErr = d.file.Close()
		}
	})
	return d.closeErr
}

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
)

// Device is one open queue of a Linux TUN interface.
//
// A Device owns its file descriptor: Close releases it, and when the last
// descriptor of a non-persistent TUN interface is closed the kernel deletes
// the interface together with its addresses and routes. (water hands back an
// *os.File whose finalizer closes the descriptor once it is garbage
// collected; the Device holds that file, so the interface lives exactly as
// long as the Device is open and reachable.)
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

	file *os.File // from water; holding it keeps its finalizer away
	rc   syscall.RawConn

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open creates the TUN interface cfg.Name (or attaches to the existing TUN
// interface of that name) with IFF_TUN|IFF_NO_PI, and sets its MTU. The
// interface, if new, starts down and without addresses; see AddAddress and
// SetUp.
//
// Errors wrap ErrBadName, ErrNoDevice, ErrPermission or ErrBusy where they
// apply, together with the errno the kernel returned.
func Open(cfg Config) (*Device, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	// water leaks its descriptor when TUNSETIFF fails, so refuse the one
	// failure that can be seen in advance: the name belongs to an
	// interface that is not a TUN device.
	if cfg.Name != "" {
		if li, err := linkByName(cfg.Name); err == nil && li.Kind != "tun" {
			kind := li.Kind
			if kind == "" {
				kind = "non-TUN"
			}
			return nil, fmt.Errorf("tun: open %q: interface exists and is a %s device: %w", cfg.Name, kind, ErrBusy)
		}
	}

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
	if cur, err := linkByName(d.name); err != nil || cur.MTU != cfg.MTU {
		if err := d.SetMTU(cfg.MTU); err != nil {
			d.Close()
			return nil, err
		}
	}
	d.mtu.Store(int32(cfg.MTU))
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

// BatchSize returns the largest number of packets one Read or Write moves.
// It never changes over the life of a Device; callers size their buffer
// slices with it.
func (d *Device) BatchSize() int { return batchSize }

// Read reads up to len(bufs) packets: packet i goes to bufs[i][offset:] and
// its length to sizes[i]. It returns the number of packets read.
//
// Read blocks (parked in the Go runtime poller, not in a thread) until at
// least one packet is available, then drains whatever else the kernel has
// queued without blocking again, one read(2) per packet. Each buffer should
// have room for MTU bytes after offset: the kernel silently truncates a
// packet that does not fit, and sizes[i] is then len(bufs[i])-offset.
// len(sizes) must be at least len(bufs). An error that follows some packets
// is dropped and those packets returned; a lasting one shows on the next
// call.
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

// Write writes each bufs[i][offset:] as one packet, in order, and returns
// the number written. It stops at the first packet the kernel refuses and
// returns that error; the caller may drop that packet and retry with the
// rest (bufs[n+1:]). The kernel never blocks a TUN write in practice; if it
// did, Write would park in the runtime poller.
//
// After Close, Write returns an error for which errors.Is(err, os.ErrClosed)
// holds.
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
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
		d.closeErr = d.file.Close()
	})
	return d.closeErr
}

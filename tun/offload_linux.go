//go:build linux

package tun

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

// The offload driver: /dev/net/tun opened here (so that errors are
// classified as for the plain driver, and multi-queue works), with
// IFF_VNET_HDR, then handed to wireguard-go's Linux TUN driver, which sets
// TUNSETOFFLOAD and does the GSO splitting on Read and the GRO coalescing
// on Write. It is created unmonitored: wireguard-go starts no goroutines
// and never touches the MTU; configuration stays with this package's
// rtnetlink code.

// virtioNetHdrLen is sizeof(struct virtio_net_hdr), the header in front of
// every packet on a descriptor with IFF_VNET_HDR. wireguard-go writes it
// into the offset bytes Write is given.
const virtioNetHdrLen = 10

// tcpOffloads are the offloads the offload driver cannot do without, as
// wireguard-go requires them: checksum offload and TSO for IPv4 and IPv6.
// wireguard-go adds USO (TUN_F_USO4|TUN_F_USO6, Linux 6.2) when the kernel
// has it.
const tcpOffloads = unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6

// setOffload is the TUNSETOFFLOAD ioctl. Tests replace it to play a kernel
// that refuses the offloads.
var setOffload = func(fd int, flags int) error {
	return unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, flags)
}

// offloadRefusedError is why the offload driver could not be used on an
// interface that was otherwise opened fine. Open then falls back to the
// plain driver and keeps this as Device.OffloadError.
type offloadRefusedError struct {
	name string // the interface, as the kernel named it
	err  error
}

func (e *offloadRefusedError) Error() string {
	return fmt.Sprintf("tun %s: kernel refused TUNSETOFFLOAD (CSUM|TSO4|TSO6): %v; using the plain driver", e.name, e.err)
}

func (e *offloadRefusedError) Unwrap() error { return e.err }

// openOffload opens cfg's device with the offload driver. If the kernel
// refuses the offloads it closes the descriptor and returns refused (err
// nil): the caller falls back to the plain driver.
func openOffload(cfg Config) (d *Device, refused *offloadRefusedError, err error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, classifyOpenError(cfg.Name, err)
	}
	ifr, err := unix.NewIfreq(cfg.Name)
	if err != nil { // cannot happen: the name was validated
		unix.Close(fd)
		return nil, nil, fmt.Errorf("tun: open %q: %w: %w", cfg.Name, ErrBadName, err)
	}
	flags := uint16(unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if cfg.MultiQueue {
		flags |= unix.IFF_MULTI_QUEUE
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, nil, classifyOpenError(cfg.Name, os.NewSyscallError("ioctl", err))
	}
	name := ifr.Name()
	// Ask first, so that a refusal is seen before wireguard-go owns the
	// descriptor (it would fail the same way, after wrapping it in a file
	// it does not return).
	if err := setOffload(fd, tcpOffloads); err != nil {
		unix.Close(fd)
		return nil, &offloadRefusedError{name: name, err: os.NewSyscallError("ioctl TUNSETOFFLOAD", err)}, nil
	}
	wg, _, err := wgtun.CreateUnmonitoredTUNFromFD(fd)
	if err != nil {
		// wireguard-go wrapped fd in an *os.File it dropped: that file's
		// finalizer closes the descriptor (and so deletes a new
		// interface). Closing fd here could close a reused number.
		return nil, nil, fmt.Errorf("tun: open %q: offload driver: %w", name, err)
	}
	li, err := linkByName(name)
	if err != nil {
		wg.Close()
		return nil, nil, fmt.Errorf("tun: open %q: read back interface: %w", name, err)
	}
	// Keep every super-packet the kernel sends within one Read's worth
	// of buffers. Best effort: kernels before 5.19 ignore it, and then
	// only a path MSS below about 510 bytes can make a super-packet too
	// long (Read drops its tail; TCP resends).
	if li.GSOMaxSegs == 0 || li.GSOMaxSegs > batchSize {
		_ = setLinkGSOMaxSegs(li.Index, batchSize)
	}
	return &Device{name: name, index: li.Index, wg: wg}, nil, nil
}

// readOffload is Read for the offload driver.
func (d *Device) readOffload(bufs [][]byte, sizes []int, offset int) (int, error) {
	for {
		n, err := d.wgRead(bufs, sizes, offset)
		if n > 0 {
			// Possibly with ErrTooManySegments: the segments that did
			// not fit are lost; deliver the others.
			if err != nil {
				d.dropped.Add(1)
				d.lastDrop.Store(&err)
			}
			return n, nil
		}
		if d.closed.Load() {
			return 0, fmt.Errorf("tun %s: read: %w", d.name, os.ErrClosed)
		}
		if err == nil || !isIOError(err) {
			// A packet the driver could not split, or an empty one:
			// dropped, as a NIC drops a bad frame. The next read(2)
			// blocks again.
			d.dropped.Add(1)
			if err != nil {
				d.lastDrop.Store(&err)
			}
			continue
		}
		return 0, fmt.Errorf("tun %s: read: %w", d.name, err)
	}
}

// wgRead calls the offload driver's Read, turning a panic (a packet that
// does not fit its buffer) into an error.
func (d *Device) wgRead(bufs [][]byte, sizes []int, offset int) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("offload driver could not split a packet into the buffers given: %v", r)
		}
	}()
	return d.wg.Read(bufs, sizes, offset)
}

// isIOError reports whether err, from the offload driver's Read or Write,
// comes from the system call (or the descriptor being closed) rather than
// from a packet it could not handle.
func isIOError(err error) bool {
	var pe *os.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &errno) || errors.Is(err, os.ErrClosed)
}

// writeOffload is Write for the offload driver.
func (d *Device) writeOffload(bufs [][]byte, offset int) (n int, err error) {
	if offset < virtioNetHdrLen {
		return 0, fmt.Errorf("tun %s: write: offset %d is less than the offload driver's headroom %d", d.name, offset, virtioNetHdrLen)
	}
	if d.closed.Load() {
		return 0, fmt.Errorf("tun %s: write: %w", d.name, os.ErrClosed)
	}
	for i, b := range bufs {
		if len(b) <= offset {
			return 0, fmt.Errorf("tun %s: write packet %d: empty (length %d, offset %d)", d.name, i, len(b), offset)
		}
		// GRO appends within the capacity of the first buffer of a
		// flow; more than offset+MaxPacketSize would let an IPv4 total
		// length or a UDP length overflow.
		if limit := offset + MaxPacketSize; cap(b) > limit {
			if len(b) > limit {
				return 0, fmt.Errorf("tun %s: write packet %d: %d bytes, more than %d", d.name, i, len(b)-offset, MaxPacketSize)
			}
			bufs[i] = b[:len(b):limit]
		}
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("tun %s: write: offload driver failed on the batch: %v", d.name, r)
		}
	}()
	_, err = d.wg.Write(bufs, offset)
	if err == nil {
		return len(bufs), nil
	}
	if d.closed.Load() || errors.Is(err, os.ErrClosed) {
		return 0, fmt.Errorf("tun %s: write: %w", d.name, os.ErrClosed)
	}
	failed := 1
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		failed = max(len(j.Unwrap()), 1)
	}
	return max(len(bufs)-failed, 0), fmt.Errorf("tun %s: write: %w", d.name, err)
}

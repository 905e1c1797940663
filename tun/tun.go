package tun

import (
	"errors"
	"fmt"
)

// DefaultMTU is the MTU Open gives a device when Config.MTU is zero.
const DefaultMTU = 1500

// MaxMTU is the largest MTU the Linux TUN driver accepts.
const MaxMTU = 65535

// MinMTU is the smallest MTU the Linux TUN driver accepts (ETH_MIN_MTU).
const MinMTU = 68

// MaxPacketSize is the largest IP packet (IPv4 total length, or IPv6
// header plus payload without jumbograms) and so the largest GSO/GRO
// super-packet the offload driver reads or writes. See Device.Write for the
// buffer capacity that lets whole flows coalesce.
const MaxPacketSize = 65535

// maxNameLen is IFNAMSIZ-1: the kernel keeps interface names in 16 bytes,
// including the terminating NUL.
const maxNameLen = 15

// batchSize is the number of packets Read and Write move per call at most,
// as returned by Device.BatchSize. It matches wireguard-go's
// conn.IdealBatchSize.
const batchSize = 128

// Sentinel errors. Errors returned by Open wrap one of these (and the errno
// behind it, when there is one), so callers test them with errors.Is. Their
// text has no "tun:" prefix because they only appear wrapped in context
// that has one.
var (
	// ErrNoDevice means the TUN driver is not available: /dev/net/tun is
	// missing or the tun module is not loaded. It is also returned on
	// systems other than Linux.
	ErrNoDevice = errors.New("no TUN driver")

	// ErrPermission means the caller lacks CAP_NET_ADMIN (EPERM or EACCES
	// from the kernel).
	ErrPermission = errors.New("no CAP_NET_ADMIN")

	// ErrBadName means Config.Name is not a usable interface name: longer
	// than 15 bytes, ".", "..", or containing '/', ':', '%', NUL or
	// white space. The empty name is valid: the kernel picks "tunN".
	ErrBadName = errors.New("bad interface name")

	// ErrBusy means the name is taken: by an interface that is not a TUN
	// device, by a TUN device already attached to another file descriptor
	// (without multi-queue), or by a TUN device whose flags do not match
	// the request (multi-queue versus single queue). The kernel reports
	// these as EBUSY or EINVAL from TUNSETIFF.
	ErrBusy = errors.New("interface name in use")
)

// Config describes the TUN device Open creates or attaches to.
type Config struct {
	// Name is the interface name. Empty lets the kernel choose ("tun0",
	// "tun1", …); Device.Name reports the result. See ErrBadName for the
	// names that are refused.
	Name string

	// MTU is set on the interface when it is opened. Zero means DefaultMTU
	// (1500); otherwise it must lie within [MinMTU, MaxMTU].
	MTU int

	// MultiQueue opens the device with IFF_MULTI_QUEUE. Each Open with the
	// same Name and MultiQueue set attaches one more queue (file
	// descriptor) to the same interface; the kernel spreads flows across
	// queues. A multi-queue interface cannot be attached by a single-queue
	// Open and vice versa (ErrBusy). All queues of one interface use the
	// same driver (Offload), because the virtio-net header is a property
	// of the interface, not of the queue: attaching with the other one
	// fails with ErrBusy.
	MultiQueue bool

	// Offload selects the offload driver: the device is opened with
	// IFF_VNET_HDR and TUNSETOFFLOAD (checksum offload, TSO for IPv4 and
	// IPv6, and UDP segmentation offload where the kernel has it, Linux
	// 6.2+), and moved by wireguard-go's TUN driver
	// (golang.zx2c4.com/wireguard/tun). Read then splits each GSO
	// super-packet the kernel sends (up to 64 KiB of one TCP or UDP flow)
	// into MTU-sized packets in one read(2), and Write coalesces the TCP
	// and UDP packets of a batch into GRO super-packets, one write(2) each.
	//
	// If the kernel refuses the offloads, Open falls back to the plain
	// driver: Device.Offload reports false and Device.OffloadError says
	// why. False (the default) selects the plain driver
	// (github.com/songgao/water, one packet per read(2) and write(2)).
	Offload bool
}

// validateName reports whether name can be used as Config.Name. It applies
// the kernel's dev_valid_name rules plus a ban on '%', which the kernel
// would treat as a "tun%d" template.
func validateName(name string) error {
	if name == "" {
		return nil
	}
	bad := func(why string) error {
		return fmt.Errorf("tun: name %q: %s: %w", name, why, ErrBadName)
	}
	if len(name) > maxNameLen {
		return bad(fmt.Sprintf("longer than %d bytes", maxNameLen))
	}
	if name == "." || name == ".." {
		return bad("reserved name")
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '/', ':', '%', 0:
			return bad(fmt.Sprintf("contains %q", c))
		case ' ', '\t', '\n', '\v', '\f', '\r':
			return bad("contains white space")
		}
	}
	return nil
}

// normalize validates cfg and fills in defaults.
func (cfg Config) normalize() (Config, error) {
	if err := validateName(cfg.Name); err != nil {
		return cfg, err
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.MTU < MinMTU || cfg.MTU > MaxMTU {
		return cfg, fmt.Errorf("tun: MTU %d outside [%d, %d]", cfg.MTU, MinMTU, MaxMTU)
	}
	return cfg, nil
}

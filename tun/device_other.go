//go:build !linux

package tun

import (
	"fmt"
	"net/netip"
	"runtime"
)

// Device is a TUN device. Only Linux has them; elsewhere Open always fails
// and no Device exists.
type Device struct{}

func unsupported(op string) error {
	return fmt.Errorf("tun: %s: not supported on %s: %w", op, runtime.GOOS, ErrNoDevice)
}

// Open fails with ErrNoDevice: TUN devices are Linux-only here.
func Open(cfg Config) (*Device, error) {
	if _, err := cfg.normalize(); err != nil {
		return nil, err
	}
	return nil, unsupported("open")
}

// Name returns "".
func (d *Device) Name() string { return "" }

// Index returns 0.
func (d *Device) Index() int { return 0 }

// MTU returns 0.
func (d *Device) MTU() int { return 0 }

// SetMTU fails with ErrNoDevice.
func (d *Device) SetMTU(int) error { return unsupported("set MTU") }

// AddAddress fails with ErrNoDevice.
func (d *Device) AddAddress(netip.Prefix) error { return unsupported("add address") }

// SetUp fails with ErrNoDevice.
func (d *Device) SetUp(bool) error { return unsupported("set up") }

// Offload returns false.
func (d *Device) Offload() bool { return false }

// OffloadError returns nil.
func (d *Device) OffloadError() error { return nil }

// Dropped returns 0, nil.
func (d *Device) Dropped() (uint64, error) { return 0, nil }

// Headroom returns 0.
func (d *Device) Headroom() int { return 0 }

// BatchSize returns the batch size Linux devices use.
func (d *Device) BatchSize() int { return batchSize }

// Read fails with ErrNoDevice.
func (d *Device) Read([][]byte, []int, int) (int, error) { return 0, unsupported("read") }

// Write fails with ErrNoDevice.
func (d *Device) Write([][]byte, int) (int, error) { return 0, unsupported("write") }

// Close returns nil.
func (d *Device) Close() error { return nil }

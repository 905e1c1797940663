package bench

import "github.com/ws2go/ws2/tun"

// The one switch of the tun-offload path. offloadBuilt says whether package
// tun has the offload driver (tun.Config.Offload); set it to false to leave
// tun-offload out of the suite. tunConfig asks for the driver and
// offloadActive reports whether the device really runs it (the driver
// probes at run time and falls back to the plain one, in which case the
// tun-offload benchmarks fail rather than measure the water path twice).
const offloadBuilt = true

// tunConfig is the configuration of the TUN paths' device.
func tunConfig(mtu int, offload bool) tun.Config {
	return tun.Config{Name: tunIfName, MTU: mtu, Offload: offload}
}

// offloadActive reports whether dev runs the offload driver, or why not.
func offloadActive(dev *tun.Device) (bool, error) { return dev.Offload(), dev.OffloadError() }

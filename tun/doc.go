// Package tun opens Linux TUN devices and moves IP packets through them in
// batches.
//
// A [Device] is one queue of a layer-3 TUN interface (IFF_TUN|IFF_NO_PI): every
// Read returns whole IPv4 or IPv6 packets, with no link header and no packet
// information prefix. The device is opened with github.com/songgao/water; its
// interface (addresses, MTU, link state) is configured through rtnetlink with
// golang.org/x/sys/unix, never by running ip(8).
//
// Layering: tun imports the standard library, golang.org/x/sys,
// github.com/songgao/water and, if ever needed, gVisor's link and buffer
// packages. It never imports stack, provider or api; the stack package puts a
// gVisor NIC on top of a Device.
//
// Errors are wrapped with the operation and the device name. Open classifies
// kernel failures with the sentinels [ErrNoDevice], [ErrPermission],
// [ErrBadName] and [ErrBusy]; the underlying errno stays reachable with
// errors.Is (for example errors.Is(err, unix.EBUSY)).
//
// The offload fast path (IFF_VNET_HDR, TUNSETOFFLOAD, TSO/GRO) is not
// implemented yet. water cannot open a device with the virtio-net header, so
// that path will open /dev/net/tun itself and produce the same Device type;
// Read and Write already take batches and an offset for the header room it
// will need.
//
// Only Linux is supported. On other systems Open fails with [ErrNoDevice].
package tun

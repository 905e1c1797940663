// Package tun opens Linux TUN devices and moves IP packets through them in
// batches.
//
// A [Device] is one queue of a layer-3 TUN interface (IFF_TUN|IFF_NO_PI): every
// Read returns whole IPv4 or IPv6 packets, with no link header and no packet
// information prefix. Its interface (addresses, MTU, link state) is
// configured through rtnetlink with golang.org/x/sys/unix, never by running
// ip(8), whichever driver moves the packets.
//
// # Drivers
//
// [Config].Offload chooses one of two drivers; both give the same *Device
// with the same methods.
//
// The plain driver (the default) opens the device with
// github.com/songgao/water. Read parks until a packet is ready, then drains
// what the kernel has queued, one read(2) per packet; Write makes one
// write(2) per packet. It works on every kernel and needs no headroom.
//
// The offload driver opens /dev/net/tun itself with IFF_VNET_HDR, asks for
// TUNSETOFFLOAD (TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6, plus TUN_F_USO4|USO6 where
// the kernel has them, Linux 6.2+) and moves packets with wireguard-go's
// Linux TUN driver (golang.zx2c4.com/wireguard/tun), created unmonitored so
// that it starts no goroutine and leaves the MTU alone. The kernel then
// sends TCP (and UDP GSO) traffic as super-packets of up to 64 KiB with a
// virtio-net header; one Read makes one read(2) and splits a super-packet
// into MTU-sized packets with their own headers and checksums. Write
// coalesces the TCP and UDP segments of each flow in a batch into GRO
// super-packets (NEEDS_CSUM, the kernel finishes the checksum) and makes
// one write(2) per super-packet. Open sets the interface's gso_max_segs to
// BatchSize so that a super-packet always fits one Read's buffers.
//
// Requirements and limits of the offload driver:
//   - Write needs [Device.Headroom] (10) bytes in front of each packet for
//     the virtio-net header, and capacity behind it to coalesce into
//     (offset+[MaxPacketSize] per buffer for whole super-packets). It
//     changes the buffers and the bufs slice, and consumes the batch even
//     on error (see [Device.Write]).
//   - Only packets with valid TCP/UDP checksums are coalesced; IPv4
//     packets with options or fragments, and everything other than TCP and
//     UDP, are written one by one, as the plain driver does.
//   - One Read returns the packets of one read(2) (one super-packet, or
//     one packet), not a drained queue.
//   - All queues of a multi-queue interface must use the same driver (the
//     virtio-net header is a property of the interface); Open refuses a
//     mismatch with [ErrBusy].
//   - If the kernel refuses TUNSETOFFLOAD, Open falls back to the plain
//     driver: [Device.Offload] reports false and [Device.OffloadError] the
//     kernel's answer. IFF_VNET_HDR itself has been in every kernel since
//     2.6.27, and TSO/checksum offload with it.
//   - With gVisor on the other side of the device, a bidirectional TCP
//     connection whose gVisor application waits to write before reading
//     again can stall for good, more often with this driver than with the
//     plain one: a gVisor receive-window bug, see the stack package's
//     "Known issue".
//
// Layering: tun imports the standard library, golang.org/x/sys,
// github.com/songgao/water, golang.zx2c4.com/wireguard/tun (the offload
// driver) and, if ever needed, gVisor's link and buffer packages. It never
// imports stack, provider or api; the stack package puts a gVisor NIC on
// top of a Device.
//
// Errors are wrapped with the operation and the device name. Open classifies
// kernel failures with the sentinels [ErrNoDevice], [ErrPermission],
// [ErrBadName] and [ErrBusy], for both drivers; the underlying errno stays
// reachable with errors.Is (for example errors.Is(err, unix.EBUSY)).
//
// Only Linux is supported. On other systems Open fails with [ErrNoDevice].
package tun

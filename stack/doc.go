// Package stack builds one gVisor netstack instance — the userspace TCP/IP
// host that ws2's base transport provider runs on — and attaches its NICs.
//
// [New] creates a [Stack] with IPv4, IPv6, TCP, UDP, ICMPv4 and ICMPv6
// (raw endpoints enabled), with the TCP knobs of [Options] applied: SACK
// and receive-buffer auto-tuning on, configurable buffer ranges and
// congestion control. NICs come in three kinds:
//
//   - [Stack.AddLoopback]: an in-process loopback (127.0.0.1/8 and ::1).
//   - [Pipe]: a point-to-point in-memory link between two Stacks. A packet
//     written on one side is delivered to the other in the writer's
//     goroutine, with no queue and no copy of the payload.
//   - [Stack.AddTUN]: a NIC over a Linux TUN device (package tun), read in
//     batches by one goroutine per NIC. Over a device with the plain
//     driver the NIC writes each packet in the sending goroutine. Over a
//     device with the offload driver (tun.Config.Offload) it reads the
//     MTU-sized packets of one GSO super-packet per batch, and sends
//     through gVisor's fifo queueing discipline (one queue of 4096 packets
//     and its goroutine), which hands the device batches of up to 47
//     packets that the driver coalesces into GRO super-packets; packets
//     sent while the queue is full are dropped, as by any NIC queue.
//     Checksums are computed and verified by gVisor with either driver.
//
// Any NIC can carry a pcap capture ([NICConfig].Pcap, gVisor's sniffer).
// Importing this package sets gVisor's sniffer.LogPackets to 0, so that a
// capture does not also log every packet as text to stderr.
//
// # Known issue: gVisor's zero-window acceptability test
//
// gVisor (the version in go.mod) judges an incoming segment against its
// receive window as last advertised after window scaling, rounded down:
// when less than one scale unit (128 bytes at scale 7) is free it
// advertises 0, shrinking the window by those bytes, and then rejects the
// segments the peer had already sent into them, together with their
// acknowledgment field, which it never processes (RFC 9293 §3.10.7.4 asks
// to accept the ACK of an unacceptable segment when the window is zero).
// If the application on the gVisor side waits to write before it reads
// again (a one-goroutine echo or proxy) while the peer also sends, the
// peer's ACKs are lost, gVisor's writes never complete, and the connection
// stalls for good. Any link can show it; the TUN offload driver makes it
// likelier (a GSO burst is processed while gVisor ACKs mid-burst). Reading
// and writing in separate goroutines avoids it. The fix belongs in gVisor's
// tcp receiver (upstream google/gvisor#1610, #10312).
//
// Layering: stack imports tun and gVisor only; never wsa, provider or api.
// Only provider/netstack (and tests, benchmarks, cmd) use [Stack.GVisor] to
// reach gVisor itself; gVisor types appear in this package's API only as
// tcpip.NICID and the *stack.Stack returned by GVisor.
//
// Errors from gVisor are returned as *[Error], which keeps the tcpip.Error
// value so that callers can switch on its concrete type.
package stack

// Package shaper is a layered service provider for testing applications
// under bad networks: token-bucket rate limits per socket and per catalog
// entry, an added delay, and datagram loss, all on what the sockets of its
// chains send.
//
//   - Rates (Limits.SocketRate, EntryRate, in bytes per second, with their
//     bursts) use golang.org/x/time/rate buckets: one per socket, and one
//     per chain entry shared by all its sockets (in every Session over the
//     catalog). A send waits until both buckets hold its bytes, then is
//     handed down whole.
//   - Delay (Limits.Delay) hands every send down that long after the
//     application issued it. Sends keep their order: each socket's sends
//     queue behind one another, so overlapped sends issued together overlap
//     their delays (a pipe with latency) while blocking sends pay it each.
//   - Loss (Limits.Loss) drops datagrams of datagram sockets with that
//     probability: the send succeeds and nothing leaves, as on a lossy
//     link. Decisions come from a generator seeded with Limits.Seed, so a
//     test that sends the same sequence loses the same datagrams. Stream
//     sockets are never made to lose data: TCP repairs loss below the
//     socket, and a layer above TCP cannot drop bytes without breaking the
//     stream, so a lossy TCP path shows here only as delay and rate (shape
//     the link itself, below the stack, to see retransmissions).
//
// How sends are held: a blocking send (and any send on a socket made
// without WSA_FLAG_OVERLAPPED) blocks its caller until handed down, also on
// a non-blocking socket (documented deviation: the shaper models a slow path
// by delay, not by WSAEWOULDBLOCK; FD_WRITE is the base's). An overlapped
// send returns WSA_IO_PENDING at once and is handed down later with the
// application's WSAOVERLAPPED, so the base completes it as usual;
// CancelIo/CancelIoEx and closesocket abort the sends still waiting
// (WSA_OPERATION_ABORTED; WSAEINTR for a blocked caller), and an error the
// next provider returns when a queued overlapped send is handed down (a
// filter's WSAEACCES below the shaper, a reset) becomes its completion. Shaped: send,
// WSASend, sendto, WSASendTo and WSASendMsg. TransmitFile, TransmitPackets
// and ConnectEx's first data pass unshaped, and receives are never shaped
// (shape the sender, or put a shaper on the other host).
//
// Limits come with New (Config.Limits) and change with SetLimits, from the
// next send of every socket. Zero limits make the layer a pure
// pass-through.
//
// Use: New, then Register (for a catalog that already holds the layer's
// entries) or Install (Register, then provider.InstallLayer over chosen
// entries). The layer stacks with the other layers of provider/lsp in any
// order.
//
// Imports: provider, wsa, the standard library and golang.org/x/time/rate.
package shaper

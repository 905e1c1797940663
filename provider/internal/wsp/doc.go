// Package wsp holds what ws2's base transport providers share that does
// not depend on their transport: the Winsock rules themselves, so that the
// netstack provider (gVisor) and the host provider (the kernel's sockets)
// answer alike.
//
//   - BindTable: the Windows SO_REUSEADDR / SO_EXCLUSIVEADDRUSE table
//     (spec §5.7) and ephemeral ports; Reserve tells the commit which
//     holders the new socket shares the port with, for transports with
//     rules of their own.
//   - Addr, ParseAddr, Sockaddr, AnyAddr, IsLimitedBroadcast: the checks
//     Winsock makes on sockaddrs, and the v4-mapped form of IPv4 addresses
//     on dual-stack sockets; AddressToString, StringToAddress.
//   - TCPIPEntry, CheckVersion, SameUpcalls, CheckSocketArgs, Backlog,
//     BufLen, the flag sets and datagram limits: catalog entries modelled
//     on MSAFD's and the argument rules of WSPStartup, WSPSocket, listen,
//     recv and send.
//   - Conditions: a socket's state in the terms of the I/O models, and
//     their mapping to select sets, WSAPoll revents and FD_* records
//     (spec §5.1-§5.4).
//   - Readiness: the per-socket readiness and notification core (a channel
//     closed per event, observers, Block for the blocking calls); Select,
//     Poll and WaitReady over it; EventState, the WSAEventSelect /
//     WSAAsyncSelect registration and the FD_* recording rules.
//   - Queues and Op: overlapped I/O (spec §5.5), ordered per-socket queues
//     of non-blocking try steps, completion through
//     provider.CompleteOverlapped, cancellation, GetOverlappedResult.
//   - The extension functions' transport-independent parts: the AcceptEx
//     address blocks (Wine's layout) and GetAcceptExSockaddrs, TransmitFile
//     and TransmitPackets segments and transmitters, per-table extension
//     handles (Extensions, ExtensionPointer).
//
// A provider keeps what is its transport's: the sockets, the try steps
// over its endpoints, the translation of its errors, its options. The host
// provider uses all of it. The netstack provider uses the bind table, the
// sockaddr checks, the catalog entries and argument rules, Select and
// Poll, the AcceptEx blocks, the transmitters and the extension handles;
// its readiness core, FD_* machinery and overlapped queues are still its
// own (the originals these were generalized from) until it moves to
// Readiness, EventState and Queues.
//
// Imports: provider, wsa and the standard library only.
package wsp

// Package netstack is ws2's base transport provider: the analog of MSAFD
// (mswsock.dll over afd.sys and tcpip.sys), serving TCP, UDP and raw IP
// over IPv4 and IPv6 from one gVisor netstack instance (package stack).
//
// # What it is
//
// [New] returns the [Provider] of one stack; its Startup is the WSPStartup
// (a provider.StartupFunc) and hands back the WSP procedure table. [Install]
// registers it in a catalog's registry under a path ([DefaultPath] stands
// for mswsock.dll) and installs the catalog entries of [Protocols], modelled
// on MSAFD's (spec §4.4): "MSAFD Tcpip [TCP/IP]", "[UDP/IP]",
// "[TCP/IPv6]", "[UDP/IPv6]", "[RAW/IP]", "[RAW/IPv6]", with MSAFD's
// provider GUIDs, service flags, sockaddr sizes and message sizes. The RAW
// entries come last (ids 1005 and 1006 on a fresh catalog), where Windows
// puts RAW/IP third (1003): the TCP and UDP entries keep the ids they had
// before raw sockets existed here (see [InstallProtocols]).
//
// Socket handles are made with the upcall WPUCreateSocketHandle, carrying
// the provider's per-socket state as context; every routine finds its state
// again with WPUQuerySocketHandleContext (an unknown handle is WSAENOTSOCK).
//
// # Structure
//
//   - errors.go is the one translation of gVisor's tcpip.Error into Winsock
//     errors; the cases where the answer depends on the call (a FIN is a
//     0-byte recv, an ICMP port unreachable is WSAECONNRESET on UDP, ...)
//     are decided by the callers and listed there.
//   - readiness.go is the one place where gVisor's waiter events enter: each
//     socket registers one waiter.Entry that feeds its wsp.Readiness core,
//     and blocked callers park on a channel closed at the next event;
//     socket.conditions derives readable, writable, connected, failed and
//     closed from it (wsp.Conditions), for the I/O models to build on.
//     A stream socket's endpoint is created at its first use (lookup,
//     socket.ensureEndpoint), not by WSPSocket, so that an AcceptEx accept
//     socket, which takes the accepted connection's endpoint, never has
//     one of its own; until then its conditions are a fresh socket's.
//     Nothing polls, with one exception: a lingering closesocket also
//     re-checks with a backoff, because gVisor signals nothing when our FIN
//     is acknowledged.
//   - Every data operation is a non-blocking "try" step (tryRecvStream,
//     trySendStream, tryRecvDgram, trySendDgram, tryAccept) run by a wait
//     loop (wsp.Readiness.Block) that ends on the condition, on SO_RCVTIMEO or
//     SO_SNDTIMEO (WSAETIMEDOUT; overlapped sockets only) or on closesocket
//     from another goroutine (WSAEINTR), so that overlapped I/O can reuse
//     the steps.
//   - bindtable.go decides every bind by Windows' SO_REUSEADDR /
//     SO_EXCLUSIVEADDRUSE table (spec §5.7) and hands out ephemeral ports;
//     gVisor's own reuse flags are set so that it accepts what the table
//     allows and load-balances only between sockets that both asked for
//     SO_REUSEADDR on the same address.
//   - What does not depend on gVisor is shared with the host provider in
//     package provider/internal/wsp: the bind table, the sockaddr checks,
//     the catalog entries and argument rules, select and WSAPoll, the
//     AcceptEx address blocks, the TransmitFile / TransmitPackets
//     transmitters and the extension handles.
//   - Data moves between the caller's buffers and gVisor with no copy of our
//     own: a scatter writer fills the WSABUFs from gVisor's views on receive,
//     a gather reader feeds them to gVisor's packet buffers on send.
//
// # Winsock semantics on a Linux-like stack
//
// Where gVisor follows Linux, the provider gives Windows' answers: a
// non-blocking connect fails WSAEWOULDBLOCK, then WSAEALREADY, then
// WSAEISCONN, and may be retried after a failure (the endpoint is replaced);
// a connect gives up after [DefaultConnectTimeout] (Windows' ~21 s, gVisor
// would retry ~63 s); connecting to INADDR_ANY is WSAEADDRNOTAVAIL (gVisor
// would go to loopback); IPV6_V6ONLY defaults to TRUE; shutdown(SD_RECEIVE)
// on TCP resets the connection when data is queued or arrives; a datagram
// larger than the buffers fills them and fails WSAEMSGSIZE, the rest
// discarded; linger follows spec §5.6; the accept condition function may
// accept, reject (reset, WSAECONNREFUSED) or defer (WSATRY_AGAIN, offered
// again); an accepted socket inherits the listener's options; SO_RCVTIMEO
// and SO_SNDTIMEO are DWORD milliseconds.
//
// # select, WSAPoll and network events
//
// WSPSelect and WSPPoll (select.go: wsp.Select, wsp.Poll) and the FD_*
// events of WSPEventSelect and WSPAsyncSelect (events.go) are all derived
// from the readiness core's conditions. select and WSAPoll put an observer
// on each socket for the length of the wait; a registration keeps one that
// only starts a short-lived goroutine to evaluate and record, so idle
// sockets cost no CPU (about 170 bytes per registration). Recording follows
// spec §5.1/§5.2: conditions true at registration are recorded at once;
// a recorded event waits for its re-enabling call (wsp.EventState.Reenable, hooked
// into the recv, send, accept and connect paths), FD_READ and FD_ACCEPT
// level-triggered; FD_WRITE at connect or accept and then only after
// WSAEWOULDBLOCK; FD_CLOSE once the data is drained, with 0, WSAECONNRESET
// or WSAECONNABORTED; accepted sockets inherit the listener's
// registration. Choices where Windows is silent or gVisor differs: FD_OOB,
// POLLRDBAND and out-of-band exceptfds never occur (no urgent data);
// FD_CONNECT is recorded at registration only for a connected socket, never
// for an accepted one; a connect that fails at once (no route) returns its
// error without FD_CONNECT; data queued before a reset stays readable (FD_READ,
// then FD_CLOSE with WSAECONNRESET after it is read); WSAPoll reports POLLHUP
// as soon as the peer's FIN or reset arrives, with POLLERR for a reset; a
// socket closed while select waits is reported ready in each set holding
// it (POLLNVAL for WSAPoll); a registration with no event or window is
// WSAEINVAL; WSPEnumNetworkEvents on a WSAAsyncSelect registration returns
// an empty record.
//
// # Overlapped I/O and extension functions
//
// Overlapped calls (overlapped*.go) are operations in ordered per-socket
// queues (receives, sends, AcceptEx, ConnectEx), each a non-blocking try
// built from the same try steps as the blocking calls. An operation is
// tried at once when its queue is empty (completed: delivered, then nil;
// else WSA_IO_PENDING); later a per-socket pump goroutine, started by the
// readiness observer only while operations are pending and an event
// arrives, retries the queue heads, so operations complete in issue order
// and an idle socket runs nothing. Every completion goes through
// provider.CompleteOverlapped (WSAE* code in OffsetHigh, flags in Offset).
// WSPCancelIo (provider.Canceler), closesocket and WSPCleanup complete what
// is pending with WSA_OPERATION_ABORTED; WSPGetOverlappedResult waits on the
// operation itself when asked to. The extension functions (ext*.go):
// AcceptEx (the first data, then Wine's address blocks; the connection is
// attached to the given accept socket; completion on the listener's handle;
// names hidden, and the listener's options and WSAEventSelect /
// WSAAsyncSelect registration not inherited, until SO_UPDATE_ACCEPT_CONTEXT,
// as in MSAFD), GetAcceptExSockaddrs, ConnectEx, DisconnectEx and
// TF_REUSE_SOCKET, TransmitFile and TransmitPackets (send-queue operations
// reading the file with ReadAt in chunks, no goroutine of their own),
// WSARecvMsg and WSASendMsg with IP_PKTINFO / IPV6_PKTINFO. A datagram
// receive truncated at once
// (WSARecv, WSARecvFrom, WSARecvMsg) delivers its completion with
// WSAEMSGSIZE and returns WSAEMSGSIZE, as Windows does; any other error at
// once means "not started", with no completion. An OVERLAPPED may be
// reissued as soon as its completion is visible. Choices where Windows is
// silent or differs: ConnectEx, DisconnectEx, TransmitFile and WSARecvMsg /
// WSASendMsg on the wrong socket type fail WSAEOPNOTSUPP; an AcceptEx
// address length below the sockaddr size + 16 is WSAEFAULT at once; the
// extension functions accept a nil OVERLAPPED and then block; WSASendMsg
// honours IP_PKTINFO only for the source gVisor would use anyway
// (WSAEINVAL otherwise; IPV6_PKTINFO is fully honoured).
//
// # Raw sockets
//
// SOCK_RAW sockets (raw*.go) take any protocol 0..255 on the [RAW/IP] and
// [RAW/IPv6] entries (socket(AF_INET, SOCK_RAW, n) selects [RAW/IP]; n is
// the IP protocol field), on gVisor's raw endpoints. Opening one needs the
// privilege of [Provider.RawAllowed], else it fails WSAEACCES as for a
// non-Administrator on Windows: by default the process's CAP_NET_RAW (the
// privilege Linux asks of raw sockets standing for Administrator; the
// userspace stack itself needs none), overridden by
// [Provider.SetRawAllowed].
//
// A send is one datagram whose bytes are the IP payload (an ICMP message
// with the checksum the application computed; the stack computes ICMPv6
// checksums, as RFC 3542 has it), or with IP_HDRINCL (IPPROTO_IP, BOOL, raw
// IPv4 sockets only) the whole IPv4 datagram: the stack sets the total
// length and header checksum, and the source address and identification
// when they are zero. The largest datagram, and SO_MAX_MSG_SIZE, is 65515
// bytes over IPv4 (65535 with IP_HDRINCL) and 65535 over IPv6. A sockaddr's
// port is ignored; the unspecified address is WSAEADDRNOTAVAIL, the limited
// broadcast without SO_BROADCAST WSAEACCES.
//
// Every raw socket of a protocol gets a copy of each datagram of that
// protocol addressed to the stack (after reassembly), including those the
// stack answers itself (echo requests) and the socket's own datagrams to a
// local address; bind filters on the destination, connect on the source.
// IPv4 sockets receive the IPv4 header in front of the payload, IPv6
// sockets what follows the IPv6 headers, as on Windows; the source
// sockaddr has port 0. Otherwise the datagram rules are UDP's: recvfrom
// before bind or a first send is WSAEINVAL; a datagram larger than the
// buffers fills them and fails WSAEMSGSIZE, the rest discarded. bind takes
// one of the stack's addresses and no port (no SO_REUSEADDR table);
// getsockname shows port 0; connect sets the default destination and
// getpeername reports it; connect to the unspecified address dissolves it.
//
// gVisor hands raw endpoints only the protocols it implements: ICMP (1),
// TCP (6), UDP (17) and ICMPv6 (58), in either family. A raw IPv4 socket of
// any other protocol, 0 (IPPROTO_IP) and 255 (IPPROTO_RAW) included, is
// send-only: it sends datagrams of its protocol (with IP_HDRINCL, whatever
// header it is given) and never receives, as MSL says of protocol 0 (the
// receive-all ioctl SIO_RCVALL is not implemented). A raw IPv6 socket of
// any other protocol fails WSAEPROTONOSUPPORT: gVisor can neither send nor
// receive it. IPPROTO_RAW does not imply IP_HDRINCL (a Linux rule, not a
// Windows one).
//
// Deviations: a raw datagram larger than the route's MTU fails WSAEMSGSIZE
// (gVisor does not fragment raw datagrams; Windows does). IPV6_HDRINCL is
// not supported (WSAENOPROTOOPT). The limits client Windows puts on raw TCP
// (no TCP data sent, no bind) are not modelled: raw sockets behave as on
// Windows Server. Raw IPv6 sockets carry IPv6 only, whatever IPV6_V6ONLY
// says: a v4-mapped destination is WSAEAFNOSUPPORT, a v4-mapped bind
// WSAEADDRNOTAVAIL. Dissolving a connection replaces the gVisor endpoint,
// so datagrams not yet read are dropped. SO_PROTOCOL_INFOW reports the
// catalog entry (protocol 0, ProtocolMaxOffset 255), not the socket's
// protocol.
//
// # Documented deviations
//
//   - Urgent data: gVisor's TCP has no urgent (OOB) data, so it cannot be
//     done truthfully. MSG_OOB on send or recv fails WSAEOPNOTSUPP
//     (WSAEINVAL with SO_OOBINLINE on, as Windows checks that first);
//     SIOCATMARK always reports TRUE ("no urgent data waiting");
//     SO_OOBINLINE is accepted and stored. The catalog entries keep MSAFD's
//     XP1_EXPEDITED_DATA flag, as the brief asks for its exact flags.
//   - FIONREAD on a datagram socket is the size of the next datagram;
//     gVisor does not expose the total of all queued datagrams that Windows
//     reports.
//   - An ICMP port unreachable makes a later receive fail WSAECONNRESET only
//     on a connected UDP socket (and only if SIO_UDP_CONNRESET is on):
//     gVisor drops the ICMP error for unconnected sockets.
//   - A non-blocking closesocket with l_linger > 0 starts the graceful
//     disconnect and waits up to about a round trip for it to be
//     acknowledged before failing WSAEWOULDBLOCK (Windows checks for
//     unacknowledged data without starting it; gVisor does not expose that).
//   - WSASendDisconnect/WSARecvDisconnect with disconnect data fail
//     WSAENOPROTOOPT, as MSL documents for providers without disconnect data.
//   - A sockaddr shorter than the socket's family needs (sockaddr_in to an
//     AF_INET6 socket) is WSAEFAULT; a sockaddr_in6 given to an AF_INET
//     socket is WSAEAFNOSUPPORT.
//   - SO_MAX_MSG_SIZE is 65507 (IPv4) or 65527 (IPv6) for UDP, the largest
//     datagram send accepts, and 0 for TCP.
//
// # Not yet
//
// Registered I/O (SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER) returns
// WSAEOPNOTSUPP; WSPDuplicateSocket returns WSAEOPNOTSUPP (no
// second process to duplicate into); WSPJoinLeaf, WSPGetQOSByName and
// WSPCancelBlockingCall are obsolete and return WSAEOPNOTSUPP.
//
// # Imports and concurrency
//
// It imports provider, wsa, stack, gVisor and the standard library; never
// api. Every routine may be called from many goroutines at once; blocking
// routines park on readiness; closesocket from another goroutine ends a
// call blocked on that socket with WSAEINTR, and no goroutine of the
// provider outlives the sockets.
package netstack

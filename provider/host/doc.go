// Package host is ws2's second base transport provider: TCP and UDP over
// IPv4 and IPv6 on the host kernel's own sockets (golang.org/x/sys/unix),
// with the same Winsock semantics as the netstack provider. It makes
// protocol independence visible (an application selecting protocols by
// their attributes runs unchanged over either provider, in either catalog
// order) and is the kernel baseline of the benchmarks.
//
// # What it is
//
// [New] returns a [Provider]; its Startup is the WSPStartup (a
// provider.StartupFunc) and hands back the WSP procedure table. [Install]
// registers it in a catalog's registry under a path ([DefaultPath]) and
// installs the entries of [Protocols]: "ws2 Host [TCP/IP]", "[UDP/IP]",
// "[TCP/IPv6]", "[UDP/IPv6]", with MSAFD's service flags, sockaddr sizes
// and message sizes (spec §4.4) but the provider's own GUIDs
// ([HostTCPIPProviderID], [HostTCPIP6ProviderID]), so that it can sit
// before or after netstack in one catalog. Socket handles are made with
// WPUCreateSocketHandle, carrying the provider's per-socket state.
//
// # Readiness: one epoll instance, one goroutine
//
// Every kernel socket is non-blocking; no system call ever waits. Each
// Provider owns one epoll instance and one goroutine that dispatches its
// events (poller.go), from its first WSPStartup to its last WSPCleanup.
// Every descriptor is registered once, edge-triggered, for
// EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLPRI (EPOLLERR and EPOLLHUP come
// unasked), under a registration number, never the descriptor itself,
// which the kernel reuses; each event is handed to that socket's readiness
// core (wsp.Readiness), which wakes blocked calls and runs the observers of
// select, WSAPoll, the FD_* events and the overlapped pump. That is exactly
// the notification model of gVisor's waiter queues, so the provider is
// built like netstack, from the same shared machinery (package
// provider/internal/wsp). Idle sockets cause no wake-up at all; blocked
// calls, select, WSAPoll and event registrations park on channels.
//
// The goroutine does not block in epoll_wait: the epoll descriptor itself
// (readable while events are ready) is in Go's runtime poller (os.NewFile,
// syscall.RawConn), where the goroutine parks as a reader of a net.Conn
// does. The runtime's netpoll makes it runnable when events are ready; it
// collects them with epoll_wait and no timeout, dispatches them and parks
// again. No OS thread is held in a blocking system call, so a wake-up
// costs no thread hand-off, and the goroutine an event readies (a blocked
// call, or the goroutine waiting for an overlapped completion, which then
// runs the pump itself through the api's WPUAssist) runs next on the same
// processor. Operations are tried at once when they are issued (Winsock
// allows immediate completion), so the poller is involved only when a call
// has to wait.
//
// The sockets themselves are not in the runtime poller: it has no
// callback, so observing a socket would take a goroutine parked in RawConn
// per socket and direction (10,000 idle registered sockets would be 20,000
// goroutines); it reports neither EPOLLPRI (urgent data) nor EPOLLRDHUP
// and EPOLLERR apart from readability; and its close waits for those
// goroutines.
//
// Conditions (readable, writable, connected, failed, closed, urgent data;
// wsp.Conditions) are computed when asked, from poll(2) with no wait on the
// descriptor, TCP_INFO's state, SIOCINQ and the socket's own state, and
// turned into select sets, WSAPoll revents and FD_* records by wsp, alike
// for both providers.
//
// A descriptor is held against closesocket from another goroutine by a
// read lock around each system call (socket.fdmu); closesocket, AcceptEx
// and TF_REUSE_SOCKET replace or close it under the write lock, so a
// descriptor number is never used after the kernel may have reused it.
//
// # Winsock semantics on the Linux stack
//
// Where Linux answers differently, the provider gives Windows' answers:
//
//   - connect: a non-blocking connect fails WSAEWOULDBLOCK (the kernel's
//     EINPROGRESS), then WSAEALREADY, then WSAEISCONN; a failed attempt is
//     reported in exceptfds only (select), as POLLHUP|POLLERR (WSAPoll), by
//     FD_CONNECT with its error and in SO_ERROR (cleared when read), and
//     connect may be called again (the kernel socket is disconnected with
//     connect(AF_UNSPEC) first, keeping its binding); the handshake is
//     bounded by [DefaultConnectTimeout] (Windows' ~21 s, Linux would retry
//     ~127 s); connecting to INADDR_ANY is WSAEADDRNOTAVAIL (Linux would go
//     to loopback).
//   - Binding (bind.go): every bind is decided by the provider's own
//     SO_REUSEADDR / SO_EXCLUSIVEADDRUSE table (wsp.BindTable, one per
//     Provider, spec §5.7), and the kernel is then made to accept exactly
//     what it allowed: Linux's SO_REUSEADDR and SO_REUSEPORT are set only
//     on sockets the table lets share a port (the new one and the holders
//     it overlaps), just before the bind. No other socket gets them, so
//     another process or another Provider cannot share a port of ours, and
//     two of ours never share one by accident. Ephemeral ports (bind to
//     port 0, the implicit bind of connect and sendto) are chosen by the
//     table in Windows' range 49152-65535 and bound explicitly (so a failed
//     connect keeps its port); one the kernel refuses is skipped.
//   - IPV6_V6ONLY defaults to TRUE and may be changed only before bind.
//   - shutdown(SD_RECEIVE) on TCP resets the connection when data is
//     queued or arrives later (the kernel's SHUT_RD would not); the reset
//     is connect(AF_UNSPEC), which sends a RST and leaves the socket open.
//   - A datagram larger than the buffers fills them and fails WSAEMSGSIZE
//     (recvmsg's MSG_TRUNC), the rest discarded; MSG_PEEK applies the same
//     rule.
//   - ICMP port unreachable: the next receive on the UDP socket fails
//     WSAECONNRESET, connected or not (the kernel's IP_RECVERR /
//     IPV6_RECVERR, with the error queue drained), unless
//     SIO_UDP_CONNRESET is off; other ICMP errors are not reported, as on
//     Windows by default.
//   - Linger (spec §5.6) is the provider's: the kernel's SO_LINGER is only
//     ever set to {1, 0} for an abortive close, because a Linux close with
//     a linger time blocks the thread even on a non-blocking socket. A
//     lingering close sends FIN and waits for TCP_INFO's state to show it
//     acknowledged (the one wait that re-checks with a backoff, as the
//     kernel signals no event for it), then closes, or resets at the time
//     limit; a non-blocking one fails WSAEWOULDBLOCK meanwhile.
//   - SO_RCVTIMEO and SO_SNDTIMEO are DWORD milliseconds, applied by the
//     provider's waits (overlapped sockets only, as in Windows); SO_RCVBUF,
//     SO_SNDBUF, IP_TOS, the keep-alive times and the linger structure read
//     back as set (Linux doubles buffer sizes); Windows' keep-alive defaults
//     (2 h, 1 s, 10 probes) are applied to every TCP socket.
//   - Urgent data (spec §5.9) is real: Linux implements TCP urgent data
//     BSD-style, as Windows does by default. send(MSG_OOB) sends it;
//     recv(MSG_OOB) returns the urgent byte (WSAEINVAL with SO_OOBINLINE
//     on; without urgent data it waits, or WSAEWOULDBLOCK); a normal recv
//     stops at the mark and never returns an out-of-line urgent byte;
//     SIOCATMARK is TRUE when no urgent data is waiting and FALSE when some
//     is (Windows' phrasing, the inverse of BSD's); urgent data with
//     SO_OOBINLINE off records FD_OOB, puts the socket in select's
//     exceptfds and reports POLLRDBAND; with SO_OOBINLINE on it is ordinary
//     data (FD_READ).
//   - The accept condition function may accept, reject (the connection is
//     reset: WSAECONNREFUSED) or defer (WSATRY_AGAIN, offered again); an
//     accepted socket inherits the listener's options and registration.
//   - Errors: errors.go is the one errno → WSAE* table (with a table
//     test); EPIPE is WSAESHUTDOWN for a send after shutdown(SD_SEND) and
//     WSAECONNRESET as a connection's pending error; a reset is sticky, as
//     Winsock reports it on every later call while the kernel reports it
//     once.
//
// # I/O models and extension functions
//
// select, WSAPoll and WSAEventSelect / WSAAsyncSelect follow spec §5.1-§5.4
// through wsp (Select, Poll, EventState), overlapped I/O spec §5.5 through
// wsp.Queues (ordered per-socket queues of non-blocking try steps, a pump
// goroutine only while operations are pending and an event arrives,
// completion through provider.CompleteOverlapped, cancellation), and the
// extension functions (AcceptEx attaching the kernel's accepted
// connection to the accept socket, GetAcceptExSockaddrs, ConnectEx,
// DisconnectEx and TF_REUSE_SOCKET with a fresh kernel socket,
// TransmitFile and TransmitPackets through wsp's transmitters,
// WSARecvMsg and WSASendMsg translating IP_PKTINFO / IPV6_PKTINFO between
// Windows' and the kernel's control data) behave as in the netstack
// provider, whose documentation lists the choices where Windows is
// silent.
//
// # Documented deviations
//
//   - FIONREAD on a datagram socket is the size of the next datagram (the
//     kernel's SIOCINQ), not the total of all queued datagrams.
//   - Other processes: a port held by a socket outside the provider is
//     WSAEADDRINUSE whatever the options (Windows' SO_REUSEADDR would take
//     it over), and so is a port with one of our closed connections in
//     TIME_WAIT (Linux refuses it without SO_REUSEADDR on both).
//   - A non-blocking closesocket with l_linger > 0 first starts the
//     graceful disconnect and waits up to about a round trip for its
//     acknowledgement, as the netstack provider does.
//   - WSARecvMsg flags MSG_BCAST only for the limited broadcast address
//     (the kernel does not tell a subnet-directed broadcast apart).
//   - WSASendMsg with a PKTINFO source that is not one of the host's
//     addresses fails WSAEINVAL (IPv4) or WSAEADDRNOTAVAIL (IPv6), as the
//     netstack provider answers.
//   - TCP_KEEPCNT above 127 is reported as set but the kernel uses 127;
//     keep-alive times are whole seconds in the kernel (rounded up).
//   - WSASendDisconnect/WSARecvDisconnect with disconnect data fail
//     WSAENOPROTOOPT; a sockaddr shorter than the socket's family needs is
//     WSAEFAULT, a longer one of the other family WSAEAFNOSUPPORT;
//     SO_MAX_MSG_SIZE is 65507 (IPv4) or 65527 (IPv6) for UDP, 0 for TCP.
//
// # Not yet
//
// Registered I/O returns WSAEOPNOTSUPP; WSPDuplicateSocket returns
// WSAEOPNOTSUPP; TransmitFile reads the file (ReadAt) rather than using
// sendfile(2); WSPJoinLeaf, WSPGetQOSByName and WSPCancelBlockingCall are
// obsolete and return WSAEOPNOTSUPP.
//
// # Imports, tests and concurrency
//
// It imports provider, provider/internal/wsp, wsa, golang.org/x/sys/unix
// and the standard library: never the stack, gVisor, the api or another
// provider. Its tests run the providertest suite (server and client on one
// provider) and its own tests over the kernel's loopback only (127.0.0.1
// and ::1, ports chosen by the provider), never another address; the suite's
// cases needing an unroutable address skip. Every routine may be called
// from many goroutines at once; closesocket from another goroutine ends a
// call blocked on that socket with WSAEINTR, and no goroutine of the
// provider outlives its sockets and its last WSPCleanup.
package host

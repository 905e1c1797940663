// Package wsnet puts Go's net interfaces on a Winsock Session: [Conn]
// (net.Conn over TCP), [Listener] (net.Listener), [PacketConn]
// (net.PacketConn over UDP, and net.Conn once connected) and a [Dialer]
// with DialContext, so net/http, crypto/tls and everything else written
// against package net run on the userspace stack behind an *api.Session
// (for example the Session embedded in a ws2.Host).
//
// It imports api, wsa and the standard library only: like any Winsock
// application it sees the providers through the API, never gVisor.
//
// # Networks and addresses
//
// Networks are "tcp", "tcp4", "tcp6", "udp", "udp4" and "udp6"; addresses
// "host:port" where host is an IP literal (a numeric zone for scoped IPv6),
// "localhost" (127.0.0.1, or ::1 for the "6" networks) or empty (the
// wildcard address for Listen and ListenPacket, the loopback address for
// Dial, as in Go). Host names and service names are not resolved yet: a
// host name fails with a *net.DNSError. The wildcard address of "tcp" and
// "udp" ("", "0.0.0.0" or "::") is served, as Go serves it, by one AF_INET6
// socket with IPV6_V6ONLY cleared, which accepts IPv4 peers too (they
// appear as IPv4 addresses in 16-byte form). Addresses come back as
// *net.TCPAddr and *net.UDPAddr.
//
// # The mapping
//
// wsnet does what Go's own Windows poller (internal/poll/fd_windows.go)
// does with the Win32 API, with the Session's calls:
//
//	socket                   WSASocket(af, type, proto, nil, 0, WSA_FLAG_OVERLAPPED),
//	                         SetFileCompletionNotificationModes(FILE_SKIP_SET_EVENT_ON_HANDLE)
//	Read                     WSARecv, overlapped
//	ReadFrom                 WSARecvFrom, overlapped
//	Write, WriteTo           WSASend / WSASendTo, overlapped, repeated until all is written
//	Listen                   bind, listen(SOMAXCONN)
//	Accept                   AcceptEx on a fresh socket, overlapped; SO_UPDATE_ACCEPT_CONTEXT;
//	                         GetAcceptExSockaddrs for the addresses
//	Dial (TCP)               bind (LocalAddr or the wildcard), ConnectEx, overlapped;
//	                         SO_UPDATE_CONNECT_CONTEXT
//	Dial (UDP)               bind, connect
//	deadline, ctx, Close     CancelIoEx(socket, op), then wait for the aborted completion
//	Close                    closesocket, once no call is in progress
//	CloseRead, CloseWrite    shutdown(SD_RECEIVE), shutdown(SD_SEND)
//	SetNoDelay, SetKeepAlive TCP_NODELAY (on by default, as in Go), SO_KEEPALIVE, …
//
// Every operation is issued with an OVERLAPPED whose hEvent is the event
// object of its direction (each socket has two, read and write, made with
// WSACreateEvent). A call that completes at once returns its result
// directly; one that returns WSA_IO_PENDING is waited for with
// WSAWaitForMultipleEvents on that event, with the time left to the
// deadline as the timeout. The event is also the waiter's wake-up:
// SetReadDeadline, SetWriteDeadline and Close change the state, then set
// the event, and the waiter (which resets the event before it looks at the
// state) re-evaluates: a deadline can be moved in either direction, or
// cleared, while a call is blocked. When the deadline has passed, the fd is
// closing or the dial's context is done, the waiter cancels its operation
// with CancelIoEx and keeps waiting until the operation completes, as Go
// does: an operation that completed before the cancellation took effect
// keeps its result (data received is returned, never lost); one aborted
// with WSA_OPERATION_ABORTED reports why it was cancelled. Nothing polls: a
// blocked call is one goroutine parked on a channel inside the event wait.
//
// Calls in one direction are serialised (one pending operation per
// direction, like Go's fdMutex), and a reference count lets Close wake
// every caller, cancel what is pending and close the socket only after the
// last call has returned, so a socket handle is never reused under a call.
// Each direction reuses one OVERLAPPED (with its WSABUF array), held in the
// socket's own record and reissued as soon as the previous completion has
// been seen, as Windows allows and Go's poller does; an operation abandoned
// while still pending (the Session ended under it) is never reused. Against a fresh one per
// operation this saves 4 allocations (320 bytes) per BenchmarkPingPong
// round trip (48 → 44); the time is the same within the noise.
//
// # Why event objects and not a completion port
//
// Go's runtime waits on one completion port for the whole process. Here a
// completion port per Session would need a goroutine in
// GetQueuedCompletionStatusEx handing each completion to its waiter, which
// would still need a timer and a wake-up channel for deadlines: two
// goroutine hand-offs per completion instead of one, a dispatcher whose
// life must follow the Session's, and a table from OVERLAPPED to waiter. An
// event per direction wakes the waiting goroutine directly, carries the
// deadline and Close wake-ups as well, and costs two handles per socket.
// BenchmarkPingPong measures both designs on the same pair (1-byte
// ping-pong over loopback, 2 CPUs). When they were chosen: about 27 µs per
// round trip with events against 32 µs with the port and its dispatcher,
// which also allocated 7 KB per round trip in GetQueuedCompletionStatusEx;
// that call allocates nothing now, and the two designs and wsnet itself
// all measure about 28–31 µs, noise included: the port buys no speed for
// its extra goroutine and bookkeeping.
//
// # Errors
//
// Errors are *net.OpError values (Op "read", "write", "accept", "dial",
// "listen", "close", "set") as in Go. A Winsock failure is wrapped in an
// *os.SyscallError naming the call ("wsarecv", "connectex", …) around the
// wsa.Errno, so errors.Is(err, wsa.WSAECONNRESET) works. A passed deadline
// is os.ErrDeadlineExceeded (Timeout() true), a closed Conn net.ErrClosed, a
// dial past its context's deadline or Timeout an error with Timeout() true
// that matches context.DeadlineExceeded, a cancelled dial one that matches
// context.Canceled. A graceful close by the peer is io.EOF from Read,
// unwrapped. UDP follows Windows: a datagram larger than the buffer fills
// it and fails with WSAEMSGSIZE (see [PacketConn]).
//
// When the Session ends (WSACleanup, ws2.Host.Close) every socket is closed
// under the Conns: their calls fail with WSANOTINITIALISED. Close Conns,
// Listeners and PacketConns before their Session.
package wsnet

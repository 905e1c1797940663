// Package api is the Windows Sockets 2 API, the ws2_32.dll analog: the
// Session (WSAStartup/WSACleanup), the handle table, and every Winsock call as
// a method of *Session, dispatched to the transport providers of a protocol
// catalog through the SPI of package provider.
//
// # The layer
//
// A [Session] is one Winsock instance over one provider.Catalog: the analog of
// a process's ws2_32 state. Several Sessions live in one process
// independently. [WSAStartup] returns a started Session; [NewSession] returns
// one that is not started yet. The api picks a catalog entry for each new
// socket (spec §3.9, provider.Catalog.Select), starts the entry's provider on
// first use (WSPStartup with MAKEWORD(2,2), once per ProviderId per Session,
// its path resolved through catalog.Registry()), gives it the Session's
// provider.UpcallTable, and from then on sends every call on the socket to the
// provider whose WSPSocket (or WSPAccept) returned the handle, so a layered
// provider that returns its base provider's handle still sees the calls. The
// api owns the handles, event objects, the APC queue, completion ports and
// message queues; providers make their socket handles through the upcalls
// (WPUCreateSocketHandle, WPUModifyIFSHandle) and free them with
// WPUCloseSocketHandle.
//
// Imports: provider, wsa, internal/winobj (the kernel-object semantics the
// I/O models stand on) and the standard library. Never stack, tun, gVisor or
// any concrete provider: the api knows providers only through the SPI, as
// ws2_32.dll knows only WSPPROC_TABLE.
//
// # Go mapping
//
// Names are the Winsock names as golang.org/x/sys/windows spells them
// (Socket, Bind, Closesocket, Getsockopt, Recvfrom, and WSA… verbatim).
// Parameters keep the C order; a pointer and length become a slice, a WSABUF
// array [][]byte, a sockaddr and its length a wsa.Sockaddr; out-parameters
// become results before the error; in/out parameters stay pointers; C int is
// int32, DWORD and u_long uint32. For example:
//
//	WSAStartup(MAKEWORD(2,2), &data)            s, err := api.WSAStartup(wsa.WINSOCK_VERSION, catalog)
//	                                            data := s.WSAData()
//	n = recv(sock, buf, len, 0)                 n, err := s.Recv(sock, buf, 0)
//	c = accept(sock, (SOCKADDR*)&sa, &salen)    c, sa, err := s.Accept(sock)
//	WSARecv(sock, bufs, 2, &got, &flags,        err := s.WSARecv(sock, [][]byte{b1, b2}, &got, &flags, nil, nil)
//	        NULL, NULL)
//	getsockopt(sock, SOL_SOCKET, SO_RCVBUF,     v, err := s.GetsockoptInt(sock, wsa.SOL_SOCKET, wsa.SO_RCVBUF)
//	           (char*)&v, &len)                 (or n, err := s.Getsockopt(sock, level, name, buf))
//
// The C buffer-length conventions are kept where they carry information:
// WSAEnumProtocols, WSAStringToAddress and WSAAddressToString take their
// in/out length by pointer and report the size needed in it with WSAENOBUFS
// or WSAEFAULT. SO_OPENTYPE, per thread in Windows, is per Session here (see
// Session.Setsockopt). The conversion functions (Htons, InetPton, InetNtop,
// InetAddr, …) need no Session, as in C.
//
// # Errors
//
// Every failure is a bare wsa.Errno carrying the WSAE* code Windows gives, so
// both err == wsa.WSAEWOULDBLOCK and errors.Is(err, wsa.WSAEWOULDBLOCK) work.
// WSA_IO_PENDING is the error of an overlapped call that completes later.
// Calls before WSAStartup, after the last WSACleanup, or on a nil *Session
// fail with WSANOTINITIALISED; a value that is not a live socket handle of the
// Session is WSAENOTSOCK. A provider's error is passed on as the wsa.Errno it
// carries (unwrapped); a provider error that carries no Errno, or a failure
// without an error (no handle, no address), is WSASYSCALLFAILURE.
//
// WSAGetLastError and WSASetLastError do not exist: errors are results, and
// Go has no per-thread error slot to keep them in.
//
// Nothing the application passes makes the api panic: nil or typed-nil
// addresses and nil in/out pointers are WSAEFAULT, out-of-range ports and
// shutdown modes WSAEINVAL. A panicking provider is a bug and its panic is not
// recovered.
//
// # Concurrency
//
// All functions and methods are safe for concurrent use. The handle lookup on
// every call is lock-free (a directory of chunks of atomic slots indexed by
// handle/4), and the api holds no lock while a provider runs, so a call
// blocked in a provider never blocks other calls, and Closesocket from another
// goroutine reaches the provider, which ends the blocked call (WSAEINTR).
// Handle values are multiples of 4, never 0 or INVALID_SOCKET, and a closed
// value may be given to the next new socket at once: as MSL warns, do not
// close a socket while other goroutines may still start calls on it.
//
// Go has no thread identity; see "Completion routines" below for what
// stands for the thread.
//
// WSACleanup, at the last reference, makes every new call fail, closes every
// socket abortively (SO_LINGER {1,0}, then WSPCloseSocket), waits until all
// calls in progress have returned, then calls WSPCleanup once per provider
// started. It must not be called from code running inside a call on the same
// Session, such as a WSAAccept condition function.
//
// # The I/O models
//
// Every model works for every provider through the SPI. The api owns the
// kernel objects (event objects, the APC queue, completion ports, message
// queues standing for windows, each socket handle's own event), all in the
// Session's handle table; providers do the network part and report through
// the upcalls: WPUSetEvent and WPUResetEvent, WPUPostMessage,
// WPUQueueApc, and WPUCompleteOverlappedRequest, which they reach through
// provider.CompleteOverlapped. No wait anywhere polls: every blocked call
// parks its goroutine on a channel (package internal/winobj).
//
// select and WSAPoll. Select and WSAPoll check their arguments (spec §5.3,
// §5.4) and hand the whole call to the provider of the first valid socket
// (readfds, then writefds, then exceptfds for Select), which waits and
// applies the readiness rules: WSPSelect, and provider.Poller for WSAPoll
// (WSAEOPNOTSUPP without it). Three empty sets are WSAEINVAL and a handle
// that is not a socket WSAENOTSOCK; WSAPoll refuses event bits other than
// POLLRDNORM, POLLRDBAND and POLLWRNORM with WSAEINVAL, ignores entries with
// a negative Fd (clearing their REvents), answers POLLNVAL itself for a
// handle that is not a socket of the Session, and fails with WSAEINVAL when
// no entry holds a valid socket.
//
// Event objects. WSACreateEvent makes a manual-reset event;
// WSASetEvent, WSAResetEvent, WSACloseEvent (or CloseHandle), and
// WSAWaitForMultipleEvents (up to 64 handles, wait-any or wait-all, a
// timeout, alertable) work as in Windows. A socket handle may be waited on
// too: it is signalled when an overlapped operation without an hEvent
// completes on it.
//
// WSAEventSelect and WSAAsyncSelect. The api checks the event (an event
// object of the Session) or the window (a message queue of the Session),
// with WSAEINVAL otherwise, and routes the call; the provider records the
// FD_* events (spec §5.1, §5.2) and signals the event, or posts the
// message through WPUPostMessage. WSAEnumNetworkEvents returns the record;
// the provider resets the event under its own lock (WPUResetEvent never
// blocks), which makes the reset atomic with the read. For WSAAsyncSelect a
// message queue stands for the window: CreateMessageQueue (the HWND),
// GetMessage and PeekMessage (PM_REMOVE, PM_NOREMOVE) read it,
// DestroyMessageQueue ends it. Messages carry the socket in WParam and
// WSAMAKESELECTREPLY(event, error) in LParam.
//
// # Overlapped I/O
//
// WSASend, WSARecv, WSASendTo, WSARecvFrom, WSAIoctl, WSASendMsg,
// WSARecvMsg, AcceptEx, ConnectEx, DisconnectEx, TransmitFile and
// TransmitPackets are overlapped when given a *wsa.Overlapped (spec §5.5):
//
//   - Before calling the provider the api sets ov.Internal to
//     WSS_OPERATION_IN_PROGRESS (atomically; wsa.HasOverlappedIoCompleted
//     reads it) and, as the I/O manager does, resets the socket handle's
//     event and (without a completion routine) ov.HEvent.
//   - nil: the operation completed at once (counts are in the out
//     parameters) and its completion is still delivered.
//   - WSA_IO_PENDING: it completes later.
//   - WSAEMSGSIZE from a receive (WSARecv, WSARecvFrom, WSARecvMsg): a
//     datagram truncated to the buffers; the operation completed at once
//     (the byte count, the buffers' size, is in the out parameter) and its
//     completion is delivered with WSAEMSGSIZE, as Windows delivers its
//     warning status STATUS_BUFFER_OVERFLOW: the event is signalled, the
//     completion routine runs with WSAEMSGSIZE, and a packet with
//     ERROR_MORE_DATA is posted even under
//     FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, which spares successes only.
//   - Any other error: it did not start and nothing will be delivered; the
//     api records the error in ov.Internal and ov.OffsetHigh so that nothing
//     waits on it forever.
//
// A completion records the result in the WSAOVERLAPPED (InternalHigh the
// bytes, Offset the flags, OffsetHigh and then Internal the WSAE* code, 0
// for success; Internal and InternalHigh atomically, Internal last) and is
// delivered by one mechanism chosen at the call: a
// completion routine, if one was given, runs as an APC (below); otherwise
// ov.HEvent is signalled, or the socket handle when HEvent is 0 (unless
// FILE_SKIP_SET_EVENT_ON_HANDLE), and if the socket is associated with a
// completion port a packet is posted. WSAGetOverlappedResult reads the
// result: WSA_IO_INCOMPLETE while pending without wait; with wait it waits
// on ov.HEvent, or on the socket handle when HEvent is 0. As in Windows, the
// WSAOVERLAPPED may be reused for a new operation as soon as its completion
// can be seen (event signalled, packet dequeued, routine running,
// HasOverlappedIoCompleted true).
//
// On a socket created without WSA_FLAG_OVERLAPPED (WSASocket without it,
// or socket() with SO_OPENTYPE set) the overlapped arguments of the WSA*
// calls are ignored, as MSL says of lpOverlapped and lpCompletionRoutine:
// the call is an ordinary blocking or non-blocking one and ov is not
// touched. (MSL also lists WSAEINVAL for that case; "ignored" is the
// documented parameter behaviour and the one kept here.) The mswsock
// functions pass their ov on any socket.
//
// # Completion routines: the Session is the thread
//
// In Windows a completion routine is queued as an APC to the thread that
// issued the operation and runs only when that thread enters an alertable
// wait. Go has no thread identity, so each Session has one APC queue that
// stands for "the thread": every overlapped call names it (the
// provider.ThreadID the api passes, which WPUOpenCurrentThread also
// returns), and every completion routine of the Session is queued to it. The
// routines run only inside an alertable wait on the Session —
// SleepEx(ms, true), WSAWaitForMultipleEvents(…, alertable=true),
// GetQueuedCompletionStatusEx(…, alertable=true) — in the goroutine making
// that wait, one at a time in completion order; the wait then returns
// WSA_WAIT_IO_COMPLETION (GetQueuedCompletionStatusEx: the error
// WAIT_IO_COMPLETION). As in Windows, objects are checked first: a wait
// whose events are already signalled returns them and leaves the routines
// for the next alertable wait. No routine runs anywhere else, not even in
// the goroutine that issued the operation, unless it waits alertably.
//
// A program with several goroutines should therefore either give one
// goroutine the role of the thread — it issues the operations (or not: any
// goroutine may) and loops in alertable waits, running every routine of the
// Session — or avoid completion routines and use events or a completion port
// per goroutine. If several goroutines wait alertably at once, one of them
// runs all queued routines and the others keep waiting. A routine must not
// block for long: the queue waits for it. Two Sessions are two threads.
//
// # Completion ports
//
// CreateIoCompletionPort(INVALID_HANDLE_VALUE, 0, 0, n) makes a port;
// CreateIoCompletionPort(socket, port, key, 0) associates a socket once (a
// second time is ERROR_INVALID_PARAMETER, 87). GetQueuedCompletionStatus,
// GetQueuedCompletionStatusEx (batches; alertable), PostQueuedCompletionStatus
// and CloseHandle (which wakes every waiter with ERROR_ABANDONED_WAIT_0)
// work as in Windows. The packet rules:
//
//   - Immediate completions post too, unless the socket has
//     FILE_SKIP_COMPLETION_PORT_ON_SUCCESS (SetFileCompletionNotificationModes)
//     and the call returned nil. The api decides that race-free: each
//     operation without a completion routine has a record from the issuing
//     call until its completion; a completion that arrives while the
//     provider call is still running leaves its packet in the record, and
//     the issuing call posts or drops it once it knows what it returns; a
//     completion after the call returned is judged by what the call
//     returned. So "returned nil" is the test, however the provider
//     schedules the completion, and each operation posts at most once.
//   - An ov.HEvent with its low bit set (hEvent|1) signals the event
//     (HEvent &^ 1) and posts nothing.
//   - Operations aborted by closesocket still post (the record keeps the
//     socket's association after its handle is gone).
//   - Do not combine completion routines with a port: an operation with a
//     routine completes through the routine only.
//
// The concurrency value. Windows counts the threads of a port that run
// (from the packet a thread removes until its next
// GetQueuedCompletionStatus) and releases packets only while fewer than the
// concurrency value run. A goroutine has no identity to count, so each
// worker goroutine makes a CompletionWorker (Session.NewCompletionWorker)
// and calls GetQueuedCompletionStatus(Ex) on it: workers are counted and
// held back, and blocked workers are served last-in first-out, as in
// Windows. The Go rule: a worker about to block on anything but its port
// calls Release first, since Go cannot see that block as the kernel does.
// Session.GetQueuedCompletionStatus is the anonymous form, neither counted
// nor held back.
//
// # Win32 codes and WSAE* codes
//
// Winsock calls fail with WSAE* codes. The kernel32 functions of the models
// fail with Win32 codes, as in Windows: WSA_INVALID_HANDLE (6) for a
// handle of the wrong kind, WSA_INVALID_PARAMETER (87), WAIT_TIMEOUT (258),
// ERROR_ABANDONED_WAIT_0 (735), ERROR_NOT_FOUND (1168) from CancelIoEx. A
// failed operation dequeued from a port carries the Win32 code of its
// failure — ERROR_OPERATION_ABORTED 995, ERROR_NETNAME_DELETED 64 for a
// reset, ERROR_CONNECTION_ABORTED 1236, ERROR_CONNECTION_REFUSED 1225,
// ERROR_SEM_TIMEOUT 121, ERROR_MORE_DATA 234, ERROR_NETWORK_UNREACHABLE
// 1231, ERROR_HOST_UNREACHABLE 1232, ERROR_PORT_UNREACHABLE 1234 for a
// datagram's ICMP port unreachable, … (Win32Error has the table) — as
// GetQueuedCompletionStatus's error with *overlapped set, or in
// OverlappedEntry.Internal; WSAGetOverlappedResult on the same operation
// gives the WSAE* code (WSAECONNRESET, …).
//
// # Cancellation and cleanup
//
// CancelIo and CancelIoEx reach the provider through provider.Canceler;
// closesocket through WSPCloseSocket. Either way the provider completes each
// pending operation with WSA_OPERATION_ABORTED through its usual mechanism.
// WSACleanup aborts them all without delivering anything (spec §2.1): from
// its start completions are only recorded in their WSAOVERLAPPEDs, queued
// routines are discarded, and the waits on the Session's objects end (see
// WSACleanup).
//
// # Extension functions
//
// WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) goes to the socket's
// provider, which writes an extension handle (provider.NewExtensionHandle)
// into the 8-byte output, as a function pointer in Windows. AcceptEx,
// ConnectEx, DisconnectEx, TransmitFile, TransmitPackets, WSARecvMsg and
// WSASendMsg are Session methods that look the function up per socket
// (once; it is cached on the socket) and call it with the overlapped rules.
// GetAcceptExSockaddrs needs no socket: it parses the address blocks in the
// layout the module's providers write (spec §5.10). SO_UPDATE_ACCEPT_CONTEXT
// and SO_UPDATE_CONNECT_CONTEXT go to the provider with Setsockopt.
//
// Winsock programmers will recognise Example_completionPort: an IOCP loop
// with an overlapped receive, an echo, and a cancelled operation.
package api

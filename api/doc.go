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
// api owns the handles, event objects and the APC queue; providers make their
// socket handles through the upcalls (WPUCreateSocketHandle,
// WPUModifyIFSHandle) and free them with WPUCloseSocketHandle.
//
// Imports: provider, wsa and the standard library. Never stack, tun, gVisor or
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
// Go has no thread identity. Each Session has one APC queue, and the ThreadID
// the api passes to every overlapped-capable provider call (and that
// WPUOpenCurrentThread returns) names it: completion routines queued by
// providers run in whichever goroutine makes an alertable wait on the Session
// (the waits come with the event model in the next issue).
//
// WSACleanup, at the last reference, makes every new call fail, closes every
// socket abortively (SO_LINGER {1,0}, then WSPCloseSocket), waits until all
// calls in progress have returned, then calls WSPCleanup once per provider
// started. It must not be called from code running inside a call on the same
// Session, such as a WSAAccept condition function.
//
// # Not yet
//
// The event model and overlapped completion (select, WSAPoll,
// WSAEventSelect, WSAAsyncSelect, WSAEnumNetworkEvents, WSACreateEvent and
// the waits, WSAGetOverlappedResult, completion ports, the extension
// functions such as AcceptEx) come with the next issue; the upcalls they need
// (event objects, the APC queue, WPUCompleteOverlappedRequest for events) are
// already here. The ReactOS retry of WSASocket after a provider's
// WSAEINPROGRESS is not done.
package api

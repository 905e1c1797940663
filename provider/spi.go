package provider

import "github.com/ws2go/ws2/wsa"

// WSPData is WSPDATA, what WSPStartup reports about the provider.
type WSPData struct {
	Version     uint16 // negotiated: min(HighVersion, requested)
	HighVersion uint16 // highest version the provider supports
	Description string // szDescription
}

// ThreadID is WSATHREADID: it names where a completion routine must run. Go
// has no thread identity, so the api hands out one per alertable APC queue
// (see package api); providers treat it as opaque and give it back to
// WPUQueueApc.
type ThreadID struct {
	ThreadHandle wsa.Handle
	Reserved     uintptr
}

// APCFunc is LPWSAUSERAPC: a user APC queued with WPUQueueApc.
type APCFunc func(context uintptr)

// StartupFunc is WSPStartup. The api calls it once per provider (per
// ProviderId) and Session, with version MAKEWORD(2,2), the catalog entry the
// provider is started for (for a layered provider, the chain entry), and the
// upcall table it must use from then on. A provider that cannot do the version
// returns WSAVERNOTSUPPORTED; one that fails to start WSAEPROVIDERFAILEDINIT
// or WSASYSNOTREADY. One WSPCleanup follows each successful WSPStartup.
type StartupFunc func(version uint16, info *wsa.ProtocolInfo, upcalls UpcallTable) (WSPData, ProcTable, error)

// ProcTable is WSPPROC_TABLE: the routines of a transport provider, in the
// order of ws2spi.h. Every routine may be called from many goroutines at once;
// blocking routines park (never poll) until done, and WSPCloseSocket from
// another goroutine ends a call blocked on that socket with WSAEINTR.
// Overlapped routines take the caller's *wsa.Overlapped (nil for an ordinary
// call), its completion routine and the ThreadID to queue that routine to;
// they return nil when the operation completed at once (the completion is
// still delivered), wsa.WSA_IO_PENDING when it will complete later through
// UpcallTable.WPUCompleteOverlappedRequest or WPUQueueApc, and any other error
// when it did not start (no completion will be delivered).
//
// The one exception: WSAEMSGSIZE from an overlapped receive (WSPRecv,
// WSPRecvFrom, the WSARecvMsg extension function) means completed with
// truncation: the datagram filled the buffers and the rest was discarded.
// The completion is delivered, exactly as for nil (with WSAEMSGSIZE as its
// error and bytes = the buffers' size), and the byte count is returned with
// the error. This is Windows' STATUS_BUFFER_OVERFLOW, a warning status: the
// event is signalled, a completion packet (ERROR_MORE_DATA) is queued even
// with FILE_SKIP_COMPLETION_PORT_ON_SUCCESS (which spares successes only),
// and the completion routine runs with WSAEMSGSIZE.
//
// Errors are wsa.Errno values. A layered provider embeds the next provider's
// ProcTable (see PassThrough) and overrides only what it needs.
type ProcTable interface {
	// WSPAccept is accept/WSAAccept. cond may be nil.
	WSPAccept(s wsa.Socket, cond wsa.ConditionProc, callbackData uintptr) (wsa.Socket, wsa.Sockaddr, error)
	// WSPAddressToString is WSAAddressToString.
	WSPAddressToString(addr wsa.Sockaddr, info *wsa.ProtocolInfo) (string, error)
	// WSPAsyncSelect is WSAAsyncSelect; events are posted with WPUPostMessage.
	WSPAsyncSelect(s wsa.Socket, hwnd wsa.Handle, msg uint32, events int32) error
	// WSPBind is bind.
	WSPBind(s wsa.Socket, name wsa.Sockaddr) error
	// WSPCancelBlockingCall is the Winsock 1.1 call; 2.x providers fail it
	// with WSAEOPNOTSUPP.
	WSPCancelBlockingCall() error
	// WSPCleanup pairs with a successful WSPStartup.
	WSPCleanup() error
	// WSPCloseSocket is closesocket.
	WSPCloseSocket(s wsa.Socket) error
	// WSPConnect is connect/WSAConnect. Connect data and QoS are unsupported by
	// TCP/IP providers: nil, or WSAEOPNOTSUPP.
	WSPConnect(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS) error
	// WSPDuplicateSocket is WSADuplicateSocket.
	WSPDuplicateSocket(s wsa.Socket, processID uint32) (wsa.ProtocolInfo, error)
	// WSPEnumNetworkEvents is WSAEnumNetworkEvents: it returns and clears the
	// record and resets event (if not WSA_INVALID_EVENT) atomically.
	WSPEnumNetworkEvents(s wsa.Socket, event wsa.Handle) (wsa.NetworkEvents, error)
	// WSPEventSelect is WSAEventSelect.
	WSPEventSelect(s wsa.Socket, event wsa.Handle, events int32) error
	// WSPGetOverlappedResult is WSAGetOverlappedResult: bytes transferred and
	// flags of a completed operation; WSA_IO_INCOMPLETE if pending and !wait.
	WSPGetOverlappedResult(s wsa.Socket, ov *wsa.Overlapped, wait bool) (uint32, uint32, error)
	// WSPGetPeerName is getpeername.
	WSPGetPeerName(s wsa.Socket) (wsa.Sockaddr, error)
	// WSPGetSockName is getsockname.
	WSPGetSockName(s wsa.Socket) (wsa.Sockaddr, error)
	// WSPGetSockOpt is getsockopt: it fills optval and returns the length
	// written; a short buffer is WSAEFAULT, an unknown option WSAENOPROTOOPT.
	WSPGetSockOpt(s wsa.Socket, level, optname int32, optval []byte) (int32, error)
	// WSPGetQOSByName is obsolete.
	WSPGetQOSByName(s wsa.Socket, name []byte) (*wsa.QOS, error)
	// WSPIoctl is ioctlsocket/WSAIoctl: it fills out and returns the bytes
	// written.
	WSPIoctl(s wsa.Socket, code uint32, in, out []byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error)
	// WSPJoinLeaf is obsolete multipoint.
	WSPJoinLeaf(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS, flags uint32) (wsa.Socket, error)
	// WSPListen is listen.
	WSPListen(s wsa.Socket, backlog int32) error
	// WSPRecv is recv/WSARecv. flags is in/out (MSG_PARTIAL on output).
	WSPRecv(s wsa.Socket, bufs [][]byte, flags *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error)
	// WSPRecvDisconnect is WSARecvDisconnect.
	WSPRecvDisconnect(s wsa.Socket, disconnectData []byte) error
	// WSPRecvFrom is recvfrom/WSARecvFrom. from, if not nil, receives the
	// source address when the operation completes (for an overlapped call,
	// later: it must stay valid until then).
	WSPRecvFrom(s wsa.Socket, bufs [][]byte, flags *uint32, from *wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error)
	// WSPSelect is select over sockets of this provider.
	WSPSelect(readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval) (int32, error)
	// WSPSend is send/WSASend.
	WSPSend(s wsa.Socket, bufs [][]byte, flags uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error)
	// WSPSendDisconnect is WSASendDisconnect.
	WSPSendDisconnect(s wsa.Socket, disconnectData []byte) error
	// WSPSendTo is sendto/WSASendTo. to may be nil on a connected socket.
	WSPSendTo(s wsa.Socket, bufs [][]byte, flags uint32, to wsa.Sockaddr, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID) (uint32, error)
	// WSPSetSockOpt is setsockopt.
	WSPSetSockOpt(s wsa.Socket, level, optname int32, optval []byte) error
	// WSPShutdown is shutdown.
	WSPShutdown(s wsa.Socket, how int32) error
	// WSPSocket is WSASocket for the catalog entry info (af, typ and protocol
	// are passed unmodified, FROM_PROTOCOL_INFO included). The handle must
	// come from UpcallTable.WPUCreateSocketHandle or WPUModifyIFSHandle.
	WSPSocket(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32, flags uint32) (wsa.Socket, error)
	// WSPStringToAddress is WSAStringToAddress.
	WSPStringToAddress(addr string, af int32, info *wsa.ProtocolInfo) (wsa.Sockaddr, error)
}

// UpcallTable is WSPUPCALLTABLE, the services the api gives providers, plus
// WPUCompleteOverlappedRequest (exported by ws2_32, not in the C table). The
// api implements it once per Session; a provider must use the table of its most
// recent WSPStartup. All methods are safe for concurrent use and none blocks.
type UpcallTable interface {
	// WPUCloseEvent closes an event made with WPUCreateEvent.
	WPUCloseEvent(h wsa.Handle) error
	// WPUCloseSocketHandle destroys a handle made by WPUCreateSocketHandle.
	WPUCloseSocketHandle(s wsa.Socket) error
	// WPUCreateEvent makes a manual-reset, non-signalled event.
	WPUCreateEvent() (wsa.Handle, error)
	// WPUCreateSocketHandle makes a socket handle for catalog entry
	// catalogEntryID carrying the provider's context.
	WPUCreateSocketHandle(catalogEntryID uint32, context any) (wsa.Socket, error)
	// WPUFDIsSet is FD_ISSET for providers.
	WPUFDIsSet(s wsa.Socket, set *wsa.FdSet) bool
	// WPUGetProviderPath is WSCGetProviderPath.
	WPUGetProviderPath(providerID wsa.GUID) (string, error)
	// WPUModifyIFSHandle registers a handle a provider made itself; the
	// provider must use the handle returned.
	WPUModifyIFSHandle(catalogEntryID uint32, proposed wsa.Socket) (wsa.Socket, error)
	// WPUPostMessage posts a message to the queue standing for hwnd.
	WPUPostMessage(hwnd wsa.Handle, msg uint32, wParam, lParam uintptr) error
	// WPUQueryBlockingCallback is the Winsock 1.1 blocking hook; it returns
	// nil (no hook) in Winsock 2.
	WPUQueryBlockingCallback(catalogEntryID uint32) (func() bool, uintptr, error)
	// WPUQuerySocketHandleContext returns the context given to
	// WPUCreateSocketHandle; WSAENOTSOCK for an unknown handle.
	WPUQuerySocketHandleContext(s wsa.Socket) (any, error)
	// WPUQueueApc queues fn(context) to run in an alertable wait of the
	// queue tid names.
	WPUQueueApc(tid *ThreadID, fn APCFunc, context uintptr) error
	// WPUResetEvent resets an event.
	WPUResetEvent(h wsa.Handle) error
	// WPUSetEvent signals an event.
	WPUSetEvent(h wsa.Handle) error
	// WPUOpenCurrentThread returns the ThreadID of the caller's APC queue.
	WPUOpenCurrentThread() (ThreadID, error)
	// WPUCloseThread releases a ThreadID from WPUOpenCurrentThread.
	WPUCloseThread(tid *ThreadID) error
	// WPUCompleteOverlappedRequest completes an overlapped operation on s:
	// it records bytes and the error in ov, then signals ov.HEvent and/or
	// queues a packet to the completion port associated with s, as the
	// Winsock rules of spec §5.5 say.
	WPUCompleteOverlappedRequest(s wsa.Socket, ov *wsa.Overlapped, dwError uint32, cbTransferred uint32) error
}

package provider

import (
	"os"
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/wsa"
)

// The Microsoft extension functions (mswsock.h LPFN_* types) in Go form. A
// provider hands them out per socket through
// WSPIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) with the GUID of spec §2.7 as
// input: it writes an extension handle (see NewExtensionHandle) into the
// 8-byte output buffer, and the api resolves the handle to the function. A
// layered provider intercepts the ioctl to hand out its own functions.
//
// The overlapped rules of ProcTable apply: nil is immediate completion (still
// delivered), wsa.WSA_IO_PENDING completes later, any other error did not
// start, except WSAEMSGSIZE from WSARecvMsg, a truncated datagram, which
// completed and is delivered. Functions without a completion-routine
// parameter deliver through the event or completion port only, as in
// Windows.
type (
	// AcceptExFunc is LPFN_ACCEPTEX. buf holds, in order, the first data
	// (receiveDataLength bytes) and the local and remote address blocks
	// (each at least the sockaddr size + 16).
	AcceptExFunc func(listen, accept wsa.Socket, buf []byte, receiveDataLength, localAddressLength, remoteAddressLength uint32, bytesReceived *uint32, ov *wsa.Overlapped) error
	// GetAcceptExSockaddrsFunc is LPFN_GETACCEPTEXSOCKADDRS.
	GetAcceptExSockaddrsFunc func(buf []byte, receiveDataLength, localAddressLength, remoteAddressLength uint32) (local, remote wsa.Sockaddr, err error)
	// ConnectExFunc is LPFN_CONNECTEX. The socket must be bound.
	ConnectExFunc func(s wsa.Socket, name wsa.Sockaddr, sendBuf []byte, bytesSent *uint32, ov *wsa.Overlapped) error
	// DisconnectExFunc is LPFN_DISCONNECTEX (flags: TF_REUSE_SOCKET).
	DisconnectExFunc func(s wsa.Socket, ov *wsa.Overlapped, flags uint32, reserved uint32) error
	// TransmitFileFunc is LPFN_TRANSMITFILE. file may be nil (only the
	// buffers are sent); bytesToWrite 0 sends the whole file from the offset
	// in ov (Offset, OffsetHigh), or from the file's current offset when ov is
	// nil.
	TransmitFileFunc func(s wsa.Socket, file *os.File, bytesToWrite, bytesPerSend uint32, ov *wsa.Overlapped, buffers *wsa.TransmitFileBuffers, flags uint32) error
	// TransmitPacketsFunc is LPFN_TRANSMITPACKETS.
	TransmitPacketsFunc func(s wsa.Socket, elements []wsa.TransmitPacketsElement, sendSize uint32, ov *wsa.Overlapped, flags uint32) error
	// WSARecvMsgFunc is LPFN_WSARECVMSG.
	WSARecvMsgFunc func(s wsa.Socket, msg *wsa.WSAMsg, bytesReceived *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error
	// WSASendMsgFunc is LPFN_WSASENDMSG.
	WSASendMsgFunc func(s wsa.Socket, msg *wsa.WSAMsg, flags uint32, bytesSent *uint32, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error
)

// extension handles: a process-wide table from small integers to function
// values, the Go-safe stand-in for a function pointer in a byte buffer.
var (
	extMu    sync.RWMutex
	extFuncs = []any{nil} // handle 0 is invalid
)

// NewExtensionHandle registers fn and returns the handle a provider writes
// (little-endian, 8 bytes) into the output of
// WSPIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER). Handles are never freed:
// register each function once (at start-up), not per call.
func NewExtensionHandle(fn any) uintptr {
	extMu.Lock()
	defer extMu.Unlock()
	extFuncs = append(extFuncs, fn)
	return uintptr(len(extFuncs) - 1)
}

// ExtensionFunction returns the function registered under h.
func ExtensionFunction(h uintptr) (any, bool) {
	extMu.RLock()
	defer extMu.RUnlock()
	if h == 0 || h >= uintptr(len(extFuncs)) {
		return nil, false
	}
	return extFuncs[h], true
}

// Poller is implemented by a ProcTable that answers WSAPoll for its sockets:
// Windows routes WSAPoll to providers as the SIO_EXT_POLL extension; this is
// its typed Go form. fds is rewritten in place (REvents); the result is the
// number of entries with REvents set, 0 on time-out. timeout is in
// milliseconds, negative for no limit.
type Poller interface {
	WSPPoll(fds []wsa.PollFd, timeout int32) (int32, error)
}

// Canceler is implemented by a ProcTable that can cancel pending overlapped
// operations: the route of CancelIo and CancelIoEx from the api to the
// provider (in Windows, the I/O manager's cancel routine). ov nil cancels
// every pending operation of the socket. Each cancelled operation completes
// with WSA_OPERATION_ABORTED through its usual mechanism. When nothing
// matched, WSPCancelIo returns wsa.ERROR_NOT_FOUND, as CancelIoEx does.
type Canceler interface {
	WSPCancelIo(s wsa.Socket, ov *wsa.Overlapped) error
}

// CompleteOverlapped delivers the completion of an overlapped operation the
// way every provider must (spec §5.5, WPUCompleteOverlappedRequest): it
// stores flags in ov.Offset, then either queues cr as an APC to tid (when cr
// is not nil, after recording the result in ov) or calls
// up.WPUCompleteOverlappedRequest, which records the result and signals the
// event and/or completion port. It is the one place providers complete
// overlapped work; call it exactly once per operation that returned nil or
// WSA_IO_PENDING, or WSAEMSGSIZE from a receive (see ProcTable). Internal
// and InternalHigh are written atomically (Internal last), as
// wsa.HasOverlappedIoCompleted reads them; ov may be reused as soon as the
// completion is visible, so nothing of ov is touched after that.
func CompleteOverlapped(up UpcallTable, s wsa.Socket, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *ThreadID, errno wsa.Errno, bytes, flags uint32) error {
	ov.Offset = flags
	if cr == nil {
		return up.WPUCompleteOverlappedRequest(s, ov, uint32(errno), bytes)
	}
	ov.OffsetHigh = uint32(errno)
	atomic.StoreUintptr(&ov.InternalHigh, uintptr(bytes))
	atomic.StoreUintptr(&ov.Internal, uintptr(errno))
	return up.WPUQueueApc(tid, func(uintptr) { cr(uint32(errno), bytes, ov, flags) }, 0)
}

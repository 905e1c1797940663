package wsa

// Socket is a Winsock socket handle (SOCKET, a UINT_PTR). Handles are made by
// the api package's handle table; providers obtain them through the upcall
// WPUCreateSocketHandle. The zero value is not a valid socket.
type Socket uintptr

// Handle is a Windows HANDLE: an event object (WSAEVENT), a completion port,
// a message queue standing for a window (HWND) or a thread. Handles live in the
// same handle table as sockets and never share a value with one.
type Handle uintptr

// INVALID_SOCKET is the invalid socket handle (~0).
const INVALID_SOCKET = ^Socket(0)

// SOCKET_ERROR is the C return value of a failed call; Go callers see the
// error result instead.
const SOCKET_ERROR = -1

// WSA_INVALID_EVENT is the invalid event handle (NULL).
const WSA_INVALID_EVENT Handle = 0

// MAKEWORD builds a version word: low byte major, high byte minor.
func MAKEWORD(low, high uint8) uint16 { return uint16(low) | uint16(high)<<8 }

// LOBYTE and HIBYTE take a version word apart.
func LOBYTE(w uint16) uint8 { return uint8(w) }

// HIBYTE returns the high byte of w (the minor version of a version word).
func HIBYTE(w uint16) uint8 { return uint8(w >> 8) }

// WINSOCK_VERSION is MAKEWORD(2,2).
const WINSOCK_VERSION uint16 = 0x0202

// WSAData is WSADATA as filled by WSAStartup (spec §2.1).
type WSAData struct {
	Version      uint16 // negotiated version
	HighVersion  uint16 // highest version supported (2.2)
	MaxSockets   uint16 // 32767 for a 1.x request, else 0
	MaxUdpDg     uint16 // 65467 for a 1.x request, else 0
	Description  string // "WinSock 2.0"
	SystemStatus string // "Running"
}

// Linger is struct linger (SO_LINGER): Onoff non-zero enables lingering,
// Linger is the timeout in seconds. Its wire form is two little-endian
// u_shorts (4 bytes).
type Linger struct {
	Onoff  uint16
	Linger uint16
}

// TCPKeepalive is struct tcp_keepalive, the SIO_KEEPALIVE_VALS input: Onoff
// non-zero enables keep-alive, Time and Interval are in milliseconds. Its wire
// form is three little-endian u_longs (12 bytes).
type TCPKeepalive struct {
	Onoff    uint32
	Time     uint32
	Interval uint32
}

// Timeval is struct timeval as select takes it: two 32-bit LONGs.
type Timeval struct {
	Sec  int32
	Usec int32
}

// FdSet is fd_set: an array of sockets, not a bitmask, with no fixed size
// (honouring fd_count as Windows does; FD_SETSIZE is only a C compile-time
// default). select rewrites a set in place to its ready subset.
type FdSet struct {
	Array []Socket
}

// Set adds s to the set if it is not there yet (FD_SET).
func (f *FdSet) Set(s Socket) {
	if !f.IsSet(s) {
		f.Array = append(f.Array, s)
	}
}

// IsSet reports whether s is in the set (FD_ISSET, __WSAFDIsSet).
func (f *FdSet) IsSet(s Socket) bool {
	if f == nil {
		return false
	}
	for _, x := range f.Array {
		if x == s {
			return true
		}
	}
	return false
}

// Clear removes s from the set (FD_CLR).
func (f *FdSet) Clear(s Socket) {
	for i, x := range f.Array {
		if x == s {
			f.Array = append(f.Array[:i], f.Array[i+1:]...)
			return
		}
	}
}

// Zero empties the set (FD_ZERO).
func (f *FdSet) Zero() { f.Array = f.Array[:0] }

// Count is fd_count.
func (f *FdSet) Count() int {
	if f == nil {
		return 0
	}
	return len(f.Array)
}

// PollFd is WSAPOLLFD.
type PollFd struct {
	Fd      Socket
	Events  int16
	REvents int16
}

// NetworkEvents is WSANETWORKEVENTS: the FD_* bits recorded and the error
// code of each, indexed by FD_*_BIT.
type NetworkEvents struct {
	NetworkEvents int32
	ErrorCode     [FD_MAX_EVENTS]int32
}

// Overlapped is WSAOVERLAPPED (OVERLAPPED). The caller owns it and must keep
// it, and every buffer of the operation, untouched until the operation
// completes. Internal holds the status (WSS_OPERATION_IN_PROGRESS while
// pending), InternalHigh the bytes transferred; providers keep the WSAE* code
// in OffsetHigh and the flags in Offset, as MSAFD does. Identity is by
// pointer: completion ports and completion routines hand back the same
// *Overlapped.
type Overlapped struct {
	Internal     uintptr
	InternalHigh uintptr
	Offset       uint32
	OffsetHigh   uint32
	HEvent       Handle
}

// WSS_OPERATION_IN_PROGRESS is the Internal value of a pending operation.
const WSS_OPERATION_IN_PROGRESS = 0x103

// CompletionRoutine is LPWSAOVERLAPPED_COMPLETION_ROUTINE. It runs as an APC
// in an alertable wait of the issuing Session (see package api).
type CompletionRoutine func(dwError uint32, cbTransferred uint32, overlapped *Overlapped, dwFlags uint32)

// ConditionProc is LPCONDITIONPROC, the WSAAccept condition function. callerID
// is the connecting peer's address, calleeID the local address; the data
// buffers and QoS are nil for TCP/IP. It returns CF_ACCEPT, CF_REJECT or
// CF_DEFER. g may be set to a socket group (only 0 is supported).
type ConditionProc func(callerID Sockaddr, callerData []byte, sqos, gqos *QOS, calleeID Sockaddr, calleeData []byte, g *uint32, callbackData uintptr) int32

// QOS is the QOS structure. Quality of service is obsolete and never
// supported by TCP/IP providers; the type exists so signatures keep the C
// shape, and a non-nil QOS is refused with WSAEOPNOTSUPP.
type QOS struct {
	SendingFlowspec   Flowspec
	ReceivingFlowspec Flowspec
	ProviderSpecific  []byte
}

// Flowspec is FLOWSPEC (obsolete, see QOS).
type Flowspec struct {
	TokenRate, TokenBucketSize, PeakBandwidth, Latency, DelayVariation uint32
	ServiceType, MaxSduSize, MinimumPolicedSize                        uint32
}

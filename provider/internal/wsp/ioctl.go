package wsp

import (
	"encoding/binary"
	"sync"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// IoctlSocket is what the provider-independent ioctl codes need of a
// provider's socket.
type IoctlSocket struct {
	Mu         *sync.Mutex // the socket lock, guarding Opts
	Opts       *SockOpts
	Events     *EventState
	Stream     bool
	Handle     wsa.Socket
	Extensions func() map[wsa.GUID]uintptr // SIO_GET_EXTENSION_FUNCTION_POINTER's table
}

// Ioctl answers the codes every provider handles alike: FIONBIO (u_long
// in; 0 is WSAEINVAL while WSAEventSelect/WSAAsyncSelect forces
// non-blocking mode), SIOCATMARK on a datagram socket (WSAEINVAL),
// SIO_KEEPALIVE_VALS on a datagram socket (WSAENOPROTOOPT),
// SIO_UDP_CONNRESET (BOOL in, datagram sockets), SIO_BASE_HANDLE,
// SIO_BSP_HANDLE, SIO_BSP_HANDLE_SELECT, SIO_BSP_HANDLE_POLL (the socket's
// own handle, 8 bytes out), SIO_GET_EXTENSION_FUNCTION_POINTER and
// SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER (RIO: WSAEOPNOTSUPP). ok is
// false for any other code, which the provider handles.
func (s IoctlSocket) Ioctl(code uint32, in, out []byte) (n int32, ok bool, err error) {
	switch code {
	case wsa.FIONBIO:
		v, err := wsa.GetUint32(in)
		if err != nil {
			return 0, true, err
		}
		s.Mu.Lock()
		defer s.Mu.Unlock()
		if v == 0 && s.Events.Registered() {
			return 0, true, wsa.WSAEINVAL // WSAEventSelect/WSAAsyncSelect forces non-blocking
		}
		s.Opts.Nonblocking = v != 0
		return 0, true, nil
	case wsa.SIOCATMARK:
		if !s.Stream {
			return 0, true, wsa.WSAEINVAL
		}
	case wsa.SIO_KEEPALIVE_VALS:
		if !s.Stream {
			return 0, true, wsa.WSAENOPROTOOPT
		}
	case wsa.SIO_UDP_CONNRESET:
		if s.Stream {
			return 0, true, wsa.WSAEINVAL
		}
		v, err := wsa.GetBool(in)
		if err != nil {
			return 0, true, err
		}
		s.Mu.Lock()
		s.Opts.UDPConnReset = v
		s.Mu.Unlock()
		return 0, true, nil
	case wsa.SIO_BASE_HANDLE, wsa.SIO_BSP_HANDLE, wsa.SIO_BSP_HANDLE_SELECT, wsa.SIO_BSP_HANDLE_POLL:
		if len(out) < 8 {
			return 0, true, wsa.WSAEFAULT
		}
		binary.LittleEndian.PutUint64(out, uint64(s.Handle))
		return 8, true, nil
	case wsa.SIO_GET_EXTENSION_FUNCTION_POINTER:
		n, err := ExtensionPointer(s.Extensions(), in, out)
		return n, true, err
	case wsa.SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER:
		return 0, true, wsa.WSAEOPNOTSUPP // no registered I/O (RIO)
	}
	return 0, false, nil
}

// IoctlCall is WSPIoctl once the socket is resolved: ioctl runs at once.
// With an OVERLAPPED on an overlapped socket the upcall table is obtained
// first (its error fails the call) and a successful result is also
// delivered as a completed operation of qs (cr and tid as given).
func IoctlCall(upcalls func() (provider.UpcallTable, error), qs *Queues, overlapped bool, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID, ioctl func() (int32, error)) (uint32, error) {
	if ov != nil && overlapped {
		up, err := upcalls()
		if err != nil {
			return 0, err
		}
		n, err := ioctl()
		if err != nil {
			return 0, err
		}
		qs.NewOp(up, ov, cr, tid).Deliver(nil, uint32(n), 0)
		return uint32(n), nil
	}
	n, err := ioctl()
	return uint32(n), err
}

package wsp

import (
	"encoding/binary"
	"sync"

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

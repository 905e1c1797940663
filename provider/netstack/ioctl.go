package netstack

import (
	"encoding/binary"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// WSPIoctl is ioctlsocket/WSAIoctl. It returns the bytes written to out.
// With an OVERLAPPED on an overlapped socket every code completes at once
// and its completion is delivered before the call returns (see
// overlappedIoctl).
//
//   - FIONBIO (u_long in): non-zero makes the socket non-blocking.
//   - FIONREAD (u_long out): a stream's bytes readable now; for a datagram
//     socket the size of the next datagram (gVisor does not expose the total
//     of all queued datagrams that Windows reports; documented deviation).
//   - SIOCATMARK (u_long out, streams): always TRUE, "no urgent data
//     waiting" (see the package documentation on MSG_OOB).
//   - SIO_KEEPALIVE_VALS (tcp_keepalive in, streams; WSAENOPROTOOPT on a
//     datagram socket): keep-alive on/off, idle time and interval in ms.
//   - SIO_UDP_CONNRESET (BOOL in, datagram sockets): whether an ICMP port
//     unreachable makes a later receive fail WSAECONNRESET (default TRUE).
//   - SIO_BASE_HANDLE, SIO_BSP_HANDLE, SIO_BSP_HANDLE_SELECT,
//     SIO_BSP_HANDLE_POLL (SOCKET out, 8 bytes): the socket's own handle,
//     as the provider is the base.
//   - SIO_GET_EXTENSION_FUNCTION_POINTER (GUID in, 8-byte handle out):
//     the extension functions (ext.go); an unknown GUID is WSAEINVAL.
//     SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER (RIO) is WSAEOPNOTSUPP.
//
// Any other code is WSAEINVAL (MSL WSAIoctl: "not a valid command"); a
// short buffer WSAEFAULT.
func (ss *session) WSPIoctl(h wsa.Socket, code uint32, in, out []byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return 0, err
	}
	if ov != nil && s.overlapped {
		up, err := ss.upcalls()
		if err != nil {
			return 0, err
		}
		return s.overlappedIoctl(up, code, in, out, ov, cr, tid)
	}
	n, err := s.ioctl(code, in, out)
	return uint32(n), err
}

func (s *socket) ioctl(code uint32, in, out []byte) (int32, error) {
	switch code {
	case wsa.FIONBIO:
		v, err := wsa.GetUint32(in)
		if err != nil {
			return 0, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if v == 0 && s.hasEventSelect() {
			return 0, wsa.WSAEINVAL // WSAEventSelect/WSAAsyncSelect forces non-blocking
		}
		s.opts.nonblocking = v != 0
		return 0, nil
	case wsa.FIONREAD:
		if len(out) < wsa.SizeofInt32 {
			return 0, wsa.WSAEFAULT
		}
		s.mu.Lock()
		ep, listening := s.ep, s.listening
		s.mu.Unlock()
		v := 0
		if !listening {
			if n, terr := ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); terr == nil && n > 0 {
				v = n
			}
		}
		return wsa.PutUint32(out, uint32(v))
	case wsa.SIOCATMARK:
		if !s.stream {
			return 0, wsa.WSAEINVAL
		}
		return wsa.PutBool(out, true)
	case wsa.SIO_KEEPALIVE_VALS:
		if !s.stream {
			return 0, wsa.WSAENOPROTOOPT
		}
		k, err := wsa.UnmarshalTCPKeepalive(in)
		if err != nil {
			return 0, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if k.Onoff != 0 {
			if k.Time > 0 {
				if err := s.setKeepTimesLocked(true, time.Duration(k.Time)*time.Millisecond); err != nil {
					return 0, err
				}
			}
			if k.Interval > 0 {
				if err := s.setKeepTimesLocked(false, time.Duration(k.Interval)*time.Millisecond); err != nil {
					return 0, err
				}
			}
		}
		s.opts.keepalive = k.Onoff != 0
		s.ep.SocketOptions().SetKeepAlive(s.opts.keepalive)
		return 0, nil
	case wsa.SIO_UDP_CONNRESET:
		if s.stream {
			return 0, wsa.WSAEINVAL
		}
		v, err := wsa.GetBool(in)
		if err != nil {
			return 0, err
		}
		s.mu.Lock()
		s.opts.udpConnReset = v
		s.mu.Unlock()
		return 0, nil
	case wsa.SIO_BASE_HANDLE, wsa.SIO_BSP_HANDLE, wsa.SIO_BSP_HANDLE_SELECT, wsa.SIO_BSP_HANDLE_POLL:
		if len(out) < 8 {
			return 0, wsa.WSAEFAULT
		}
		binary.LittleEndian.PutUint64(out, uint64(s.handle))
		return 8, nil
	case wsa.SIO_GET_EXTENSION_FUNCTION_POINTER:
		return s.ss.extensionPointer(in, out)
	case wsa.SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER:
		return 0, wsa.WSAEOPNOTSUPP // no registered I/O (RIO)
	}
	return 0, wsa.WSAEINVAL
}

package netstack

import (
	"encoding/binary"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// WSPIoctl is ioctlsocket/WSAIoctl, without overlapped calls for now
// (TODO(io-models): ov != nil fails WSAEOPNOTSUPP). It returns the bytes
// written to out.
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
//   - SIO_GET_EXTENSION_FUNCTION_POINTER: WSAEOPNOTSUPP for now
//     (TODO(io-models): AcceptEx, ConnectEx and the rest).
//
// Any other code is WSAEINVAL (MSL WSAIoctl: "not a valid command"); a
// short buffer WSAEFAULT.
func (ss *session) WSPIoctl(h wsa.Socket, code uint32, in, out []byte, ov *wsa.Overlapped, cr wsa.CompletionRoutine, tid *provider.ThreadID) (uint32, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return 0, err
	}
	if ov != nil {
		return 0, wsa.WSAEOPNOTSUPP // TODO(io-models): overlapped WSAIoctl.
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
		s.opts.nonblocking = v != 0
		s.mu.Unlock()
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
	case wsa.SIO_GET_EXTENSION_FUNCTION_POINTER, wsa.SIO_GET_MULTIPLE_EXTENSION_FUNCTION_POINTER:
		return 0, wsa.WSAEOPNOTSUPP // TODO(io-models): extension functions.
	}
	return 0, wsa.WSAEINVAL
}

package netstack

import (
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// WSPIoctl is ioctlsocket/WSAIoctl. It returns the bytes written to out.
// With an OVERLAPPED on an overlapped socket every code completes at once
// and its completion is delivered before the call returns.
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
	return wsp.IoctlCall(ss.upcalls, &s.ovq, s.overlapped, ov, cr, tid, func() (int32, error) {
		return s.ioctl(code, in, out)
	})
}

func (s *socket) ioctl(code uint32, in, out []byte) (int32, error) {
	c := wsp.IoctlSocket{Mu: &s.mu, Opts: &s.opts, Events: &s.rd.Events, Stream: s.stream, Handle: s.handle, Extensions: s.ss.extFuncs}
	if n, ok, err := c.Ioctl(code, in, out); ok {
		return n, err
	}
	switch code {
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
		return wsa.PutBool(out, true)
	case wsa.SIO_KEEPALIVE_VALS:
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
		s.opts.Keepalive = k.Onoff != 0
		s.ep.SocketOptions().SetKeepAlive(s.opts.Keepalive)
		return 0, nil
	}
	return 0, wsa.WSAEINVAL
}

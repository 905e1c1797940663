package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// The FD_* events of WSAEventSelect and WSAAsyncSelect: the machinery is
// wsp's (EventState, recording rules of spec §5.1); the socket is its
// EventSource.

// FDEvents implements wsp.EventSource.
func (s *socket) FDEvents() (int32, [wsa.FD_MAX_EVENTS]int32, bool) {
	c := s.Conditions()
	bits, code := c.FDEvents(s.stream)
	return bits, code, c.Failed != nil
}

// Upcalls implements wsp.EventSource.
func (s *socket) Upcalls() (provider.UpcallTable, error) { return s.ss.upcalls() }

// Handle implements wsp.EventSource.
func (s *socket) Handle() wsa.Socket { return s.handle }

// WSPEventSelect is WSAEventSelect: it associates event with the FD_*
// events of lNetworkEvents (bits outside FD_ALL_EVENTS are ignored),
// replacing any earlier WSAEventSelect or WSAAsyncSelect on the socket and
// clearing the record. Conditions already true are recorded and event
// signalled at once. lNetworkEvents 0 cancels (event is ignored); a
// non-zero mask with no event is WSAEINVAL. Either way the socket becomes
// non-blocking, and FIONBIO cannot make it blocking again (WSAEINVAL)
// until the registration is cancelled.
func (ss *session) WSPEventSelect(h wsa.Socket, event wsa.Handle, events int32) error {
	s, err := ss.lookupLazy(h)
	if err != nil {
		return err
	}
	return s.selectEvents(wsp.Registration{Mask: events, Event: event})
}

// WSPAsyncSelect is WSAAsyncSelect: as WSPEventSelect, but each recorded
// event is posted as a message to hwnd with WPUPostMessage (wParam the
// socket, lParam WSAMAKESELECTREPLY(event, error)). events 0 cancels; a
// non-zero mask with no window is WSAEINVAL.
func (ss *session) WSPAsyncSelect(h wsa.Socket, hwnd wsa.Handle, msg uint32, events int32) error {
	s, err := ss.lookupLazy(h)
	if err != nil {
		return err
	}
	return s.selectEvents(wsp.Registration{Mask: events, Async: true, Hwnd: hwnd, Msg: msg})
}

// WSPEnumNetworkEvents is WSAEnumNetworkEvents: it returns and clears the
// socket's record and, if event is not 0, resets event, atomically with
// respect to recording.
func (ss *session) WSPEnumNetworkEvents(h wsa.Socket, event wsa.Handle) (wsa.NetworkEvents, error) {
	s, up, err := ss.lookupLazyUp(h)
	if err != nil {
		return wsa.NetworkEvents{}, err
	}
	return s.rd.Events.Enum(up, event)
}

// selectEvents installs reg (no events cancels) in place of the socket's
// registration, forcing non-blocking mode, and records what is already
// true.
func (s *socket) selectEvents(reg wsp.Registration) error {
	r, err := wsp.EventSelect(reg)
	if err != nil {
		return err
	}
	return s.rd.Events.Select(&s.mu, &s.opts, &s.rd.Readiness, s, r)
}

// inheritEvents gives an accepted socket n the registration of its
// listener s (accept, and SO_UPDATE_ACCEPT_CONTEXT for an AcceptEx
// socket) and records what already holds (FD_WRITE; FD_READ if data came
// already; never FD_CONNECT). The caller must not hold n.mu.
func (n *socket) inheritEvents(s *socket) {
	n.rd.Events.InheritFrom(&n.mu, &n.opts, &n.rd.Readiness, n, &s.rd.Events)
}

// dataQueuedLocked reports whether a stream socket has received data that
// a receive would return: not the peer's FIN, nor data that shutdown
// (SD_RECEIVE) or a connection error made unreadable.
func (s *socket) dataQueuedLocked() bool {
	if s.shutRecv || s.connErr != nil {
		return false
	}
	n, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	return err == nil && n > 0
}

// closeErrLocked tells why a closed stream connection closed: nil for the
// peer's FIN, else the sticky connection error (WSAECONNRESET for a reset,
// WSAECONNABORTED or WSAETIMEDOUT for a local abort or a time-out). gVisor
// reports a reset only once, to whoever asks first; when no data is left
// to read it is taken here and made sticky in connErr, exactly as a
// receive would (tryRecvStream checks connErr again when gVisor answers
// with a plain end of stream), so receives see the same error. While data
// remains it is left to the receive, and the answer is provisional.
func (s *socket) closeErrLocked(data bool) error {
	if s.connErr != nil {
		return s.connErr
	}
	if tcp.EndpointState(s.ep.State()) != tcp.StateError {
		return nil
	}
	if data {
		return wsa.WSAECONNRESET
	}
	switch terr := s.ep.LastError(); terr.(type) {
	case *tcpip.ErrConnectionReset, *tcpip.ErrConnectionAborted, *tcpip.ErrAborted, *tcpip.ErrTimeout:
		s.connErr = errno(terr)
	default:
		// A receive took it and is about to make it sticky; a reset is
		// the one way to StateError it may have seen.
		s.connErr = wsa.WSAECONNRESET
	}
	return s.connErr
}

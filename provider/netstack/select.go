package netstack

import (
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// select and WSAPoll are wsp's (spec §5.3, §5.4), shared with the host
// provider: they evaluate the sockets' conditions (socket.conditions, in
// wsp's terms) and wait on the sockets' readiness cores, with an observer
// on each for the length of the wait; nothing polls.

var _ provider.Poller = (*session)(nil)

// WSPSelect is select over the provider's sockets (spec §5.3; see
// wsp.Select). The sets are arrays of any length (fd_count is honoured, no
// FD_SETSIZE cap); each is rewritten in place to its ready subset, and the
// result is the number of ready entries in all three, 0 when the time-out
// passes.
//
//   - readfds: a listener has a connection to accept; data (or a datagram)
//     is queued; the connection was closed, reset or shut down for
//     receiving (recv will not block).
//   - writefds: a send is possible; a non-blocking connect succeeded.
//   - exceptfds: a non-blocking connect failed (getsockopt(SO_ERROR) then
//     gives the reason and clears it). A failed connect is not writable.
//     Out-of-band data never shows (see the package documentation).
//
// timeout nil waits without limit, {0, 0} polls. Three empty (or nil) sets
// and a negative time-out are WSAEINVAL; a handle that is not a socket of
// this provider is WSAENOTSOCK. A socket closed by another goroutine while
// select waits is reported ready in each set that holds it (any call on it
// then fails WSAENOTSOCK).
func (ss *session) WSPSelect(readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval) (int32, error) {
	return wsp.Select(readfds, writefds, exceptfds, timeout, ss.waitable)
}

// WSPPoll is WSAPoll over the provider's sockets (spec §5.4;
// provider.Poller; see wsp.Poll). timeout is in milliseconds: negative
// waits without limit, 0 polls. events may hold POLLRDNORM, POLLRDBAND and
// POLLWRNORM (any other bit is WSAEINVAL); entries with a negative fd are
// ignored, WSAEINVAL if no entry holds a socket of this provider.
//
// REvents: POLLRDNORM when recv or accept will not block; POLLRDBAND never
// (no urgent data, see the package documentation); POLLWRNORM when a send
// will not block; POLLHUP when a stream connection was closed by the peer
// (FIN) or reset, or its connect failed; POLLERR when an error is pending
// (a failed connect, a reset or aborted connection); POLLNVAL for an entry
// that is not a socket of this provider or that was closed. A failed
// connect is POLLHUP|POLLERR, with POLLWRNORM if asked for: the behaviour
// of Windows 10 2004 and later.
func (ss *session) WSPPoll(fds []wsa.PollFd, timeout int32) (int32, error) {
	return wsp.Poll(fds, timeout, ss.waitable)
}

// waitable resolves a handle for select and WSAPoll.
func (ss *session) waitable(h wsa.Socket) (wsp.Waitable, error) {
	s, err := ss.lookupLazy(h)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Watch, Closed, Conditions and Stream make the socket a wsp.Waitable.
func (s *socket) Watch(fn func()) (remove func()) {
	return s.rd.AddObserver(func(wsp.Event) { fn() })
}

// Closed reports whether the socket was closed.
func (s *socket) Closed() bool { return s.rd.IsClosed() }

// Conditions is socket.conditions.
func (s *socket) Conditions() wsp.Conditions { return s.conditions() }

// Stream reports a stream socket.
func (s *socket) Stream() bool { return s.stream }

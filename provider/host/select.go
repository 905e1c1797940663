package host

import (
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// waitable resolves a handle for select and WSAPoll.
func (ss *session) waitable(h wsa.Socket) (wsp.Waitable, error) {
	s, err := ss.lookup(h)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// WSPSelect is select over the provider's sockets (spec §5.3; see
// wsp.Select): readfds for data, a connection to accept, the end or reset
// of a connection; writefds for room to send and a completed non-blocking
// connect; exceptfds for a failed non-blocking connect and urgent data with
// SO_OOBINLINE off. It waits on the sockets' readiness cores, fed by the
// epoll goroutine; nothing polls.
func (ss *session) WSPSelect(readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval) (int32, error) {
	return wsp.Select(readfds, writefds, exceptfds, timeout, ss.waitable)
}

// WSPPoll is WSAPoll over the provider's sockets (spec §5.4;
// provider.Poller; see wsp.Poll). POLLRDBAND reports urgent data with
// SO_OOBINLINE off; a failed connect is POLLHUP|POLLERR (with POLLWRNORM if
// asked for), as Windows 10 2004 and later report it.
func (ss *session) WSPPoll(fds []wsa.PollFd, timeout int32) (int32, error) {
	return wsp.Poll(fds, timeout, ss.waitable)
}

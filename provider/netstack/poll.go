package netstack

import (
	"time"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

var _ provider.Poller = (*session)(nil)

// pollAllowed are the bits WSAPoll accepts in events.
const pollAllowed = wsa.POLLRDNORM | wsa.POLLRDBAND | wsa.POLLWRNORM

// WSPPoll is WSAPoll over the provider's sockets (spec §5.4; provider.Poller).
// Every entry's REvents is rewritten; the result is the number of entries
// with REvents set, 0 when the time-out passes. timeout is in milliseconds:
// negative waits without limit, 0 polls.
//
// events may hold POLLRDNORM, POLLRDBAND and POLLWRNORM (POLLIN, POLLOUT);
// any other bit is WSAEINVAL. Entries with a negative fd (INVALID_SOCKET
// included) are ignored and their REvents cleared; WSAEINVAL too if no entry
// holds a socket of this provider.
//
// REvents: POLLRDNORM when recv or accept will not block (data, a pending
// connection, the end of the stream or an error); POLLRDBAND never (no
// urgent data, see the package documentation); POLLWRNORM when a send will
// not block. Reported even when not asked for: POLLHUP when a stream
// connection was closed by the peer (FIN) or reset, or its connect failed;
// POLLERR when an error is pending (a failed connect, a reset or aborted
// connection); POLLNVAL for an entry that is not a socket of this provider
// or that was closed. A failed connect is POLLHUP|POLLERR, with POLLWRNORM
// if asked for: the behaviour of Windows 10 2004 and later (earlier
// versions reported nothing, the well-known WSAPoll bug).
//
// WSPPoll waits on the sockets' readiness cores; nothing polls.
func (ss *session) WSPPoll(fds []wsa.PollFd, timeout int32) (int32, error) {
	for i := range fds {
		fds[i].REvents = 0
		if !negativeFd(fds[i].Fd) && fds[i].Events&^pollAllowed != 0 {
			return 0, wsa.WSAEINVAL
		}
	}
	socks := make([]*socket, len(fds)) // nil: ignored or not a socket
	var list []*socket
	seen := make(map[*socket]bool)
	for i := range fds {
		if negativeFd(fds[i].Fd) {
			continue
		}
		s, err := ss.lookup(fds[i].Fd)
		if err != nil {
			continue
		}
		socks[i] = s
		if !seen[s] {
			seen[s] = true
			list = append(list, s)
		}
	}
	if len(list) == 0 {
		return 0, wsa.WSAEINVAL
	}
	d := time.Duration(-1)
	if timeout >= 0 {
		d = time.Duration(timeout) * time.Millisecond
	}
	eval := func() int32 {
		var n int32
		for i := range fds {
			fds[i].REvents = 0
			switch {
			case negativeFd(fds[i].Fd):
				continue
			case socks[i] == nil:
				fds[i].REvents = wsa.POLLNVAL
			default:
				fds[i].REvents = socks[i].pollEvents(fds[i].Events)
			}
			if fds[i].REvents != 0 {
				n++
			}
		}
		return n
	}
	return waitReady(list, d, eval)
}

// negativeFd reports a negative SOCKET value (INVALID_SOCKET included).
func negativeFd(fd wsa.Socket) bool { return int64(fd) < 0 }

// pollEvents evaluates the socket for WSAPoll with the requested events.
func (s *socket) pollEvents(events int16) int16 {
	if s.rd.isClosed() {
		return wsa.POLLNVAL
	}
	c := s.conditions()
	if s.rd.isClosed() {
		return wsa.POLLNVAL
	}
	if c.failed != nil {
		return wsa.POLLHUP | wsa.POLLERR | events&wsa.POLLWRNORM
	}
	var r int16
	if c.readable {
		r |= events & wsa.POLLRDNORM
	}
	if c.writable {
		r |= events & wsa.POLLWRNORM
	}
	if s.stream && c.closed {
		r |= wsa.POLLHUP
		if c.closeErr != nil {
			r |= wsa.POLLERR
		}
	}
	return r
}

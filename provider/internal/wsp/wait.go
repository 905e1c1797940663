package wsp

import (
	"time"

	"github.com/ws2go/ws2/wsa"
)

// Waitable is what select and WSAPoll need of a provider's socket.
type Waitable interface {
	// Watch installs fn, called (in the transport's notification context)
	// on every event of the socket and once more when it closes, until
	// the returned function removes it (Readiness.AddObserver).
	Watch(fn func()) (remove func())
	// Closed reports whether the socket was closed.
	Closed() bool
	// Conditions evaluates the socket now.
	Conditions() Conditions
	// Stream reports a stream socket.
	Stream() bool
}

// Select is WSPSelect over a provider's sockets (spec §5.3); lookup
// resolves a handle (WSAENOTSOCK for anything not an open socket of the
// provider). The sets are arrays of any length (fd_count is honoured, no
// FD_SETSIZE cap); each is rewritten in place to its ready subset, and the
// result is the number of ready entries in all three, 0 when the time-out
// passes.
//
//   - readfds: a listener has a connection to accept; data (or a datagram)
//     is queued; the connection was closed, reset or shut down for
//     receiving (recv will not block).
//   - writefds: a send is possible; a non-blocking connect succeeded.
//   - exceptfds: a non-blocking connect failed (getsockopt(SO_ERROR) then
//     gives the reason and clears it); urgent data with SO_OOBINLINE off.
//     A failed connect is not writable.
//
// timeout nil waits without limit, {0, 0} polls. Three empty (or nil) sets
// and a negative time-out are WSAEINVAL. A socket closed by another
// goroutine while select waits is reported ready in each set that holds it
// (any call on it then fails WSAENOTSOCK).
//
// select waits on the sockets' readiness cores (an observer on each,
// removed on return); nothing polls.
func Select(readfds, writefds, exceptfds *wsa.FdSet, timeout *wsa.Timeval, lookup func(wsa.Socket) (Waitable, error)) (int32, error) {
	if readfds.Count()+writefds.Count()+exceptfds.Count() == 0 {
		return 0, wsa.WSAEINVAL
	}
	d := time.Duration(-1)
	if timeout != nil {
		if timeout.Sec < 0 || timeout.Usec < 0 {
			return 0, wsa.WSAEINVAL
		}
		d = time.Duration(timeout.Sec)*time.Second + time.Duration(timeout.Usec)*time.Microsecond
	}
	sets := [3]*wsa.FdSet{readfds, writefds, exceptfds}
	socks := make(map[wsa.Socket]Waitable)
	var list []Waitable
	for _, set := range sets {
		if set == nil {
			continue
		}
		for _, h := range set.Array {
			if _, ok := socks[h]; ok {
				continue
			}
			s, err := lookup(h)
			if err != nil {
				return 0, err
			}
			socks[h] = s
			list = append(list, s)
		}
	}
	ready := [3][]bool{}
	for i, set := range sets {
		ready[i] = make([]bool, set.Count())
	}
	eval := func() int32 {
		states := make(map[Waitable][3]bool, len(socks))
		var n int32
		for i, set := range sets {
			if set == nil {
				continue
			}
			for j, h := range set.Array {
				s := socks[h]
				st, ok := states[s]
				if !ok {
					st = selectState(s)
					states[s] = st
				}
				ready[i][j] = st[i]
				if st[i] {
					n++
				}
			}
		}
		return n
	}
	n, err := WaitReady(list, d, eval)
	if err != nil {
		return 0, err
	}
	for i, set := range sets {
		if set == nil {
			continue
		}
		out := set.Array[:0]
		for j, h := range set.Array {
			if ready[i][j] {
				out = append(out, h)
			}
		}
		set.Array = out
	}
	return n, nil
}

// selectState evaluates s for select; a closed socket is in every set.
func selectState(s Waitable) [3]bool {
	if s.Closed() {
		return [3]bool{true, true, true}
	}
	c := s.Conditions()
	if s.Closed() {
		return [3]bool{true, true, true}
	}
	return c.SelectState()
}

// pollAllowed are the bits WSAPoll accepts in events.
const pollAllowed = wsa.POLLRDNORM | wsa.POLLRDBAND | wsa.POLLWRNORM

// Poll is WSAPoll over a provider's sockets (spec §5.4; provider.Poller);
// lookup resolves a handle. Every entry's REvents is rewritten; the result
// is the number of entries with REvents set, 0 when the time-out passes.
// timeout is in milliseconds: negative waits without limit, 0 polls.
//
// events may hold POLLRDNORM, POLLRDBAND and POLLWRNORM (POLLIN, POLLOUT);
// any other bit is WSAEINVAL. Entries with a negative fd (INVALID_SOCKET
// included) are ignored and their REvents cleared; WSAEINVAL too if no
// entry holds a socket of the provider.
//
// REvents: see Conditions.PollEvents; POLLNVAL for an entry that is not a
// socket of the provider or that was closed (also while Poll waits).
//
// Poll waits on the sockets' readiness cores; nothing polls.
func Poll(fds []wsa.PollFd, timeout int32, lookup func(wsa.Socket) (Waitable, error)) (int32, error) {
	for i := range fds {
		fds[i].REvents = 0
		if !negativeFd(fds[i].Fd) && fds[i].Events&^pollAllowed != 0 {
			return 0, wsa.WSAEINVAL
		}
	}
	socks := make([]Waitable, len(fds)) // nil: ignored or not a socket
	var list []Waitable
	seen := make(map[Waitable]bool)
	for i := range fds {
		if negativeFd(fds[i].Fd) {
			continue
		}
		s, err := lookup(fds[i].Fd)
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
				fds[i].REvents = pollEvents(socks[i], fds[i].Events)
			}
			if fds[i].REvents != 0 {
				n++
			}
		}
		return n
	}
	return WaitReady(list, d, eval)
}

// negativeFd reports a negative SOCKET value (INVALID_SOCKET included).
func negativeFd(fd wsa.Socket) bool { return int64(fd) < 0 }

// pollEvents evaluates s for WSAPoll with the requested events.
func pollEvents(s Waitable, events int16) int16 {
	if s.Closed() {
		return wsa.POLLNVAL
	}
	c := s.Conditions()
	if s.Closed() {
		return wsa.POLLNVAL
	}
	return c.PollEvents(s.Stream(), events)
}

// WaitReady evaluates eval until it reports something ready or d passes (d
// negative: no limit; 0: evaluate once). It waits on the sockets'
// readiness cores: an observer on each wakes it, and is removed on return.
// It returns eval's last count.
func WaitReady(socks []Waitable, d time.Duration, eval func() int32) (int32, error) {
	if n := eval(); n > 0 || d == 0 {
		return n, nil
	}
	wake := make(chan struct{}, 1)
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	removes := make([]func(), 0, len(socks))
	defer func() {
		for _, rm := range removes {
			rm()
		}
	}()
	for _, s := range socks {
		removes = append(removes, s.Watch(notify))
	}
	var expired <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		expired = t.C
	}
	for {
		// The observers are in place: an event from here on wakes us.
		if n := eval(); n > 0 {
			return n, nil
		}
		select {
		case <-wake:
		case <-expired:
			return eval(), nil
		}
	}
}

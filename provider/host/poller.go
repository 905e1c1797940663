package host

import (
	"errors"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider/internal/wsp"
)

// pollEvents is what every socket is registered for, edge-triggered: a
// notification on every change (new data, room to send, a connection to
// accept, the peer's FIN, a reset, urgent data), like gVisor's waiter
// queues.
const pollEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLPRI | unix.EPOLLET

// poller is the provider's one epoll instance and the one goroutine that
// waits in epoll_wait on it. Each socket's descriptor is registered
// edge-triggered with a registration number (never the descriptor itself,
// which the kernel reuses), and every event is handed to that socket's
// readiness core (wsp.Readiness.Notify), which wakes blocked calls and runs
// the observers of select, WSAPoll, the FD_* events and the overlapped
// pump. Idle sockets cause no wake-up; the goroutine sleeps in the kernel.
// An eventfd (registration 0) wakes it to stop.
type poller struct {
	epfd, evfd int
	done       chan struct{} // closed when the goroutine has returned

	mu     sync.RWMutex
	next   uint64
	regs   map[uint64]*wsp.Readiness
	closed bool
}

// pollerEvents counts the events the pollers dispatched (tests check that
// idle sockets cause none).
var pollerEvents atomic.Int64

// errPollerClosed is returned when a socket is registered after the
// provider's last WSPCleanup.
var errPollerClosed = errors.New("host: poller closed")

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &unix.EpollEvent{Events: unix.EPOLLIN}); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, err
	}
	p := &poller{epfd: epfd, evfd: evfd, done: make(chan struct{}), next: 1, regs: make(map[uint64]*wsp.Readiness)}
	go p.run()
	return p, nil
}

// run is the poller's goroutine: it blocks in epoll_wait and dispatches.
func (p *poller) run() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for i := range events[:n] {
			ev := &events[i]
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				return // stop
			}
			p.mu.RLock()
			rd := p.regs[id]
			p.mu.RUnlock()
			pollerEvents.Add(1)
			if rd != nil {
				rd.Notify(epollToEvent(ev.Events))
			}
		}
	}
}

// epollToEvent maps epoll's bits to the readiness core's.
func epollToEvent(e uint32) wsp.Event {
	var m wsp.Event
	if e&unix.EPOLLIN != 0 {
		m |= wsp.EventIn
	}
	if e&unix.EPOLLOUT != 0 {
		m |= wsp.EventOut
	}
	if e&unix.EPOLLERR != 0 {
		m |= wsp.EventErr
	}
	if e&unix.EPOLLHUP != 0 {
		m |= wsp.EventHUp
	}
	if e&unix.EPOLLRDHUP != 0 {
		m |= wsp.EventRdHUp
	}
	if e&unix.EPOLLPRI != 0 {
		m |= wsp.EventPri
	}
	return m
}

// add registers fd, whose events go to rd, and returns the registration.
func (p *poller) add(fd int, rd *wsp.Readiness) (uint64, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, errPollerClosed
	}
	id := p.next
	p.next++
	p.regs[id] = rd
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: pollEvents, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.regs, id)
		p.mu.Unlock()
		return 0, err
	}
	return id, nil
}

// del removes registration id of fd; events of it still queued are
// dropped. Call it before closing fd.
func (p *poller) del(id uint64, fd int) {
	if id == 0 {
		return
	}
	p.mu.Lock()
	delete(p.regs, id)
	closed := p.closed
	p.mu.Unlock()
	if !closed {
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	}
}

// close stops the goroutine and releases the epoll instance. Sockets still
// registered get no more events.
func (p *poller) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	var one = [8]byte{1}
	_, _ = unix.Write(p.evfd, one[:])
	<-p.done
	unix.Close(p.evfd)
	unix.Close(p.epfd)
}

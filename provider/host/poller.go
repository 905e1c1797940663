package host

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/provider/internal/wsp"
)

// pollEvents is what every socket is registered for, edge-triggered: a
// notification on every change (new data, room to send, a connection to
// accept, the peer's FIN, a reset, urgent data), like gVisor's waiter
// queues.
const pollEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLPRI | unix.EPOLLET

// poller is the provider's one epoll instance and the one goroutine that
// dispatches its events. Each socket's descriptor is registered
// edge-triggered with a registration number (never the descriptor itself,
// which the kernel reuses), and every event is handed to that socket's
// readiness core (wsp.Readiness.Notify), which wakes blocked calls and runs
// the observers of select, WSAPoll, the FD_* events and the overlapped
// pump. Idle sockets cause no wake-up. An eventfd (registration 0) wakes
// it to stop.
//
// The goroutine does not block in epoll_wait: the epoll descriptor (which
// is itself pollable: readable while events are ready) is handed to Go's
// runtime poller (os.NewFile, syscall.RawConn.Read), and the goroutine
// parks there. When an event arrives the runtime's own netpoll makes it
// runnable like any goroutine waiting on a net.Conn; it collects the ready
// events with epoll_wait and no timeout until none is left, dispatches them
// and parks again. No OS thread sits in a blocking system call, so a
// wake-up costs no thread hand-off (a thread returning from epoll_wait
// would first have to get a P back, and the goroutine it readies would wait
// on the P that thread keeps while it blocks again), and the goroutine a
// notification readies runs next on the same P.
type poller struct {
	epfd, evfd int
	file       *os.File // epfd in the runtime poller; closing it closes epfd
	rc         syscall.RawConn
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
	// Non-blocking, so that os.NewFile registers it with the runtime
	// poller.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, err
	}
	file := os.NewFile(uintptr(epfd), "host-epoll")
	rc, err := file.SyscallConn()
	if err != nil {
		file.Close()
		unix.Close(evfd)
		return nil, err
	}
	p := &poller{epfd: epfd, evfd: evfd, file: file, rc: rc, done: make(chan struct{}), next: 1, regs: make(map[uint64]*wsp.Readiness)}
	go p.run()
	return p, nil
}

// run is the poller's goroutine: it parks in the runtime poller until the
// epoll descriptor is readable, then dispatches every ready event.
func (p *poller) run() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	err := p.rc.Read(func(uintptr) bool {
		// The runtime's registration of epfd is edge-triggered, and every
		// event queued on epfd signals it again: collect what is ready
		// (again while a batch fills the array), then park. An event
		// queued after the last epoll_wait makes the descriptor ready
		// again, which ends the park at once; nothing is lost.
		for {
			n, err := unix.EpollWait(p.epfd, events, 0)
			switch {
			case err == unix.EINTR:
				continue
			case err != nil:
				return true
			}
			if p.dispatch(events[:n]) {
				return true
			}
			if n < len(events) {
				return false
			}
		}
	})
	_ = err // only when the file is closed under it, which close avoids
}

// dispatch hands events to their sockets; it reports whether the stop
// registration was among them.
func (p *poller) dispatch(events []unix.EpollEvent) (stop bool) {
	for i := range events {
		ev := &events[i]
		id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
		if id == 0 {
			return true
		}
		p.mu.RLock()
		rd := p.regs[id]
		p.mu.RUnlock()
		pollerEvents.Add(1)
		if rd != nil {
			rd.Notify(epollToEvent(ev.Events))
		}
	}
	return false
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
	p.file.Close() // and with it epfd

}

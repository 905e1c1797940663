package netstack

import (
	"sync"

	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/ws2go/ws2/provider/internal/wsp"
)

// watchedEvents is every event a socket's readiness core listens for.
const watchedEvents = waiter.ReadableEvents | waiter.WritableEvents | waiter.EventErr | waiter.EventHUp | waiter.EventRdHUp | waiter.EventPri

// readiness is the socket's readiness core (wsp.Readiness: blocking calls,
// observers, the FD_* registration) fed by gVisor: it registers one
// waiter.Entry with the wait queue of the socket's endpoint, and
// NotifyEvent passes gVisor's events on to the core. gVisor calls it
// possibly with endpoint locks held and from the goroutine delivering a
// packet; the core only wakes waiters and calls the observers.
type readiness struct {
	wsp.Readiness
	wmu   sync.Mutex
	wq    *waiter.Queue // queue the entry is registered with, or nil
	entry waiter.Entry  // registered with wq
}

// init prepares r; it must be called once, before any other method.
func (r *readiness) init() { r.entry.Init(r, watchedEvents) }

// attach registers r with wq (the wait queue of the socket's current
// endpoint), detaching it from the previous queue, and wakes the waiters so
// they look at the new endpoint.
func (r *readiness) attach(wq *waiter.Queue) {
	r.wmu.Lock()
	old := r.wq
	r.wq = wq
	r.wmu.Unlock()
	if old != nil {
		old.EventUnregister(&r.entry)
	}
	if wq != nil {
		wq.EventRegister(&r.entry)
	}
	r.NotifyEvent(watchedEvents)
}

// detach unregisters r from its queue.
func (r *readiness) detach() {
	r.wmu.Lock()
	old := r.wq
	r.wq = nil
	r.wmu.Unlock()
	if old != nil {
		old.EventUnregister(&r.entry)
	}
}

// NotifyEvent implements waiter.EventListener: it hands gVisor's event to
// the readiness core.
func (r *readiness) NotifyEvent(mask waiter.EventMask) { r.Notify(toEvent(mask)) }

// toEvent maps gVisor's waiter events to wsp's.
func toEvent(m waiter.EventMask) wsp.Event {
	var e wsp.Event
	if m&waiter.ReadableEvents != 0 {
		e |= wsp.EventIn
	}
	if m&waiter.WritableEvents != 0 {
		e |= wsp.EventOut
	}
	if m&waiter.EventErr != 0 {
		e |= wsp.EventErr
	}
	if m&waiter.EventHUp != 0 {
		e |= wsp.EventHUp
	}
	if m&waiter.EventRdHUp != 0 {
		e |= wsp.EventRdHUp
	}
	if m&waiter.EventPri != 0 {
		e |= wsp.EventPri
	}
	return e
}

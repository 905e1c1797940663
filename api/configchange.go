package api

import (
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

// configHandles holds the event objects that are notification handles of
// WSAProviderConfigChange, weakly: an entry goes when its event is
// collected (after CloseHandle).
var configHandles sync.Map // weak.Pointer[winobj.Event] → struct{}

func markConfigHandle(ev *winobj.Event) {
	k := weak.Make(ev)
	configHandles.Store(k, struct{}{})
	runtime.AddCleanup(ev, func(k weak.Pointer[winobj.Event]) { configHandles.Delete(k) }, k)
}

func isConfigHandle(ev *winobj.Event) bool {
	_, ok := configHandles.Load(weak.Make(ev))
	return ok
}

// WSAProviderConfigChange is WSAProviderConfigChange: it tells the
// application when the protocol catalog of the Session changes (a provider
// installed, removed or updated, the order rewritten, a reset), so that it
// can enumerate the protocols again (MSL: call WSAProviderConfigChange, then
// WSAEnumProtocols, and repeat at every notification).
//
// The first call, with *handle == 0, completes at once: it makes a
// notification handle and stores it in *handle (ov and cr are not used).
// Later calls with that handle complete only at the next change of the
// catalog after the call:
//
//   - without ov the call blocks until then and returns nil;
//   - with ov it returns WSA_IO_PENDING at once (ov.Internal is
//     WSS_OPERATION_IN_PROGRESS) and completes at the change with status 0
//     and 0 bytes, by the usual rules of overlapped completion (see the
//     package doc): cr queued as an APC to the Session when given; else
//     ov.HEvent is signalled, or, when it is 0, the notification handle
//     itself, which is reset when the call starts, as a file handle's event
//     is.
//
// Each call waits for one change; call again after each notification. A
// change made by another process to a catalog file the Session's catalog is
// bound to (package provider/catalogfile with Watch) is a change too: the
// file is reloaded into the catalog. Only the transport catalog is watched
// (there is no namespace catalog yet).
//
// The handle is an event object of the Session's handle table: it can be
// waited on (WSAWaitForMultipleEvents) and is closed with CloseHandle, as
// MSL says. A pending request on a handle closed meanwhile completes, at the
// next change, with WSA_OPERATION_ABORTED. WSACleanup ends a blocked call
// with WSANOTINITIALISED and aborts pending requests (WSA_OPERATION_ABORTED
// recorded in their WSAOVERLAPPED, nothing delivered).
//
// Errors: WSANOTINITIALISED before WSAStartup, WSAEFAULT for a nil handle,
// WSA_INVALID_HANDLE when *handle is not a notification handle of the
// Session, WSA_NOT_ENOUGH_MEMORY when the handle table is full. Notification
// handles cannot be associated with a completion port.
func (s *Session) WSAProviderConfigChange(handle *wsa.Handle, ov *wsa.Overlapped, cr wsa.CompletionRoutine) error {
	inst, err := s.enter()
	if err != nil {
		return err
	}
	defer inst.gate.leave()
	if handle == nil {
		return wsa.WSAEFAULT
	}
	if *handle == 0 {
		ev := winobj.NewEvent(true, false)
		h, err := inst.table.insert(&handleEntry{kind: kindEvent, event: ev})
		switch err {
		case nil:
		case wsa.WSAEMFILE:
			return wsa.WSA_NOT_ENOUGH_MEMORY
		default:
			return err
		}
		markConfigHandle(ev)
		*handle = wsa.Handle(h)
		return nil
	}
	ent := inst.table.object(*handle, kindEvent)
	if ent == nil || !isConfigHandle(ent.event) {
		return wsa.WSA_INVALID_HANDLE
	}
	changed := inst.catalog.Changed() // the next change after this call
	if ov == nil {
		select {
		case <-changed:
			return nil
		case <-inst.done:
			return wsa.WSANOTINITIALISED
		}
	}
	atomic.StoreUintptr(&ov.Internal, wsa.WSS_OPERATION_IN_PROGRESS)
	_ = ent.event.Reset()
	if cr == nil {
		if ev := inst.event(ov.HEvent &^ 1); ev != nil {
			_ = ev.Reset()
		}
	}
	go inst.configChanged(ent, changed, ov, cr)
	return wsa.WSA_IO_PENDING
}

// configChanged completes a pending WSAProviderConfigChange at the change
// (or aborts it at WSACleanup).
func (inst *instance) configChanged(ent *handleEntry, changed <-chan struct{}, ov *wsa.Overlapped, cr wsa.CompletionRoutine) {
	var status wsa.Errno
	select {
	case <-changed:
		if inst.table.lookup(ent.h) != ent {
			status = wsa.WSA_OPERATION_ABORTED // the handle was closed
		}
	case <-inst.done:
		status = wsa.WSA_OPERATION_ABORTED
	}
	hEvent := ov.HEvent // read before Internal: the caller owns ov after that
	ov.Offset = 0
	ov.OffsetHigh = uint32(status)
	atomic.StoreUintptr(&ov.InternalHigh, 0)
	atomic.StoreUintptr(&ov.Internal, uintptr(status))
	if inst.dead.Load() {
		return // WSACleanup: recorded, not delivered
	}
	if cr != nil {
		_ = inst.apc.Queue(func() { cr(uint32(status), 0, ov, 0) })
		return
	}
	if h := hEvent &^ 1; h != 0 {
		if ev := inst.event(h); ev != nil {
			_ = ev.Set()
		}
		return
	}
	_ = ent.event.Set() // fails harmlessly if the handle was closed
}

package api

import (
	"github.com/ws2go/ws2/internal/winobj"
	"github.com/ws2go/ws2/wsa"
)

// INVALID_HANDLE_VALUE is the HANDLE value (-1) CreateIoCompletionPort takes
// to make a port with no handle associated.
const INVALID_HANDLE_VALUE = ^wsa.Handle(0)

// OverlappedEntry is OVERLAPPED_ENTRY, one packet removed by
// GetQueuedCompletionStatusEx. Internal is the packet's status: 0 for
// success, or the Win32 code of the failed operation (as
// GetQueuedCompletionStatus returns it; see Win32Error).
type OverlappedEntry struct {
	CompletionKey            uintptr
	Overlapped               *wsa.Overlapped
	Internal                 uintptr
	NumberOfBytesTransferred uint32
}

// CreateIoCompletionPort is CreateIoCompletionPort.
//
// With handle INVALID_HANDLE_VALUE and existing 0 it makes a new port that
// lets concurrency CompletionWorkers run at a time (0: as many as there are
// processors) and returns it. With a socket handle it associates the socket
// with existing (returned), or with a new port when existing is 0, under
// key: from then on every overlapped completion on the socket posts a packet
// (bytes, key, *Overlapped, status) to the port, subject to
// SetFileCompletionNotificationModes and the hEvent low-bit rule (see the
// package doc). The association lasts until the socket is closed; pending
// operations aborted by closesocket still post.
//
// Errors (the returned handle is then 0): a socket already associated with
// a port, or INVALID_HANDLE_VALUE with an existing port, is
// WSA_INVALID_PARAMETER (ERROR_INVALID_PARAMETER, 87); a handle that is not
// a socket of the Session, or an existing that is not a port of the
// Session, is WSA_INVALID_HANDLE; a full handle table is
// WSA_NOT_ENOUGH_MEMORY.
func (s *Session) CreateIoCompletionPort(handle, existing wsa.Handle, key uintptr, concurrency uint32) (wsa.Handle, error) {
	inst, err := s.started()
	if err != nil {
		return 0, err
	}
	if handle == INVALID_HANDLE_VALUE {
		if existing != 0 {
			return 0, wsa.WSA_INVALID_PARAMETER
		}
		h, _, err := inst.newPort(concurrency)
		return h, err
	}
	so := inst.table.socket(wsa.Socket(handle))
	if so == nil {
		return 0, wsa.WSA_INVALID_HANDLE
	}
	if so.port.Load() != nil {
		return 0, wsa.WSA_INVALID_PARAMETER
	}
	ph := existing
	var port *winobj.Port
	if existing == 0 {
		ph, port, err = inst.newPort(concurrency)
		if err != nil {
			return 0, err
		}
	} else {
		e := inst.table.object(existing, kindPort)
		if e == nil {
			return 0, wsa.WSA_INVALID_HANDLE
		}
		port = e.port
	}
	if !so.port.CompareAndSwap(nil, &portAssoc{port: port, key: key}) {
		if existing == 0 {
			_ = inst.closeHandle(ph, kindPort)
		}
		return 0, wsa.WSA_INVALID_PARAMETER
	}
	return ph, nil
}

func (inst *instance) newPort(concurrency uint32) (wsa.Handle, *winobj.Port, error) {
	p := winobj.NewPort(concurrency)
	h, err := inst.table.insert(&handleEntry{kind: kindPort, port: p})
	if err == wsa.WSAEMFILE {
		err = wsa.WSA_NOT_ENOUGH_MEMORY
	}
	if err != nil {
		return 0, nil, err
	}
	return wsa.Handle(h), p, nil
}

// port returns the port object of h, or WSA_INVALID_HANDLE.
func (s *Session) port(h wsa.Handle) (*instance, *winobj.Port, error) {
	inst, err := s.started()
	if err != nil {
		return nil, nil, err
	}
	e := inst.table.object(h, kindPort)
	if e == nil {
		return nil, nil, wsa.WSA_INVALID_HANDLE
	}
	return inst, e.port, nil
}

// GetQueuedCompletionStatus is GetQueuedCompletionStatus, in the shape of
// golang.org/x/sys/windows: it removes the oldest packet of port, waiting up
// to timeout milliseconds (WSA_INFINITE: no limit; 0: poll).
//
//   - A successful operation (or a PostQueuedCompletionStatus packet): nil,
//     with *qty, *key and *overlapped set.
//   - A failed operation: the Win32 code of its failure (ERROR_NETNAME_DELETED
//     for a reset, ERROR_OPERATION_ABORTED for a cancelled operation, …; see
//     Win32Error), with *qty, *key and *overlapped set (*overlapped not nil).
//     WSAGetOverlappedResult on the same operation gives the WSAE* code.
//   - Nothing removed, *overlapped set to nil: WAIT_TIMEOUT (258) when the
//     time passed, ERROR_ABANDONED_WAIT_0 (735) when the port is closed before
//     or during the call.
//
// The caller is anonymous: it is neither counted against nor held back by
// the port's concurrency value; use a CompletionWorker for that. A handle
// that is not a port of the Session is WSA_INVALID_HANDLE. nil out pointers
// are allowed and not written.
func (s *Session) GetQueuedCompletionStatus(port wsa.Handle, qty *uint32, key *uintptr, overlapped **wsa.Overlapped, timeout uint32) error {
	_, p, err := s.port(port)
	if err != nil {
		return err
	}
	pkt, err := p.Get(winobj.Millis(timeout), nil)
	return dequeued(pkt, err, qty, key, overlapped)
}

// dequeued fills GetQueuedCompletionStatus's out parameters.
func dequeued(pkt winobj.Packet, err error, qty *uint32, key *uintptr, overlapped **wsa.Overlapped) error {
	if err != nil {
		if overlapped != nil {
			*overlapped = nil
		}
		return err
	}
	if qty != nil {
		*qty = pkt.Bytes
	}
	if key != nil {
		*key = pkt.Key
	}
	if overlapped != nil {
		*overlapped = pkt.Overlapped
	}
	if pkt.Status != 0 {
		return pkt.Status
	}
	return nil
}

// GetQueuedCompletionStatusEx is GetQueuedCompletionStatusEx: it waits like
// GetQueuedCompletionStatus until at least one packet is available, then
// removes up to len(entries) of them at once, oldest first, into entries and
// sets *removed (which may be nil) to how many. Failed operations come back
// as entries like the others, with their Win32 code in Internal; the call
// itself succeeds.
//
// With alertable true the wait is an alertable wait on the Session's APC
// queue: if no packet is available it runs the queued completion routines
// in the calling goroutine and fails with WAIT_IO_COMPLETION (0xC0) having
// removed nothing. Errors otherwise: WAIT_TIMEOUT, ERROR_ABANDONED_WAIT_0,
// WSA_INVALID_PARAMETER for an empty entries, WSA_INVALID_HANDLE for a
// handle that is not a port.
func (s *Session) GetQueuedCompletionStatusEx(port wsa.Handle, entries []OverlappedEntry, removed *uint32, timeout uint32, alertable bool) error {
	inst, p, err := s.port(port)
	if err != nil {
		return err
	}
	return getMany(inst, p, nil, entries, removed, timeout, alertable)
}

// getMany is GetQueuedCompletionStatusEx on p, for worker wk (nil: an
// anonymous caller). The packets go straight into entries: nothing is
// allocated per call.
func getMany(inst *instance, p *winobj.Port, wk *winobj.Worker, entries []OverlappedEntry, removed *uint32, timeout uint32, alertable bool) error {
	if removed != nil {
		*removed = 0
	}
	if len(entries) == 0 {
		return wsa.WSA_INVALID_PARAMETER
	}
	var apc *winobj.APCQueue
	if alertable {
		apc = inst.apc
	}
	put := func(i int, pkt winobj.Packet) {
		entries[i] = OverlappedEntry{
			CompletionKey:            pkt.Key,
			Overlapped:               pkt.Overlapped,
			Internal:                 uintptr(pkt.Status),
			NumberOfBytesTransferred: pkt.Bytes,
		}
	}
	var n int
	var err error
	if wk != nil {
		n, err = wk.GetManyFunc(len(entries), put, winobj.Millis(timeout), apc)
	} else {
		n, err = p.GetManyFunc(len(entries), put, winobj.Millis(timeout), apc)
	}
	if err != nil {
		return err
	}
	if removed != nil {
		*removed = uint32(n)
	}
	return nil
}

// PostQueuedCompletionStatus is PostQueuedCompletionStatus: it queues a
// successful packet (qty, key, overlapped) to port; overlapped may be nil
// and is handed back as given. A handle that is not a port of the Session,
// or a closed port, is WSA_INVALID_HANDLE.
func (s *Session) PostQueuedCompletionStatus(port wsa.Handle, qty uint32, key uintptr, overlapped *wsa.Overlapped) error {
	_, p, err := s.port(port)
	if err != nil {
		return err
	}
	return p.Post(winobj.Packet{Bytes: qty, Key: key, Overlapped: overlapped})
}

// CompletionWorker is one thread of a completion port's thread pool, for
// the port's concurrency value. In Windows the kernel counts the threads of
// a port that are running (between the packet a thread removes and its next
// GetQueuedCompletionStatus, unless it blocks elsewhere) and releases a
// packet to a waiting thread only while fewer than the concurrency value
// run. Goroutines have no identity, so the count needs one: each worker
// goroutine makes its own CompletionWorker and removes packets through it.
// It counts as running from each packet it removes until its next
// GetQueuedCompletionStatus(Ex) or Release, and waits while concurrency
// workers run. Blocked workers are served last-in first-out, as Windows does.
//
// The Go rule: a worker that is about to block on anything other than its
// port (a lock, a channel, a blocking Winsock call) should call Release
// first, since Go cannot see the block the way the Windows kernel does.
// Session.GetQueuedCompletionStatus is the anonymous form: never counted,
// never held back.
//
// A CompletionWorker belongs to one goroutine at a time: two concurrent
// calls on it fail with WSA_INVALID_PARAMETER.
type CompletionWorker struct {
	inst *instance
	w    *winobj.Worker
}

// NewCompletionWorker makes a worker identity of port for the calling
// goroutine. A handle that is not a port of the Session is
// WSA_INVALID_HANDLE.
func (s *Session) NewCompletionWorker(port wsa.Handle) (*CompletionWorker, error) {
	inst, p, err := s.port(port)
	if err != nil {
		return nil, err
	}
	return &CompletionWorker{inst: inst, w: p.NewWorker()}, nil
}

// GetQueuedCompletionStatus is Session.GetQueuedCompletionStatus for the
// worker, counted against the port's concurrency value.
func (w *CompletionWorker) GetQueuedCompletionStatus(qty *uint32, key *uintptr, overlapped **wsa.Overlapped, timeout uint32) error {
	pkt, err := w.w.Get(winobj.Millis(timeout), nil)
	return dequeued(pkt, err, qty, key, overlapped)
}

// GetQueuedCompletionStatusEx is Session.GetQueuedCompletionStatusEx for
// the worker, which counts as one running worker however many packets it
// removes.
func (w *CompletionWorker) GetQueuedCompletionStatusEx(entries []OverlappedEntry, removed *uint32, timeout uint32, alertable bool) error {
	return getMany(w.inst, nil, w.w, entries, removed, timeout, alertable)
}

// Release stops counting the worker as running until it removes its next
// packet, letting another worker run: call it before blocking on anything
// but the port, and before the worker goroutine exits.
func (w *CompletionWorker) Release() { w.w.Release() }

package api

import "github.com/ws2go/ws2/wsa"

// Test-only access to the Session's APC queue and event states.

// RunAPCs runs the completion routines queued to the Session's APC queue, as
// an alertable wait does, and returns how many ran.
func (s *Session) RunAPCs() int {
	inst, err := s.started()
	if err != nil {
		return 0
	}
	return inst.apc.RunPending()
}

// EventSignalled reports whether h is a signalled event of the Session, or
// a socket whose handle is signalled.
func (s *Session) EventSignalled(h wsa.Handle) bool {
	inst, err := s.started()
	if err != nil {
		return false
	}
	e := inst.table.lookup(uintptr(h))
	switch {
	case e == nil:
		return false
	case e.kind == kindEvent:
		return e.event.IsSet()
	case e.kind == kindSocket:
		return e.sock.ioEvent().IsSet()
	}
	return false
}

// APCPending reports whether APCs are queued.
func (s *Session) APCPending() bool {
	inst, err := s.started()
	if err != nil {
		return false
	}
	return inst.apc.Pending() > 0
}

// PendingOps is the number of overlapped operations the api tracks.
func (s *Session) PendingOps() int {
	inst, err := s.started()
	if err != nil {
		return 0
	}
	inst.omu.Lock()
	defer inst.omu.Unlock()
	return len(inst.ops)
}

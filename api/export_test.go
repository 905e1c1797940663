package api

import "github.com/ws2go/ws2/wsa"

// Test-only access to the parts the next issue will expose (alertable waits,
// event waits).

// RunAPCs runs the completion routines queued to the Session's APC queue, as
// an alertable wait will, and returns how many ran.
func (s *Session) RunAPCs() int {
	inst, err := s.started()
	if err != nil {
		return 0
	}
	return inst.apc.run()
}

// EventSignalled reports whether h is a signalled event of the Session.
func (s *Session) EventSignalled(h wsa.Handle) bool {
	inst, err := s.started()
	if err != nil {
		return false
	}
	e := inst.table.lookup(uintptr(h))
	if e == nil || e.kind != kindEvent {
		return false
	}
	select {
	case <-e.event.signalled():
		return true
	default:
		return false
	}
}

// APCPending reports whether APCs are queued.
func (s *Session) APCPending() bool {
	inst, err := s.started()
	if err != nil {
		return false
	}
	select {
	case <-inst.apc.pending():
		return true
	default:
		return false
	}
}

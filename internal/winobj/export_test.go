package winobj

// Hooks for the tests in package winobj_test.

// EventWaiters returns the number of waits queued on e.
func EventWaiters(e *Event) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for l := e.head; l != nil; l = l.next {
		n++
	}
	return n
}

// PortWaiters returns the number of callers blocked in Get on p.
func PortWaiters(p *Port) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range []*waitStack{&p.anon, &p.workers} {
		for w := s.head; w != nil; w = w.next {
			n++
		}
	}
	return n
}

// PortRunning returns the number of workers p counts as running.
func PortRunning(p *Port) uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

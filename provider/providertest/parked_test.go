package providertest

import (
	"strings"
	"testing"
	"time"
)

// parkedHere blocks on ch, reporting its goroutine id first.
func parkedHere(id chan<- uint64, ch <-chan struct{}) {
	id <- currentGoroutine()
	<-ch
}

func TestGoroutines(t *testing.T) {
	self := currentGoroutine()
	if self == 0 {
		t.Fatal("currentGoroutine() = 0")
	}
	ids, release := make(chan uint64), make(chan struct{})
	defer close(release)
	go parkedHere(ids, release)
	id := <-ids

	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		var me, parked *Goroutine
		gs := Goroutines()
		for i, g := range gs {
			switch g.ID {
			case self:
				me = &gs[i]
			case id:
				parked = &gs[i]
			}
		}
		if me == nil || me.State != "running" || !strings.HasPrefix(me.Stack, "goroutine ") || !strings.Contains(me.Stack, "providertest.TestGoroutines(") {
			t.Fatalf("the calling goroutine %d: %+v", self, me)
		}
		if parked == nil || !strings.Contains(parked.Stack, "providertest.parkedHere(") {
			t.Fatalf("goroutine %d: %+v", id, parked)
		}
		if parked.State == "chan receive" {
			if states := goroutineStates(); states[id] != "chan receive" || states[self] != "running" {
				t.Fatalf("goroutineStates() = %v", states)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutine %d still %q, want chan receive", id, parked.State)
		}
	}
}

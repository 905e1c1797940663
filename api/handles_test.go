package api

import (
	"sync"
	"testing"

	"github.com/ws2go/ws2/wsa"
)

func newTestSocket() *socketObj {
	so := &socketObj{}
	so.ent = handleEntry{kind: kindSocket, sock: so}
	so.gate.init(nil)
	return so
}

func TestHandleTable(t *testing.T) {
	tab := newHandleTable()
	var objs []*socketObj
	for i := 0; i < 3*chunkSize+5; i++ {
		so := newTestSocket()
		h, err := tab.insert(&so.ent)
		if err != nil {
			t.Fatal(err)
		}
		if h != uintptr(4*(i+1)) {
			t.Fatalf("handle %d = %#x, want %#x", i, h, 4*(i+1))
		}
		objs = append(objs, so)
	}
	for _, so := range objs {
		if tab.socket(so.handle()) != so {
			t.Fatalf("lookup %#x", so.handle())
		}
	}
	// Removal checks identity; freed values are reused last-in first-out.
	a, b := objs[10], objs[2000]
	if !tab.remove(&a.ent) || !tab.remove(&b.ent) {
		t.Fatal("remove")
	}
	if tab.remove(&a.ent) {
		t.Fatal("removed twice")
	}
	if tab.socket(a.handle()) != nil {
		t.Fatal("removed handle still found")
	}
	c, d := newTestSocket(), newTestSocket()
	hc, _ := tab.insert(&c.ent)
	hd, _ := tab.insert(&d.ent)
	if hc != b.ent.h || hd != a.ent.h {
		t.Errorf("reuse: got %#x %#x, want %#x %#x", hc, hd, b.ent.h, a.ent.h)
	}
	stale := &handleEntry{kind: kindSocket, h: hc}
	if tab.remove(stale) {
		t.Error("removed an entry that no longer holds the value")
	}
	for _, h := range []uintptr{0, 1, 2, 3, 5, ^uintptr(0), ^uintptr(3), 1 << 40} {
		if tab.lookup(h) != nil {
			t.Errorf("lookup(%#x) found something", h)
		}
	}
	tab.close()
	if tab.socket(c.handle()) != nil {
		t.Error("closed table still finds handles")
	}
	if _, err := tab.insert(&newTestSocket().ent); err != wsa.WSANOTINITIALISED {
		t.Errorf("insert into closed table: %v", err)
	}
}

func TestHandleTableConcurrent(t *testing.T) {
	tab := newHandleTable()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				so := newTestSocket()
				h, err := tab.insert(&so.ent)
				if err != nil {
					t.Error(err)
					return
				}
				if tab.socket(wsa.Socket(h)) != so {
					t.Errorf("handle %#x: lookup found another object", h)
					return
				}
				if i%3 != 0 {
					tab.remove(&so.ent)
				}
			}
		}()
	}
	wg.Wait()
}

// idleFunc is a gateIdler calling itself.
type idleFunc func()

func (f idleFunc) gateIdle() { f() }

func TestRefGate(t *testing.T) {
	var g refGate
	idle := 0
	g.init(idleFunc(func() { idle++ }))
	for range 2 {
		if !g.enter() {
			t.Fatal("enter")
		}
	}
	done := g.shut()
	if g.enter() {
		t.Fatal("enter after shut")
	}
	g.leave()
	select {
	case <-done:
		t.Fatal("done with a user left")
	default:
	}
	g.leave()
	<-done
	g.shut() // again: no double close
	if idle != 1 {
		t.Errorf("idle called %d times", idle)
	}
	var g2 refGate
	g2.init(nil)
	<-g2.shut() // nobody inside: done at once
}

// BenchmarkLookup measures the hot-path handle lookup (what every call on a
// socket does first) against a sync.Map keyed by handle, the alternative,
// with 1000 live sockets, from parallel goroutines.
func BenchmarkLookup(b *testing.B) {
	const n = 1000
	tab := newHandleTable()
	var m sync.Map
	hs := make([]wsa.Socket, n)
	for i := range hs {
		so := newTestSocket()
		h, _ := tab.insert(&so.ent)
		hs[i] = wsa.Socket(h)
		m.Store(hs[i], so)
	}
	b.Run("table", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if tab.socket(hs[i%n]) == nil {
					b.Fatal("miss")
				}
				i++
			}
		})
	})
	b.Run("sync.Map", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				v, ok := m.Load(hs[i%n])
				if !ok || v.(*socketObj) == nil {
					b.Fatal("miss")
				}
				i++
			}
		})
	})
	// The whole prolog of a socket call: Session check, lookup, gate.
	b.Run("call prolog", func(b *testing.B) {
		s := &Session{}
		inst := &instance{table: tab}
		inst.gate.init(nil)
		s.cur.Store(inst)
		p := &loadedProvider{}
		for _, h := range hs {
			tab.socket(h).prov.Store(p)
		}
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, so, _, err := s.sock(hs[i%n])
				if err != nil {
					b.Fatal(err)
				}
				so.gate.leave()
				i++
			}
		})
	})
}

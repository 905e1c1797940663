package winobj_test

import (
	"testing"

	"github.com/ws2go/ws2/internal/winobj"
)

// BenchmarkEventSetWait ping-pongs between two goroutines over two
// auto-reset events: one op is a round trip (two Sets, two Waits).
func BenchmarkEventSetWait(b *testing.B) {
	ping, pong := winobj.NewEvent(false, false), winobj.NewEvent(false, false)
	ping1, pong1 := []*winobj.Event{ping}, []*winobj.Event{pong}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if r, _ := winobj.Wait(ping1, false, winobj.Infinite, nil); r != 0 {
				return
			}
			pong.Set()
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		ping.Set()
		winobj.Wait(pong1, false, winobj.Infinite, nil)
	}
	ping.Close()
	<-done
}

// BenchmarkWaitAny64 polls 64 events, the last one signalled.
func BenchmarkWaitAny64(b *testing.B) {
	es := events(64, true, false)
	es[63].Set()
	b.ReportAllocs()
	for b.Loop() {
		winobj.Wait(es, false, 0, nil)
	}
}

// BenchmarkPortPostGet posts and removes one packet in one goroutine.
func BenchmarkPortPostGet(b *testing.B) {
	p := winobj.NewPort(1)
	b.ReportAllocs()
	for b.Loop() {
		p.Post(winobj.Packet{Key: 1})
		p.Get(winobj.Infinite, nil)
	}
}

// BenchmarkPortPostGetParallel has producers and workers on one port, each
// worker blocking when the port is empty.
func BenchmarkPortPostGetParallel(b *testing.B) {
	p := winobj.NewPort(0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := p.NewWorker()
		for pb.Next() {
			p.Post(winobj.Packet{Key: 1})
			w.Get(winobj.Infinite, nil)
		}
		w.Release()
	})
}

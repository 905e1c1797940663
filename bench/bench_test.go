package bench_test

import (
	"testing"

	"github.com/ws2go/ws2/bench"
)

func BenchmarkTCPBulk(b *testing.B)   { bench.RunGroup(b, "TCPBulk") }
func BenchmarkLatency(b *testing.B)   { bench.RunGroup(b, "Latency") }
func BenchmarkConnSetup(b *testing.B) { bench.RunGroup(b, "ConnSetup") }
func BenchmarkUDP(b *testing.B)       { bench.RunGroup(b, "UDP") }
func BenchmarkIdle(b *testing.B)      { bench.RunGroup(b, "Idle") }
func BenchmarkEchoMany(b *testing.B)  { bench.RunGroup(b, "EchoMany") }

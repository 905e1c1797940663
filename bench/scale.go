package bench

import (
	"flag"
	"fmt"
	"syscall"
	"testing"
)

// Mode sizes the many-connection workloads (Idle, EchoMany): "full" or
// "quick". The runner sets it from -quick; left empty (go test), the small
// sizes are used under -benchtime=1x, -short or -race, the full ones
// otherwise.
var Mode string

// small tells whether the many-connection workloads run at their small size.
func small() bool {
	switch Mode {
	case "full":
		return false
	case "quick":
		return true
	}
	if raceEnabled || testing.Short() {
		return true
	}
	f := flag.Lookup("test.benchtime")
	return f != nil && f.Value.String() == "1x"
}

// Connection counts of the many-connection workloads, full and small.
const (
	IdleConnsFull  = 10000
	IdleConnsSmall = 1000
	EchoConnsFull  = 1000
	EchoConnsSmall = 100
)

func idleConns() int {
	if small() {
		return IdleConnsSmall
	}
	return IdleConnsFull
}

func echoConns() int {
	if small() {
		return EchoConnsSmall
	}
	return EchoConnsFull
}

// kernelConnCap is how many connections (two descriptors each) fit in the
// process's open-file limit, keeping 512 descriptors spare.
func kernelConnCap() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1000
	}
	return max(0, (int(rl.Cur)-512)/2)
}

// cpuTime is the process's user + system CPU time in seconds
// (getrusage(RUSAGE_SELF), all threads).
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// CPUMetric is the unit every benchmark reports with b.ReportMetric: the
// process's user + system CPU time (getrusage(RUSAGE_SELF): every thread of
// the process, both ends of the connections, the stacks' goroutines, the
// garbage collector, and the kernel's work done in this process's system
// calls and in softirqs it happened to run) over the timed part of the
// benchmark, divided by b.N.
const CPUMetric = "cpu-µs/op"

// reportCPU reports CPUMetric for the CPU time used since cpu0 (a
// cpuTime value taken when the timed part started) over ops operations.
func reportCPU(b *testing.B, cpu0 float64, ops int) {
	b.ReportMetric((cpuTime()-cpu0)*1e6/float64(max(ops, 1)), CPUMetric)
}

// FailureHook, if set, receives the message of every failure of a
// benchmark of this package before the benchmark fails: testing.Benchmark,
// which the runner uses, discards a failed benchmark's output.
var FailureHook func(msg string)

// fatalf fails b (b.Fatal) with the message, passing it to FailureHook.
func fatalf(b *testing.B, format string, args ...any) {
	b.Helper()
	msg := fmt.Sprintf(format, args...)
	if FailureHook != nil {
		FailureHook(msg)
	}
	b.Fatal(msg)
}

// errorf is fatalf with b.Error: the benchmark goes on.
func errorf(b *testing.B, format string, args ...any) {
	b.Helper()
	msg := fmt.Sprintf(format, args...)
	if FailureHook != nil {
		FailureHook(msg)
	}
	b.Error(msg)
}

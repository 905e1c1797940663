package bench

import (
	"fmt"
	"strings"
	"testing"
)

// Param is one name=value of a benchmark's sub-name.
type Param struct{ Name, Value string }

// Case is one benchmark: a workload on a path with parameters. Its go test
// name is Benchmark<Workload>/path=<Path>/<params...>.
type Case struct {
	Workload string // TCPBulk, Latency, ConnSetup, UDP, Idle, EchoMany
	Path     string
	Params   []Param
	// Metrics are the units reported with b.ReportMetric that the runner
	// shows, in order.
	Metrics []string
	Run     func(b *testing.B)
	// Once marks a benchmark whose single op is the whole measurement
	// (Idle): the runner runs it with -benchtime=1x.
	Once bool
	// MaxN, if not zero, caps the ops of one measurement: the runner
	// times a short probe and then runs min(MaxN, -benchtime's worth) ops
	// (ConnSetup, see ConnSetupMaxN).
	MaxN int
	// TUN marks the benchmarks of the TUN-family paths (tun-water,
	// tun-offload, veth): they need root and /dev/net/tun, see
	// TUNUnavailable.
	TUN bool
}

// Sub is the sub-benchmark name below Benchmark<Workload>.
func (c Case) Sub() string {
	parts := []string{"path=" + c.Path}
	for _, p := range c.Params {
		parts = append(parts, p.Name+"="+p.Value)
	}
	return strings.Join(parts, "/")
}

// Name is the full benchmark name.
func (c Case) Name() string { return "Benchmark" + c.Workload + "/" + c.Sub() }

// Pipe MTUs measured; the kernel paths have loopback's one MTU.
var PipeMTUs = []uint32{1500, 9000, 65535}

func withEnv(path string, mtu uint32, f func(b *testing.B, env Env)) func(b *testing.B) {
	return func(b *testing.B) {
		env, err := NewEnv(path, mtu)
		if err != nil {
			fatalf(b, "%v", err)
		}
		defer env.Close()
		f(b, env)
	}
}

// pathMTUs lists each wsnet-style path with the MTUs it runs at (0: the
// kernel's loopback).
func pathMTUs(pipeMTUs []uint32) []struct {
	path string
	mtu  uint32
} {
	var out []struct {
		path string
		mtu  uint32
	}
	for _, p := range []string{PathAPINetstack, PathGonet} {
		for _, m := range pipeMTUs {
			out = append(out, struct {
				path string
				mtu  uint32
			}{p, m})
		}
	}
	for _, p := range []string{PathAPIHost, PathNet} {
		out = append(out, struct {
			path string
			mtu  uint32
		}{p, 0})
	}
	return out
}

func mtuParams(mtu uint32, ps ...Param) []Param {
	if mtu != 0 {
		ps = append(ps, Param{"mtu", fmt.Sprint(mtu)})
	}
	return ps
}

// Cases returns every benchmark of the suite, in the order they run.
func Cases() []Case {
	var cs []Case
	for _, streams := range []int{1, 4} {
		for _, pm := range pathMTUs(PipeMTUs) {
			cs = append(cs, Case{
				Workload: "TCPBulk", Path: pm.path,
				Params:  mtuParams(pm.mtu, Param{"streams", fmt.Sprint(streams)}),
				Metrics: []string{"Gbit/s"},
				Run:     withEnv(pm.path, pm.mtu, func(b *testing.B, env Env) { BulkTCP(b, env, streams) }),
			})
		}
		for _, m := range PipeMTUs {
			cs = append(cs, Case{
				Workload: "TCPBulk", Path: PathAPINetstackNative,
				Params:  mtuParams(m, Param{"streams", fmt.Sprint(streams)}),
				Metrics: []string{"Gbit/s"},
				Run:     func(b *testing.B) { BulkTCPNative(b, PathAPINetstackNative, m, streams) },
			})
		}
		cs = append(cs, Case{
			Workload: "TCPBulk", Path: PathAPIHostNative,
			Params:  []Param{{"streams", fmt.Sprint(streams)}},
			Metrics: []string{"Gbit/s"},
			Run:     func(b *testing.B) { BulkTCPNative(b, PathAPIHostNative, 0, streams) },
		})
	}
	// Latency, setup and UDP at the pipe's default MTU.
	for _, size := range []int{1, 1024} {
		for _, pm := range pathMTUs([]uint32{1500}) {
			cs = append(cs, Case{
				Workload: "Latency", Path: pm.path,
				Params:  mtuParams(pm.mtu, Param{"size", fmt.Sprint(size)}),
				Metrics: []string{"p50-µs", "p99-µs"},
				Run:     withEnv(pm.path, pm.mtu, func(b *testing.B, env Env) { Latency(b, env, size) }),
			})
		}
	}
	for _, pm := range pathMTUs([]uint32{1500}) {
		cs = append(cs, Case{
			Workload: "ConnSetup", Path: pm.path,
			Params:  mtuParams(pm.mtu),
			Metrics: []string{"conns/s"},
			MaxN:    ConnSetupMaxN,
			Run:     withEnv(pm.path, pm.mtu, ConnSetup),
		})
	}
	for _, size := range []int{64, 1400} {
		for _, pm := range pathMTUs([]uint32{1500}) {
			cs = append(cs, Case{
				Workload: "UDP", Path: pm.path,
				Params:  mtuParams(pm.mtu, Param{"size", fmt.Sprint(size)}),
				Metrics: []string{"dgrams/s", "loss-%"},
				Run:     withEnv(pm.path, pm.mtu, func(b *testing.B, env Env) { UDP(b, env, size) }),
			})
		}
	}
	// Idle connections: every wsnet-style path at the pipe's default MTU;
	// the kernel paths capped by the open-file limit (two descriptors per
	// connection).
	for _, pm := range pathMTUs([]uint32{1500}) {
		n := idleConns()
		if pm.mtu == 0 {
			n = min(n, kernelConnCap())
		}
		cs = append(cs, Case{
			Workload: "Idle", Path: pm.path,
			Params:  mtuParams(pm.mtu, Param{"conns", fmt.Sprint(n)}),
			Metrics: []string{"KiB/conn", "idle-cpu-ms"},
			Once:    true,
			Run:     withEnv(pm.path, pm.mtu, func(b *testing.B, env Env) { Idle(b, env, n) }),
		})
	}
	// Echo over many connections: the IOCP+AcceptEx server against the
	// goroutine-per-connection server (the baseline), both on the api over
	// a netstack pipe.
	for _, srv := range []struct{ path, kind string }{{PathAPINetstackIOCP, EchoIOCP}, {PathAPINetstackGoroutines, EchoGoroutines}} {
		n := echoConns()
		cs = append(cs, Case{
			Workload: "EchoMany", Path: srv.path,
			Params:  mtuParams(1500, Param{"conns", fmt.Sprint(n)}, Param{"size", fmt.Sprint(EchoSize)}),
			Metrics: []string{"req/s"},
			Run:     func(b *testing.B) { EchoMany(b, srv.kind, n) },
		})
	}
	// The TUN paths and their veth baseline, in namespaces of their own.
	return append(cs, tunCases()...)
}

// RunGroup runs the cases of workload as sub-benchmarks of b.
func RunGroup(b *testing.B, workload string) {
	for _, c := range Cases() {
		if c.Workload == workload {
			b.Run(c.Sub(), c.Run)
		}
	}
}

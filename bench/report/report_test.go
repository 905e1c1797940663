package report

import (
	"bytes"
	"image/png"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() *Report {
	return &Report{
		Date:      time.Date(2026, 11, 26, 1, 30, 0, 0, time.UTC),
		Machine:   Machine{Cores: 2, CPU: "Test CPU", Kernel: "Linux 6.0", Go: "go1.26", OSArch: "linux/amd64"},
		Quick:     true,
		BenchTime: "500ms",
		Baselines: []string{"gonet", "net"},
		Rows: []Row{
			{Workload: "TCPBulk", Params: "streams=1 mtu=1500", Path: "api-netstack", Figure: "Gbit/s", Value: 3, Allocs: 10},
			{Workload: "TCPBulk", Params: "streams=1 mtu=1500", Path: "gonet", Figure: "Gbit/s", Value: 4},
			{Workload: "TCPBulk", Params: "streams=1 mtu=65535", Path: "gonet", Figure: "Gbit/s", Value: 8},
			{Workload: "TCPBulk", Params: "streams=1", Path: "net", Figure: "Gbit/s", Value: 10},
			{Workload: "TCPBulk", Params: "streams=1", Path: "api-host", Figure: "Gbit/s", Value: 5},
			{Workload: "Latency", Params: "size=1 mtu=1500", Path: "api-netstack", Figure: "p50-µs", Value: 30},
			{Workload: "Latency", Params: "size=1 mtu=1500", Path: "gonet", Figure: "p50-µs", Value: 20},
			{Workload: "UDP", Params: "size=64 mtu=1500", Path: "gonet", Figure: "loss-%", Value: 0},
			{Workload: "UDP", Params: "size=64 mtu=1500", Path: "api-netstack", Figure: "loss-%", Value: 1},
		},
	}
}

func TestCompute(t *testing.T) {
	r := sample()
	r.Compute()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for _, c := range []struct {
		row      int
		baseline string
		want     float64 // NaN: no ratio
	}{
		{0, "gonet", 0.75}, // same params
		{0, "net", 0.3},    // net has no mtu: compared without it
		{1, "gonet", 1},
		{3, "gonet", 1.25}, // kernel row: gonet at the largest MTU
		{4, "net", 0.5},
		{4, "gonet", 0.625},
		{5, "gonet", 1.5},
		{5, "net", math.NaN()},   // no net latency row
		{8, "gonet", math.NaN()}, // baseline value 0
	} {
		got, ok := r.Rows[c.row].Ratios[c.baseline]
		if math.IsNaN(c.want) {
			if ok {
				t.Errorf("row %d vs %s: ratio %v, want none", c.row, c.baseline, got)
			}
			continue
		}
		if !ok || !near(got, c.want) {
			t.Errorf("row %d vs %s: ratio %v (present %v), want %v", c.row, c.baseline, got, ok, c.want)
		}
	}
}

// tunSample has TUN rows against veth (with a direction parameter), next to
// pipe and kernel rows, and a pipe MTU whose baseline row is missing.
func tunSample() *Report {
	return &Report{
		Baselines: []string{"gonet", "net", "veth"},
		Rows: []Row{
			{Workload: "TCPBulk", Params: "streams=1 mtu=1500", Path: "gonet", Figure: "Gbit/s", Value: 4},
			{Workload: "TCPBulk", Params: "streams=1 mtu=65535", Path: "gonet", Figure: "Gbit/s", Value: 8},
			{Workload: "TCPBulk", Params: "streams=1", Path: "net", Figure: "Gbit/s", Value: 10},
			{Workload: "TCPBulk", Params: "dir=k2w streams=1 mtu=1500", Path: "tun-water", Figure: "Gbit/s", Value: 1},
			{Workload: "TCPBulk", Params: "dir=k2w streams=1 mtu=1500", Path: "tun-offload", Figure: "Gbit/s", Value: 3},
			{Workload: "TCPBulk", Params: "dir=k2w streams=1 mtu=1500", Path: "veth", Figure: "Gbit/s", Value: 4},
			{Workload: "TCPBulk", Params: "dir=w2k streams=1 mtu=1500", Path: "tun-water", Figure: "Gbit/s", Value: 1},
			{Workload: "TCPBulk", Params: "dir=w2k streams=1 mtu=1500", Path: "veth", Figure: "Gbit/s", Value: 5},
			// No veth row at 65535: must not fall back to veth at 1500.
			{Workload: "TCPBulk", Params: "dir=k2w streams=1 mtu=65535", Path: "tun-water", Figure: "Gbit/s", Value: 2},
			// No gonet row at 9000: must not fall back to gonet at 65535.
			{Workload: "TCPBulk", Params: "streams=1 mtu=9000", Path: "api-netstack", Figure: "Gbit/s", Value: 6},
			{Workload: "Latency", Params: "dir=k2w size=1 mtu=1500", Path: "tun-water", Figure: "p50-µs", Value: 60},
			{Workload: "Latency", Params: "dir=k2w size=1 mtu=1500", Path: "veth", Figure: "p50-µs", Value: 20},
			{Workload: "Latency", Params: "dir=k2w size=1 mtu=1500", Path: "veth", Figure: "p99-µs", Value: 90},
		},
	}
}

func TestComputeTUN(t *testing.T) {
	r := tunSample()
	r.Compute()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for _, c := range []struct {
		name     string
		row      int
		baseline string
		want     float64 // NaN: no ratio
	}{
		{"tun vs veth, same direction", 3, "veth", 0.25},
		{"offload vs veth", 4, "veth", 0.75},
		{"other direction", 6, "veth", 0.2},
		{"veth vs itself", 5, "veth", 1},
		{"tun row meets no pipe baseline", 3, "gonet", math.NaN()},
		{"tun row meets no loopback baseline", 3, "net", math.NaN()},
		{"veth meets no loopback baseline", 5, "net", math.NaN()},
		{"no veth row at that MTU", 8, "veth", math.NaN()},
		{"no gonet row at that MTU", 9, "gonet", math.NaN()},
		{"pipe row against loopback still without mtu", 9, "net", 0.6},
		{"kernel row against the largest pipe MTU", 2, "gonet", 1.25},
		{"latency p50 vs veth p50, not p99", 10, "veth", 3},
	} {
		got, ok := r.Rows[c.row].Ratios[c.baseline]
		if math.IsNaN(c.want) {
			if ok {
				t.Errorf("%s: row %d vs %s: ratio %v, want none", c.name, c.row, c.baseline, got)
			}
			continue
		}
		if !ok || !near(got, c.want) {
			t.Errorf("%s: row %d vs %s: ratio %v (present %v), want %v", c.name, c.row, c.baseline, got, ok, c.want)
		}
	}
}

func TestTableCPUAndSkipped(t *testing.T) {
	r := tunSample()
	r.Rows[3].CPUSeconds, r.Rows[3].CPUPerOp = 3.25, 412.5
	r.Skipped = []Skip{{"BenchmarkTCPBulk/path=tun-water/dir=k2w", "no TUN driver"}, {"BenchmarkTCPBulk/path=veth/dir=k2w", "no TUN driver"}, {"BenchmarkX", "other"}}
	r.Compute()
	var tb bytes.Buffer
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	out := tb.String()
	for _, want := range []string{"cpu-s", "cpu-µs/op", "3.25", "412.5", "vs veth", "SKIPPED 2 benchmarks: no TUN driver", "SKIPPED 1 benchmarks: other"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := sample()
	r.Compute()
	r.Failed = []string{"BenchmarkX/path=y"}
	r.Skipped = []Skip{{"BenchmarkZ/path=veth", "not root"}}
	r.Rows[0].CPUPerOp, r.Rows[0].CPUSeconds, r.Rows[0].N, r.Rows[0].TimedSeconds = 12.5, 0.25, 20000, 0.5
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, r)
	}
}

func TestTableAndPNG(t *testing.T) {
	r := sample()
	r.Compute()
	var tb bytes.Buffer
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	out := tb.String()
	for _, want := range []string{"2 cores, Test CPU, Linux 6.0", "vs gonet", "vs net", "0.75", "1.25"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	var pb bytes.Buffer
	if err := r.WritePNG(&pb); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&pb)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("chart is %v", b)
	}
}

func TestLowerIsBetter(t *testing.T) {
	for fig, want := range map[string]bool{"p50-µs": true, "loss-%": true, "KiB/conn": true, "idle-cpu-ms": true, "Gbit/s": false, "req/s": false, "conns/s": false} {
		if got := LowerIsBetter(fig); got != want {
			t.Errorf("LowerIsBetter(%q) = %v, want %v", fig, got, want)
		}
	}
}

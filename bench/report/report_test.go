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

func TestJSONRoundTrip(t *testing.T) {
	r := sample()
	r.Compute()
	r.Failed = []string{"BenchmarkX/path=y"}
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

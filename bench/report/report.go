// Package report holds the bench runner's results: the table with ratios
// to the baselines measured in the same run, the JSON file and the PNG
// chart.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Machine describes where a run happened.
type Machine struct {
	Cores  int    `json:"cores"`
	CPU    string `json:"cpu"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	OSArch string `json:"os_arch"`
}

// ThisMachine reads the machine's description (Linux: /proc).
func ThisMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH, CPU: "unknown", Kernel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// Row is one figure of one benchmark.
type Row struct {
	Workload string  `json:"workload"` // TCPBulk, Latency, ConnSetup, UDP, Idle, EchoMany
	Params   string  `json:"params"`   // "streams=1 mtu=1500"; no mtu on kernel paths
	Path     string  `json:"path"`
	Figure   string  `json:"figure"` // the unit: Gbit/s, p50-µs, conns/s…
	Value    float64 `json:"value"`
	Allocs   float64 `json:"allocs_per_op"`
	// CPUPerOp is the process's CPU time (user+system, getrusage) over the
	// benchmark's timed part divided by its ops, in µs; CPUSeconds is that
	// time in all, over N ops taking TimedSeconds of wall time. They belong
	// to the benchmark, so every figure row of one benchmark has the same.
	CPUPerOp     float64 `json:"cpu_us_per_op"`
	CPUSeconds   float64 `json:"cpu_s"`
	N            int     `json:"n"`
	TimedSeconds float64 `json:"timed_s"`
	// Ratios is Value over each baseline path's Value for the same
	// workload, parameters and figure (see Compute); absent when that
	// baseline has no matching row.
	Ratios map[string]float64 `json:"ratios,omitempty"`
}

// Report is one run.
type Report struct {
	Date      time.Time `json:"date"`
	Machine   Machine   `json:"machine"`
	Quick     bool      `json:"quick"`
	BenchTime string    `json:"benchtime"`
	Baselines []string  `json:"baselines"`
	Rows      []Row     `json:"rows"`
	Failed    []string  `json:"failed,omitempty"`
	Skipped   []Skip    `json:"skipped,omitempty"`
}

// Skip is a benchmark the runner did not run, and why.
type Skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// LowerIsBetter tells whether a smaller figure is better (latencies, loss,
// memory per connection, CPU time).
func LowerIsBetter(figure string) bool {
	return strings.HasSuffix(figure, "-µs") || strings.HasPrefix(figure, "loss") ||
		figure == "KiB/conn" || strings.HasSuffix(figure, "cpu-ms")
}

// splitMTU returns params without its mtu=N field, and N (0 if absent).
func splitMTU(params string) (rest string, mtu int) {
	var keep []string
	for f := range strings.FieldsSeq(params) {
		if v, ok := strings.CutPrefix(f, "mtu="); ok {
			mtu, _ = strconv.Atoi(v)
			continue
		}
		keep = append(keep, f)
	}
	return strings.Join(keep, " "), mtu
}

// Compute fills each row's Ratios: Value / baseline Value, the baseline
// being the row of that path with the same workload, figure and params (so
// a TUN row, whose params carry its direction, meets only veth's row of
// the same direction and MTU). When exactly one of the two rows has no mtu
// (a pipe path against a kernel loopback path), the params are compared
// without mtu, and among several pipe baselines the one with the largest
// MTU (closest to loopback's 65536) is used; two rows that both have an mtu
// never meet at different MTUs. A baseline value of 0 gives no ratio.
func (r *Report) Compute() {
	for i := range r.Rows {
		row := &r.Rows[i]
		row.Ratios = nil
		rest, mtu := splitMTU(row.Params)
		for _, bp := range r.Baselines {
			var best *Row
			bestMTU := -1
			for j := range r.Rows {
				c := &r.Rows[j]
				if c.Path != bp || c.Workload != row.Workload || c.Figure != row.Figure {
					continue
				}
				if c.Params == row.Params {
					best = c
					break
				}
				cr, cm := splitMTU(c.Params)
				if cr == rest && (mtu == 0) != (cm == 0) && cm > bestMTU {
					best, bestMTU = c, cm
				}
			}
			if best == nil || best.Value == 0 {
				continue
			}
			if row.Ratios == nil {
				row.Ratios = map[string]float64{}
			}
			row.Ratios[bp] = row.Value / best.Value
		}
	}
}

func fmtValue(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// WriteTable prints the header (date, machine) and one table of every row.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "ws2 bench %s  quick=%v benchtime=%s\n", r.Date.UTC().Format(time.RFC3339), r.Quick, r.BenchTime)
	fmt.Fprintf(w, "machine: %d cores, %s, %s, %s %s\n", r.Machine.Cores, r.Machine.CPU, r.Machine.Kernel, r.Machine.Go, r.Machine.OSArch)
	fmt.Fprintf(w, "ratio = path / baseline (same run); higher is better except for -µs, loss-%%, KiB/conn and idle-cpu-ms\n")
	fmt.Fprintf(w, "cpu-s, cpu-µs/op: the process's user+system CPU time over the timed part (all threads, both ends)\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "workload\t params\t path\t value\t unit\t allocs/op\t cpu-s\t cpu-µs/op"
	for _, b := range r.Baselines {
		head += "\t vs " + b
	}
	fmt.Fprintln(tw, head+"\t")
	for _, row := range r.Rows {
		line := fmt.Sprintf("%s\t %s\t %s\t %s\t %s\t %s\t %s\t %s", row.Workload, row.Params, row.Path, fmtValue(row.Value), row.Figure,
			strconv.FormatFloat(row.Allocs, 'f', 0, 64), strconv.FormatFloat(row.CPUSeconds, 'f', 2, 64), fmtValue(row.CPUPerOp))
		for _, b := range r.Baselines {
			if v, ok := row.Ratios[b]; ok {
				line += "\t " + strconv.FormatFloat(v, 'f', 2, 64)
			} else {
				line += "\t -"
			}
		}
		fmt.Fprintln(tw, line+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range r.Failed {
		fmt.Fprintf(w, "FAILED: %s\n", f)
	}
	// One line per reason, not per benchmark.
	var reasons []string
	count := map[string]int{}
	for _, sk := range r.Skipped {
		if count[sk.Reason] == 0 {
			reasons = append(reasons, sk.Reason)
		}
		count[sk.Reason]++
	}
	for _, why := range reasons {
		fmt.Fprintf(w, "SKIPPED %d benchmarks: %s\n", count[why], why)
	}
	return nil
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Command ws2bench runs the bench suite (issue 5) and prints one table of
// every workload on every path with its ratio to the baselines measured in
// the same run (raw gVisor gonet, Go's net, for EchoMany the
// goroutine-per-connection server, for the TUN paths a veth pair between
// two namespaces), and the process CPU time each benchmark used; it can
// also write the results as JSON and a PNG bar chart.
//
//	go run ./bench/cmd/ws2bench [-quick] [-json out.json] [-png out.png] [-run regexp] [-benchtime d]
//
// Each benchmark is the same function go test -bench runs (bench.Cases),
// timed by testing.Benchmark for -benchtime (300ms with -quick, 2s
// otherwise). The TUN paths (tun-water, tun-offload, veth) need root and
// /dev/net/tun; without them they are skipped and listed as such, unless
// WS2_REQUIRE_TUN=1, which makes them fail.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ws2go/ws2/bench"
	"github.com/ws2go/ws2/bench/report"
)

func main() {
	fs := flag.NewFlagSet("ws2bench", flag.ExitOnError)
	quick := fs.Bool("quick", false, "short run (about a minute on 2 cores)")
	jsonOut := fs.String("json", "", "write the results as JSON to this file")
	pngOut := fs.String("png", "", "write a bar chart as PNG to this file")
	run := fs.String("run", "", "only benchmarks whose name matches this regexp")
	benchtime := fs.Duration("benchtime", 0, "time per benchmark (default 300ms with -quick, else 2s)")
	_ = fs.Parse(os.Args[1:])

	bt := *benchtime
	if bt == 0 {
		bt = 2 * time.Second
		if *quick {
			bt = 300 * time.Millisecond
		}
	}
	testing.Init()
	if err := flag.CommandLine.Set("test.benchtime", bt.String()); err != nil {
		fatal(err)
	}
	bench.Mode = "full"
	if *quick {
		bench.Mode = "quick"
	}
	var re *regexp.Regexp
	if *run != "" {
		var err error
		if re, err = regexp.Compile(*run); err != nil {
			fatal(err)
		}
	}

	rep := &report.Report{Date: time.Now().UTC(), Machine: report.ThisMachine(), Quick: *quick, BenchTime: bt.String(), Baselines: bench.Baselines}
	var cases []bench.Case
	for _, c := range bench.Cases() {
		if re == nil || re.MatchString(c.Name()) {
			cases = append(cases, c)
		}
	}
	// The TUN paths need root and /dev/net/tun: without them they are
	// skipped (and listed), unless WS2_REQUIRE_TUN=1 makes them fail.
	tunReason := ""
	for _, c := range cases {
		if c.TUN {
			tunReason = bench.TUNUnavailable()
			break
		}
	}
	if tunReason != "" && !bench.RequireTUN() {
		fmt.Fprintf(os.Stderr, "skipping the TUN paths (%s): %s\n", strings.Join(bench.TUNPaths(), ", "), tunReason)
	}
	start := time.Now()
	for i, c := range cases {
		t0 := time.Now()
		if c.TUN && tunReason != "" && !bench.RequireTUN() {
			rep.Skipped = append(rep.Skipped, report.Skip{Name: c.Name(), Reason: tunReason})
			fmt.Fprintf(os.Stderr, "[%d/%d] %s SKIPPED\n", i+1, len(cases), c.Name())
			continue
		}
		var mu sync.Mutex
		var msgs []string
		bench.FailureHook = func(msg string) { mu.Lock(); msgs = append(msgs, msg); mu.Unlock() }
		res, used := measure(c, bt)
		bench.FailureHook = nil
		if res.N == 0 {
			why := strings.Join(msgs, "; ")
			if why == "" {
				why = "no message"
			}
			rep.Failed = append(rep.Failed, c.Name()+": "+why)
			fmt.Fprintf(os.Stderr, "[%d/%d] %s FAILED: %s (go test -run '^$' -bench '^%s$' -benchtime=%s ./bench to rerun)\n", i+1, len(cases), c.Name(), why, benchRegexp(c), used)
			continue
		}
		cpuPerOp := res.Extra[bench.CPUMetric]
		cpuSec := cpuPerOp * float64(res.N) / 1e6
		var figs []string
		for _, m := range c.Metrics {
			var params []string
			for _, p := range c.Params {
				params = append(params, p.Name+"="+p.Value)
			}
			rep.Rows = append(rep.Rows, report.Row{
				Workload: c.Workload, Params: strings.Join(params, " "), Path: c.Path,
				Figure: m, Value: res.Extra[m], Allocs: float64(res.AllocsPerOp()),
				CPUPerOp: cpuPerOp, CPUSeconds: cpuSec, N: res.N, TimedSeconds: res.T.Seconds(),
			})
			figs = append(figs, fmt.Sprintf("%.4g %s", res.Extra[m], m))
		}
		fmt.Fprintf(os.Stderr, "[%d/%d] %s: %s, N=%d, cpu %.2fs (%.1fs)\n", i+1, len(cases), c.Name(), strings.Join(figs, ", "), res.N, cpuSec, time.Since(t0).Seconds())
	}
	fmt.Fprintf(os.Stderr, "done in %.1fs\n\n", time.Since(start).Seconds())

	rep.Compute()
	if err := rep.WriteTable(os.Stdout); err != nil {
		fatal(err)
	}
	if *jsonOut != "" {
		if err := writeFile(*jsonOut, rep.WriteJSON); err != nil {
			fatal(err)
		}
	}
	if *pngOut != "" {
		if err := writeFile(*pngOut, rep.WritePNG); err != nil {
			fatal(err)
		}
	}
	if len(rep.Failed) > 0 {
		os.Exit(1)
	}
}

// measure times c for about bt: once (-benchtime=1x) if c.Once; if c.MaxN is
// set, a probe of min(100, MaxN) ops estimates the time per op and the
// measurement runs min(MaxN, bt's worth) ops. It returns the result and the
// -benchtime of the measurement.
func measure(c bench.Case, bt time.Duration) (testing.BenchmarkResult, string) {
	withBenchtime := func(v string) testing.BenchmarkResult {
		_ = flag.CommandLine.Set("test.benchtime", v)
		defer flag.CommandLine.Set("test.benchtime", bt.String())
		return testing.Benchmark(c.Run)
	}
	switch {
	case c.Once:
		return withBenchtime("1x"), "1x"
	case c.MaxN > 0:
		probeN := min(100, c.MaxN)
		probe := withBenchtime(fmt.Sprintf("%dx", probeN))
		if probe.N == 0 {
			return probe, fmt.Sprintf("%dx", probeN)
		}
		n := c.MaxN
		if per := probe.NsPerOp(); per > 0 {
			n = int(min(int64(c.MaxN), max(1, bt.Nanoseconds()/per)))
		}
		v := fmt.Sprintf("%dx", n)
		return withBenchtime(v), v
	}
	return testing.Benchmark(c.Run), bt.String()
}

// benchRegexp is a go test -bench pattern matching c alone.
func benchRegexp(c bench.Case) string {
	parts := []string{"Benchmark" + c.Workload, regexp.QuoteMeta("path=" + c.Path)}
	for _, p := range c.Params {
		parts = append(parts, regexp.QuoteMeta(p.Name+"="+p.Value))
	}
	return strings.Join(parts, "$/^")
}

func writeFile(name string, write func(w io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ws2bench:", err)
	os.Exit(2)
}

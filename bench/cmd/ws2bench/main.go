// Command ws2bench runs the bench suite (issue 5) and prints one table of
// every workload on every path with its ratio to the baselines (raw gVisor
// gonet, Go's net, and for EchoMany the goroutine-per-connection server)
// measured in the same run; it can also write the
// results as JSON and a PNG bar chart.
//
//	go run ./bench/cmd/ws2bench [-quick] [-json out.json] [-png out.png] [-run regexp]
//
// Each benchmark is the same function go test -bench runs (bench.Cases),
// timed by testing.Benchmark for -benchtime (500ms with -quick, 2s
// otherwise).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
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
	benchtime := fs.Duration("benchtime", 0, "time per benchmark (default 500ms with -quick, else 2s)")
	_ = fs.Parse(os.Args[1:])

	bt := *benchtime
	if bt == 0 {
		bt = 2 * time.Second
		if *quick {
			bt = 500 * time.Millisecond
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
	start := time.Now()
	for i, c := range cases {
		t0 := time.Now()
		if c.Once {
			_ = flag.CommandLine.Set("test.benchtime", "1x")
		}
		res := testing.Benchmark(c.Run)
		if c.Once {
			_ = flag.CommandLine.Set("test.benchtime", bt.String())
		}
		if res.N == 0 {
			rep.Failed = append(rep.Failed, c.Name())
			fmt.Fprintf(os.Stderr, "[%d/%d] %s FAILED\n", i+1, len(cases), c.Name())
			continue
		}
		var figs []string
		for _, m := range c.Metrics {
			var params []string
			for _, p := range c.Params {
				params = append(params, p.Name+"="+p.Value)
			}
			rep.Rows = append(rep.Rows, report.Row{
				Workload: c.Workload, Params: strings.Join(params, " "), Path: c.Path,
				Figure: m, Value: res.Extra[m], Allocs: float64(res.AllocsPerOp()),
			})
			figs = append(figs, fmt.Sprintf("%.4g %s", res.Extra[m], m))
		}
		fmt.Fprintf(os.Stderr, "[%d/%d] %s: %s, N=%d (%.1fs)\n", i+1, len(cases), c.Name(), strings.Join(figs, ", "), res.N, time.Since(t0).Seconds())
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

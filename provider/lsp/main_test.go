package lsp_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs the suites with more parallel tests than CPUs unless
// -test.parallel is given: their cases mostly wait (time-outs, lingering
// closes), so the default of GOMAXPROCS leaves the machine idle.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "8")
	}
	os.Exit(m.Run())
}

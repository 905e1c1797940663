package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ws2go/ws2/bench"
)

// TestBenchRegexp: the pattern the runner prints for a failed benchmark
// selects that benchmark alone under go test's -bench rules (one regexp
// per '/'-separated level).
func TestBenchRegexp(t *testing.T) {
	cs := bench.Cases()
	matches := func(pat, name string) bool {
		ps, ns := strings.Split(pat, "/"), strings.Split(name, "/")
		if len(ps) != len(ns) {
			return false
		}
		for i := range ps {
			if !regexp.MustCompile(ps[i]).MatchString(ns[i]) {
				return false
			}
		}
		return true
	}
	for _, c := range cs {
		pat := "^" + benchRegexp(c) + "$"
		n := 0
		for _, o := range cs {
			if matches(pat, o.Name()) {
				n++
				if o.Name() != c.Name() {
					t.Errorf("pattern %s of %s also matches %s", pat, c.Name(), o.Name())
				}
			}
		}
		if n == 0 {
			t.Errorf("pattern %s does not match %s", pat, c.Name())
		}
	}
}

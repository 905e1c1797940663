package netstack

import (
	"os"
	"strings"
	"testing"
)

func TestParseCapEff(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n", 0x1ffffffffff, true},
		{"CapEff:\t0000000000002000\n", 1 << capNetRaw, true},
		{"CapEff:\t0000000000000000\n", 0, true},
		{"CapEff:\tzz\n", 0, false},
		{"Name:\tx\n", 0, false},
	} {
		got, ok := parseCapEff(strings.NewReader(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("parseCapEff(%q) = %#x, %v; want %#x, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestRawAllowedDefault checks the default rule against the process's
// capabilities, and the override.
func TestRawAllowedDefault(t *testing.T) {
	want := os.Geteuid() == 0
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		eff, ok := parseCapEff(strings.NewReader(string(b)))
		if !ok {
			t.Fatal("no CapEff line in /proc/self/status")
		}
		want = eff&(1<<capNetRaw) != 0
	}
	p := &Provider{}
	if got := p.RawAllowed(); got != want {
		t.Errorf("default RawAllowed = %v, want %v (CAP_NET_RAW)", got, want)
	}
	p.SetRawAllowed(!want)
	if p.RawAllowed() == want {
		t.Error("SetRawAllowed did not override the default")
	}
	p.SetRawAllowed(want)
	if p.RawAllowed() != want {
		t.Error("SetRawAllowed(back) did not take")
	}
}

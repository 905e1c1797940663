package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ws2go/ws2/tun"
)

func TestParseFlags(t *testing.T) {
	base := []string{"--tun", "ws2t0", "--addr", "192.0.2.1/24"}
	with := func(extra ...string) []string { return append(slices.Clone(base), extra...) }
	pfx := netip.MustParsePrefix
	tests := []struct {
		name    string
		args    []string
		code    int      // what run returns
		stderr  []string // substrings of stderr
		want    *config  // checked when code is 0 and not help
		isHelp  bool
		noUsage bool // stderr holds no usage text
	}{
		{name: "minimal", args: base, want: &config{tun: "ws2t0", addrs: []netip.Prefix{pfx("192.0.2.1/24")}, mtu: 1500, echoPort: 7}},
		{name: "full", args: []string{
			"--tun=ws2t0", "--addr", "192.0.2.1/24", "--addr", "2001:db8::1/64",
			"--kernel-addr", "192.0.2.2/24", "-kernel-addr", "2001:db8::2/64",
			"--mtu", "9000", "--pcap", "/tmp/x.pcap", "--echo-port", "7007",
		}, want: &config{
			tun:         "ws2t0",
			addrs:       []netip.Prefix{pfx("192.0.2.1/24"), pfx("2001:db8::1/64")},
			kernelAddrs: []netip.Prefix{pfx("192.0.2.2/24"), pfx("2001:db8::2/64")},
			mtu:         9000, pcap: "/tmp/x.pcap", echoPort: 7007,
		}},
		{name: "mtu min", args: with("--mtu", "68"), want: &config{tun: "ws2t0", addrs: []netip.Prefix{pfx("192.0.2.1/24")}, mtu: 68, echoPort: 7}},
		{name: "mtu max", args: with("--mtu", "65535"), want: &config{tun: "ws2t0", addrs: []netip.Prefix{pfx("192.0.2.1/24")}, mtu: 65535, echoPort: 7}},
		{name: "port max", args: with("--echo-port", "65535"), want: &config{tun: "ws2t0", addrs: []netip.Prefix{pfx("192.0.2.1/24")}, mtu: 1500, echoPort: 65535}},
		{name: "tun offload", args: with("--tun-offload"), want: &config{tun: "ws2t0", addrs: []netip.Prefix{pfx("192.0.2.1/24")}, mtu: 1500, echoPort: 7, tunOffload: true}},
		{name: "tun offload off", args: with("--tun-offload=false"), want: &config{tun: "ws2t0", addrs: []netip.Prefix{pfx("192.0.2.1/24")}, mtu: 1500, echoPort: 7}},

		{name: "help", args: []string{"--help"}, isHelp: true},
		{name: "help short", args: []string{"-h"}, isHelp: true},
		{name: "help with others", args: with("--help"), isHelp: true},

		{name: "no args", args: nil, code: 2, stderr: []string{"--tun is required"}},
		{name: "unknown flag", args: with("--frobnicate"), code: 2, stderr: []string{"flag provided but not defined: -frobnicate"}},
		{name: "missing tun", args: []string{"--addr", "192.0.2.1/24"}, code: 2, stderr: []string{"--tun is required"}},
		{name: "missing addr", args: []string{"--tun", "ws2t0"}, code: 2, stderr: []string{"at least one --addr is required"}},
		{name: "addr no prefix", args: with("--addr", "192.0.2.5"), code: 2, stderr: []string{`invalid value "192.0.2.5" for flag -addr`, "no prefix length"}},
		{name: "addr garbage", args: with("--addr", "not-an-ip/24"), code: 2, stderr: []string{`invalid value "not-an-ip/24" for flag -addr`}},
		{name: "addr bad bits", args: with("--addr", "192.0.2.1/33"), code: 2, stderr: []string{"for flag -addr"}},
		{name: "addr unspecified", args: with("--addr", "0.0.0.0/0"), code: 2, stderr: []string{"unspecified"}},
		{name: "addr multicast", args: with("--addr", "ff02::1/64"), code: 2, stderr: []string{"multicast"}},
		{name: "addr mapped", args: with("--addr", "::ffff:192.0.2.9/120"), code: 2, stderr: []string{"IPv4-mapped"}},
		{name: "kernel addr bad", args: with("--kernel-addr", "192.0.2.300/24"), code: 2, stderr: []string{"for flag -kernel-addr"}},
		{name: "kernel addr clash", args: with("--kernel-addr", "192.0.2.1/24"), code: 2, stderr: []string{"already given by --addr"}},
		{name: "addr twice", args: with("--addr", "192.0.2.1/24"), code: 2, stderr: []string{"already given by --addr"}},
		{name: "mtu low", args: with("--mtu", "67"), code: 2, stderr: []string{"67 is outside 68..65535"}},
		{name: "mtu high", args: with("--mtu", "65536"), code: 2, stderr: []string{"65536 is outside 68..65535"}},
		{name: "mtu NaN", args: with("--mtu", "big"), code: 2, stderr: []string{`"big" is not a number`}},
		{name: "port zero", args: with("--echo-port", "0"), code: 2, stderr: []string{"0 is outside 1..65535"}},
		{name: "port high", args: with("--echo-port", "65536"), code: 2, stderr: []string{"65536 is outside 1..65535"}},
		{name: "port negative", args: with("--echo-port", "-1"), code: 2, stderr: []string{"-1 is outside 1..65535"}},
		{name: "tun too long", args: []string{"--tun", "abcdefghijklmnop", "--addr", "192.0.2.1/24"}, code: 2, stderr: []string{"longer than 15 bytes"}},
		{name: "tun slash", args: []string{"--tun", "a/b", "--addr", "192.0.2.1/24"}, code: 2, stderr: []string{"contains"}},
		{name: "tun template", args: []string{"--tun", "ws%d", "--addr", "192.0.2.1/24"}, code: 2, stderr: []string{"contains"}},
		{name: "tun empty", args: []string{"--tun", "", "--addr", "192.0.2.1/24"}, code: 2, stderr: []string{"--tun is required"}},
		{name: "missing value", args: with("--mtu"), code: 2, stderr: []string{"flag needs an argument: -mtu"}},
		{name: "positional", args: with("extra"), code: 2, stderr: []string{`unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cfg, err := parseFlags(tt.args, &stdout, &stderr)
			// run maps parseFlags' result to the exit status; check both.
			var code int
			if cfg == nil {
				var rout, rerr bytes.Buffer
				code = run(tt.args, &rout, &rerr, nil)
				if rout.String() != stdout.String() || rerr.String() != stderr.String() {
					t.Errorf("run printed differently from parseFlags:\nstdout %q\nstderr %q", rout.String(), rerr.String())
				}
			}
			switch {
			case tt.isHelp:
				if err != errHelp || code != 0 {
					t.Fatalf("err = %v, code %d; want help, 0", err, code)
				}
				if stdout.String() != usageText || stderr.Len() != 0 {
					t.Fatalf("help: stdout %q, stderr %q", stdout.String(), stderr.String())
				}
			case tt.code == 2:
				if _, ok := err.(*usageError); !ok || code != 2 {
					t.Fatalf("err = %v (%T), code %d; want a usage error, 2", err, err, code)
				}
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
				for _, s := range tt.stderr {
					if !strings.Contains(stderr.String(), s) {
						t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
					}
				}
				if !strings.Contains(stderr.String(), "Usage: ws2d") {
					t.Errorf("stderr has no usage:\n%s", stderr.String())
				}
			default:
				if err != nil {
					t.Fatalf("parseFlags: %v\n%s", err, stderr.String())
				}
				if stdout.Len()+stderr.Len() != 0 {
					t.Errorf("printed %q %q for a good command line", stdout.String(), stderr.String())
				}
				if got, want := fmt.Sprintf("%+v", *cfg), fmt.Sprintf("%+v", *tt.want); got != want {
					t.Errorf("config\n got %s\nwant %s", got, want)
				}
			}
		})
	}
}

// TestUsageListsEveryFlag keeps usageText in step with the flags defined.
func TestUsageListsEveryFlag(t *testing.T) {
	fs := newFlagSet(&flagVars{}, io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "h" && !strings.Contains(usageText, "\n  --"+f.Name+" ") {
			t.Errorf("usage does not list --%s", f.Name)
		}
	})
	for _, line := range strings.Split(usageText, "\n") {
		if !strings.HasPrefix(line, "  --") {
			continue
		}
		name := strings.TrimPrefix(strings.Fields(line)[0], "--")
		if fs.Lookup(name) == nil {
			t.Errorf("usage lists --%s, which is not defined", name)
		}
	}
	if !strings.Contains(usageText, "Example") {
		t.Error("usage has no example")
	}
}

func TestOpenHint(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("tun: open %q: %w", "x", tun.ErrPermission), "needs CAP_NET_ADMIN (run as root)"},
		{fmt.Errorf("tun: open: %w: %w", tun.ErrNoDevice, os.ErrNotExist), "/dev/net/tun missing: modprobe tun"},
		{fmt.Errorf("tun: %w", tun.ErrBusy), "taken"},
		{os.ErrClosed, ""},
	}
	for _, tt := range tests {
		got := openHint(tt.err)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("openHint(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

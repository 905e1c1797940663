package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ws2go/ws2/internal/testutil"
)

// binEnv carries the path of the ws2d binary built by the parent test
// process (testutil.BuildOnce, called before netns.Enter) into the children
// that netns.Enter starts, so they do not build it again.
const binEnv = "WS2D_TEST_BINARY"

// TestMain removes the ws2d binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testutil.Cleanup()
	os.Exit(code)
}

// runBinary runs ws2d with args and returns its exit status and output.
func runBinary(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, o.String(), e.String()
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), o.String(), e.String()
	}
	t.Fatalf("running %s %q: %v\n%s", bin, args, err, e.String())
	return 0, "", ""
}

// TestBinaryUsage runs the built command: bad command lines exit 2 with the
// usage on stderr, --help exits 0 with the usage on stdout. None of these
// get as far as touching a network device.
func TestBinaryUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := testutil.BuildOnce(t, ".", binEnv)
	tests := []struct {
		args []string
		code int
		want string // in stderr (code 2) or stdout (code 0)
	}{
		{nil, 2, "--tun is required"},
		{[]string{"--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"--tun", "x"}, 2, "at least one --addr is required"},
		{[]string{"--tun", "x", "--addr", "192.0.2.1"}, 2, "no prefix length"},
		{[]string{"--tun", "x", "--addr", "192.0.2.1/24", "--mtu", "40"}, 2, "40 is outside 68..65535"},
		{[]string{"--tun", "x", "--addr", "192.0.2.1/24", "--echo-port", "70000"}, 2, "70000 is outside 1..65535"},
		{[]string{"--help"}, 0, "Usage: ws2d"},
		{[]string{"-h"}, 0, "Usage: ws2d"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runBinary(t, bin, tt.args...)
		if code != tt.code {
			t.Errorf("ws2d %q: exit %d, want %d\nstderr: %s", tt.args, code, tt.code, stderr)
			continue
		}
		out, other := stderr, stdout
		if tt.code == 0 {
			out, other = stdout, stderr
		}
		if !strings.Contains(out, tt.want) || !strings.Contains(out, "Usage: ws2d") {
			t.Errorf("ws2d %q: output lacks %q and the usage:\n%s", tt.args, tt.want, out)
		}
		if other != "" {
			t.Errorf("ws2d %q: unexpected output on the other stream: %q", tt.args, other)
		}
	}
}

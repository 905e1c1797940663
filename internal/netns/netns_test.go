package netns_test

import (
	"strings"
	"testing"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
)

func TestRequire(t *testing.T) {
	tests := []struct {
		env              string
		wantSkip, wantFa bool
	}{
		{"", true, false},
		{"0", true, false},
		{"1", false, true},
	}
	for _, tt := range tests {
		t.Run("env="+tt.env, func(t *testing.T) {
			t.Setenv(netns.RequireEnv, tt.env)
			// Its Skipf and Fatalf record and return, unlike the real ones.
			var f testutil.FakeTB
			netns.Require(&f, "socat missing")
			if f.Skipped() != tt.wantSkip || f.Failed() != tt.wantFa {
				t.Fatalf("skipped=%q failed=%q, want skip=%v fail=%v", f.Skips(), f.Failures(), tt.wantSkip, tt.wantFa)
			}
			if !strings.Contains(f.Skips()+f.Failures(), "socat missing") {
				t.Fatalf("reason lost: %q%q", f.Skips(), f.Failures())
			}
		})
	}
}

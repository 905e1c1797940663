package netns

import (
	"fmt"
	"strings"
	"testing"
)

// fakeTB records what Require does with it. Skip and Fatal do not stop the
// goroutine here, unlike the real ones.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Skipf(format string, a ...any)  { f.skipped = fmt.Sprintf(format, a...) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.failed = fmt.Sprintf(format, a...) }

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
			t.Setenv(RequireEnv, tt.env)
			var f fakeTB
			Require(&f, "socat missing")
			if (f.skipped != "") != tt.wantSkip || (f.failed != "") != tt.wantFa {
				t.Fatalf("skipped=%q failed=%q, want skip=%v fail=%v", f.skipped, f.failed, tt.wantSkip, tt.wantFa)
			}
			if !strings.Contains(f.skipped+f.failed, "socat missing") {
				t.Fatalf("reason lost: %q%q", f.skipped, f.failed)
			}
		})
	}
}

//go:build !linux

package netns

import (
	"runtime"
	"testing"
)

// Enter skips the test (or fails it when WS2_REQUIRE_TUN=1): network
// namespaces exist only on Linux. It never returns true.
func Enter(t *testing.T) bool {
	t.Helper()
	Require(t, "netns: network namespaces need Linux, not "+runtime.GOOS)
	return false
}

package netns

import (
	"os"
	"testing"
)

// Environment variables read or set by this package.
const (
	// RequireEnv, set to "1", turns every skip for a missing privilege or
	// tool into a failure. CI sets it.
	RequireEnv = "WS2_REQUIRE_TUN"

	// childEnv marks the child process: its value is the name of the test
	// it runs inside the namespace.
	childEnv = "WS2_NETNS_CHILD"

	// parentEnv carries the parent's network namespace inode: the child
	// refuses to run unless its own differs.
	parentEnv = "WS2_NETNS_PARENT_INODE"

	// parentMntEnv carries the parent's mount namespace inode: the child
	// mounts sysfs only in a mount namespace of its own.
	parentMntEnv = "WS2_NETNS_PARENT_MNT"
)

// Require ends the test because the prerequisite described by what is
// missing: it skips the test, or fails it when WS2_REQUIRE_TUN=1. It always
// stops the test goroutine (through t.Skipf or t.Fatalf), so call it only once
// the prerequisite is known to be missing:
//
//	if _, err := exec.LookPath("socat"); err != nil {
//		netns.Require(t, "socat: "+err.Error())
//	}
func Require(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (required: %s=1)", what, RequireEnv)
		return
	}
	t.Skipf("%s (skipped; set %s=1 to fail instead)", what, RequireEnv)
}

// Package netns runs a test inside a network namespace of its own, so that
// TUN devices, addresses, routes and traffic stay out of the machine's
// namespace.
//
// A test calls [Enter] first thing:
//
//	func TestSomething(t *testing.T) {
//		if !netns.Enter(t) {
//			return // the parent: the test already ran (and was checked) in a child
//		}
//		// here: a fresh network namespace with only lo, which is up
//	}
//
// In the parent process Enter re-executes the test binary under
// unshare(1) with a new network and mount namespace, running only that
// test, streams the child's output into the test log, fails the test if the
// child failed, and returns false. In the child it brings lo up, mounts a
// fresh sysfs (so /sys/class/net shows the namespace's interfaces; the mount
// is private to the child's mount namespace) and returns true.
//
// Without the privileges or tools for this, Enter skips the test, or fails
// it when WS2_REQUIRE_TUN=1 (set by CI) so that a missing capability never
// passes silently. [Require] applies the same rule to any other missing
// prerequisite.
//
// Layering: std and golang.org/x/sys only; tests import it, production code
// never does.
package netns

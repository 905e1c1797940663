package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const helloPkg = "github.com/ws2go/ws2/internal/testutil/testdata/hello"

// runHello runs a build of testdata/hello and checks what it prints.
func runHello(t *testing.T, bin string) {
	t.Helper()
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "hello from ") {
		t.Fatalf("running %s: %q, %v", bin, out, err)
	}
}

// TestBuildOnce builds a main package by import path and by relative
// directory, once each, into a directory readable by all, publishes the
// path in the environment, and removes it all at Cleanup.
func TestBuildOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	const key, relKey = "WS2_TESTUTIL_TEST_HELLO", "WS2_TESTUTIL_TEST_HELLO_REL"
	t.Setenv(key, "")
	t.Setenv(relKey, "")

	bin := BuildOnce(t, helloPkg, key)
	if filepath.Base(bin) != "hello" {
		t.Errorf("binary %s, want one named hello", bin)
	}
	runHello(t, bin)
	if got := os.Getenv(key); got != bin {
		t.Errorf("%s = %q, want %q", key, got, bin)
	}
	fi, err := os.Stat(filepath.Dir(bin))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o055 != 0o055 {
		t.Errorf("build directory mode %v, want readable and searchable by all", perm)
	}
	// Not built again: the same file, untouched.
	before, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(key, "") // as if another package's process: only the state counts
	if again := BuildOnce(t, helloPkg, key); again != bin {
		t.Errorf("second BuildOnce = %s, want %s", again, bin)
	}
	if after, err := os.Stat(bin); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("second BuildOnce rebuilt the binary (%v)", err)
	}

	// A directory relative to the test's package directory; the binary is
	// named after the directory.
	rel := BuildOnce(t, "./testdata/hello", relKey)
	if rel == bin || filepath.Base(rel) != "hello" {
		t.Errorf("relative build at %s (import-path build at %s)", rel, bin)
	}
	runHello(t, rel)

	Cleanup()
	for _, p := range []string{bin, rel} {
		if _, err := os.Stat(filepath.Dir(p)); !os.IsNotExist(err) {
			t.Errorf("%s still there after Cleanup: %v", filepath.Dir(p), err)
		}
	}
	if os.Getenv(key) != "" || os.Getenv(relKey) != "" {
		t.Errorf("Cleanup left %s=%q %s=%q", key, os.Getenv(key), relKey, os.Getenv(relKey))
	}
	// After Cleanup, BuildOnce builds anew.
	fresh := BuildOnce(t, helloPkg, key)
	runHello(t, fresh)
	Cleanup()
}

// TestBuildOnceFromEnv: with envKey set, as in the children netns.Enter
// starts, BuildOnce returns it and builds nothing.
func TestBuildOnceFromEnv(t *testing.T) {
	const key = "WS2_TESTUTIL_TEST_FROM_ENV"
	t.Setenv(key, "/nonexistent/prebuilt")
	if got := BuildOnce(t, "./no/such/package", key); got != "/nonexistent/prebuilt" {
		t.Fatalf("BuildOnce = %q, want the environment's path", got)
	}
}

// TestBuildOnceFails: a package that does not build fails the test with
// the compiler's output, every time it is asked for.
func TestBuildOnceFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	const key = "WS2_TESTUTIL_TEST_FAILS"
	t.Setenv(key, "")
	for range 2 {
		var f FakeTB
		if p := BuildOnce(&f, "./no/such/package", key); p != "" {
			t.Errorf("BuildOnce of a missing package = %q", p)
		}
		if !f.Failed() || !strings.Contains(f.Failures(), "building ./no/such/package") || !strings.Contains(f.Failures(), "go build") {
			t.Errorf("failed=%v: %q", f.Failed(), f.Failures())
		}
	}
	if os.Getenv(key) != "" {
		t.Errorf("a failed build set %s=%q", key, os.Getenv(key))
	}
	Cleanup()
}

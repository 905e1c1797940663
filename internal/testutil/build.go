package testutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds one go build.
const buildTimeout = 5 * time.Minute

// A build is one main package built (or being built) by this process.
type build struct {
	once   sync.Once
	envKey string
	dir    string // to remove at Cleanup; "" if none was made
	path   string
	err    error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*build{} // by pkg and envKey
)

// BuildOnce builds the main package pkg (an import path, or a directory
// such as "." relative to the test's package directory) once per test
// process and returns the path of the binary. The binary lies in a
// temporary directory readable by all, so that a test may run it as an
// unprivileged user.
//
// The path is also put in the environment variable envKey, and when envKey
// is already set BuildOnce returns its value without building: the
// children that netns.Enter starts inherit the parent's environment, so
// they reuse its build and never build inside a namespace. Call BuildOnce
// before netns.Enter, so that the parent builds.
//
// A failed build fails t. The package's TestMain must call [Cleanup] after
// m.Run to remove the build.
func BuildOnce(t testing.TB, pkg, envKey string) string {
	t.Helper()
	if p := os.Getenv(envKey); p != "" {
		return p
	}
	buildsMu.Lock()
	b := builds[pkg+"\x00"+envKey]
	if b == nil {
		b = &build{envKey: envKey}
		builds[pkg+"\x00"+envKey] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		b.dir, b.path, b.err = goBuild(pkg)
		if b.err == nil {
			b.err = os.Setenv(envKey, b.path)
		}
	})
	if b.err != nil {
		t.Fatalf("building %s: %v", pkg, b.err)
		return ""
	}
	return b.path
}

// goBuild builds pkg into a new temporary directory and returns the
// directory (to remove, even on an error) and the binary's path.
func goBuild(pkg string) (dir, path string, err error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", "", err
	}
	name := filepath.Base(pkg)
	if name == "." || name == ".." {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			return "", "", err
		}
		name = filepath.Base(abs)
	}
	if dir, err = os.MkdirTemp("", "ws2-test-"+name+"-"); err != nil {
		return "", "", err
	}
	// Readable by all: a test may run the binary as an unprivileged user.
	if err := os.Chmod(dir, 0o755); err != nil {
		return dir, "", err
	}
	path = filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, goCmd, "build", "-o", path, pkg).CombinedOutput()
	if err != nil {
		return dir, "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return dir, path, nil
}

// Cleanup removes every binary BuildOnce built in this process. A
// package's TestMain calls it after m.Run:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		testutil.Cleanup()
//		os.Exit(code)
//	}
//
// It also clears the environment variables BuildOnce set: a later
// BuildOnce builds again.
func Cleanup() {
	buildsMu.Lock()
	defer buildsMu.Unlock()
	for key, b := range builds {
		// Waits for a build still running in another goroutine.
		b.once.Do(func() {})
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
		if b.path != "" && os.Getenv(b.envKey) == b.path {
			os.Unsetenv(b.envKey)
		}
		delete(builds, key)
	}
}

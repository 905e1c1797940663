//go:build linux

package netns

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Enter runs the calling test inside a new network namespace and reports
// which side of it the caller is on.
//
// In the parent test process it re-executes the test binary as
//
//	unshare --net --mount -- <test binary> -test.run='^Name$' -test.v -test.count=1 [-test.timeout=…] [-test.short]
//
// with WS2_NETNS_CHILD=Name in the environment, blocks until the child
// exits while copying its output line by line into t.Log, fails t if the
// child failed (or never ran the test), skips t if the child skipped, and
// returns false: the caller must return at once.
//
// In the child it checks that the process really is in a namespace other
// than the parent's (it fails the test otherwise, so a stray
// WS2_NETNS_CHILD can never turn a test loose on the machine's own
// namespace), brings lo up, mounts a private sysfs on /sys, and returns
// true: the caller goes on with the test body.
//
// Only top-level tests are supported: Enter fails a subtest. Call it
// before t.Parallel, if at all. Without root, unshare(1) or /dev/net/tun it
// skips the test, or fails it when WS2_REQUIRE_TUN=1 (see Require).
func Enter(t *testing.T) bool {
	t.Helper()
	name := t.Name()
	if v, ok := os.LookupEnv(childEnv); ok {
		if v != name {
			t.Skipf("netns: this process runs %s in its namespace, not %s", v, name)
		}
		setupChild(t)
		return true
	}
	if strings.Contains(name, "/") {
		t.Fatalf("netns.Enter: %s is a subtest; only top-level tests can enter a namespace", name)
	}
	if reason := unavailable(); reason != "" {
		Require(t, "netns: "+reason)
	}
	runChild(t, name)
	return false
}

var (
	probeOnce   sync.Once
	probeReason string
)

// unavailable returns why namespaces cannot be used here, or "".
func unavailable() string {
	probeOnce.Do(func() {
		if os.Geteuid() != 0 {
			probeReason = "not running as root"
			return
		}
		if _, err := os.Stat("/dev/net/tun"); err != nil {
			probeReason = "no TUN driver: " + err.Error()
			return
		}
		path, err := exec.LookPath("unshare")
		if err != nil {
			probeReason = "unshare(1) not found: " + err.Error()
			return
		}
		out, err := exec.Command(path, "--net", "--mount", "--", "true").CombinedOutput()
		if err != nil {
			probeReason = fmt.Sprintf("unshare --net --mount does not work: %v: %s", err, strings.TrimSpace(string(out)))
		}
	})
	return probeReason
}

// netnsInode returns the inode of the calling thread's network namespace.
func netnsInode() (uint64, error) { return nsInode("net") }

// nsInode returns the inode of the calling thread's namespace of the given
// kind ("net", "mnt").
func nsInode(kind string) (uint64, error) {
	fi, err := os.Stat("/proc/thread-self/ns/" + kind)
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("stat %s: no inode", fi.Name())
	}
	return st.Ino, nil
}

// childArgs builds the command line that runs test name under unshare.
func childArgs(exe, name string, remaining time.Duration, short bool) []string {
	args := []string{"--net", "--mount", "--", exe,
		"-test.run=^" + regexp.QuoteMeta(name) + "$",
		"-test.v", "-test.count=1"}
	if remaining > 0 {
		// Leave the child a little less than the parent has, so that it
		// times out first and its goroutine dump reaches the log.
		if remaining > 10*time.Second {
			remaining -= 5 * time.Second
		}
		args = append(args, "-test.timeout="+remaining.Round(time.Millisecond).String())
	}
	if short {
		args = append(args, "-test.short")
	}
	return args
}

// childResult is what the parent learned from the child's output.
type childResult struct{ passed, failed, skipped bool }

// scanResult records the child's verdict line for test name, if line is one.
func (r *childResult) scanResult(name, line string) {
	l := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(l, "--- PASS: "+name+" "):
		r.passed = true
	case strings.HasPrefix(l, "--- FAIL: "+name+" "):
		r.failed = true
	case strings.HasPrefix(l, "--- SKIP: "+name+" "):
		r.skipped = true
	}
}

func runChild(t *testing.T, name string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("netns: test binary: %v", err)
	}
	ino, err := netnsInode()
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	mnt, err := nsInode("mnt")
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	var remaining time.Duration
	if d, ok := t.Deadline(); ok {
		remaining = time.Until(d)
	}
	// Not /proc/self/exe: unshare would resolve that to itself.
	cmd := exec.Command("unshare", childArgs(exe, name, remaining, testing.Short())...)
	cmd.Env = append(os.Environ(),
		childEnv+"="+name,
		parentEnv+"="+strconv.FormatUint(ino, 10),
		parentMntEnv+"="+strconv.FormatUint(mnt, 10))
	// If the test process dies, the child must not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatalf("netns: start %v: %v", cmd.Args, err)
	}
	w.Close()
	var res childResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		res.scanResult(name, line)
		t.Log("netns│ " + line)
	}
	r.Close()
	werr := cmd.Wait()
	switch {
	case werr != nil || res.failed:
		t.Fatalf("netns: %s failed in its namespace: %v", name, errors.Join(werr, sc.Err()))
	case res.skipped:
		t.Skipf("netns: %s skipped in its namespace (see log)", name)
	case !res.passed:
		t.Fatalf("netns: the child did not run %s (no PASS line)", name)
	}
}

// setupChild prepares the namespace the child runs in.
func setupChild(t *testing.T) {
	t.Helper()
	if err := checkOwnNamespaces(); err != nil {
		t.Fatalf("netns: %s=%s but %v", childEnv, t.Name(), err)
	}
	if err := LinkUp("lo"); err != nil {
		t.Fatalf("netns: bring lo up: %v", err)
	}
	// A sysfs mounted in this network namespace shows its interfaces in
	// /sys/class/net. unshare(1) made the mount tree private already;
	// repeat it so nothing can propagate back.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Logf("netns: make mounts private: %v (sysfs left alone)", err)
		return
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", 0, ""); err != nil {
		t.Logf("netns: mount sysfs: %v (/sys/class/net shows the parent's interfaces)", err)
	}
}

// checkOwnNamespaces returns an error unless both the network and the mount
// namespace of this process differ from the parent's (as passed in the
// environment). The child never touches the machine's own namespaces.
func checkOwnNamespaces() error {
	for _, ns := range []struct{ kind, env string }{{"net", parentEnv}, {"mnt", parentMntEnv}} {
		ino, err := nsInode(ns.kind)
		if err != nil {
			return err
		}
		parent, err := strconv.ParseUint(os.Getenv(ns.env), 10, 64)
		if err != nil || parent == ino {
			return fmt.Errorf("this process is not in a %s namespace of its own (%s=%q, ours %d)",
				ns.kind, ns.env, os.Getenv(ns.env), ino)
		}
	}
	return nil
}

// LinkUp sets IFF_UP on the named interface of the calling thread's network
// namespace with SIOCSIFFLAGS. Enter uses it for lo; tests that make
// namespaces of their own (per thread, with unshare(2)) use it too.
func LinkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS: %w", err)
	}
	return nil
}

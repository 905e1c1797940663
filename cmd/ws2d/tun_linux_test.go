//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
)

// TestRunTUN runs ws2d's run in a network namespace of its own, on a real
// TUN device, with kernel sockets as clients; then stops it with a signal
// and checks that it exits 0 and the device is gone.
func TestRunTUN(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	runTUN(t)
}

// TestRunTUNOffload is TestRunTUN with --tun-offload: the same traffic
// over the offload driver, which ws2d reports in its log.
func TestRunTUNOffload(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	log := runTUN(t, "--tun-offload")
	if !strings.Contains(log, "offload=true") || strings.Contains(log, "offload refused") {
		t.Errorf("log does not report the offload driver in use")
	}
}

// runTUN is the body of TestRunTUN, with extra flags; it returns ws2d's log.
func runTUN(t *testing.T, extra ...string) string {
	t.Helper()
	testutil.DisableDAD(t)
	pcap := filepath.Join(t.TempDir(), "ws2d.pcap")
	check := testutil.LeakCheck(t)
	sigs := make(chan os.Signal, 1)
	var stderr testutil.LockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(append([]string{
			"--tun", "ws2t0", "--mtu", "1400", "--pcap", pcap, "--echo-port", "7007",
			"--addr", "192.0.2.1/24", "--addr", "2001:db8::1/64",
			"--kernel-addr", "192.0.2.2/24", "--kernel-addr", "2001:db8::2/64",
		}, extra...), io.Discard, &stderr, sigs)
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			sigs <- syscall.SIGTERM
			select {
			case <-done:
			case <-time.After(testTimeout):
			}
		}
		t.Logf("ws2d log:\n%s", stderr.String())
	})

	for _, addr := range []string{"192.0.2.1:7007", "[2001:db8::1]:7007"} {
		c := testutil.DialRetry(t, "tcp", addr, testTimeout, nil)
		c.SetDeadline(time.Now().Add(testTimeout))
		data := testutil.RandomBytes(t, 200<<10)
		go func() {
			c.Write(data)
			c.(*net.TCPConn).CloseWrite()
		}()
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("tcp %s: got %d of %d bytes back (equal=%v), %v", addr, len(got), len(data), bytes.Equal(got, data), err)
		}

		u, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		u.SetDeadline(time.Now().Add(testTimeout))
		buf := make([]byte, 64<<10)
		for _, n := range []int{1, 1300, 3000} {
			msg := testutil.RandomBytes(t, n)
			if _, err := u.Write(msg); err != nil {
				t.Fatalf("udp %s: write: %v", addr, err)
			}
			m, err := u.Read(buf)
			if err != nil || !bytes.Equal(buf[:m], msg) {
				t.Fatalf("udp %s: %d-byte datagram: got %d bytes, %v", addr, n, m, err)
			}
		}
		u.Close()
	}

	stopped = true
	sigs <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run returned %d after SIGTERM, want 0", code)
		}
	case <-time.After(testTimeout):
		t.Fatal("run did not return after SIGTERM")
	}
	log := stderr.String()
	for _, want := range []string{"ws2d up", "device=ws2t0", "mtu=1400", "tcp/7007,udp/7007", "2001:db8::1/64", "stopping", "stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("errors logged")
	}
	if _, err := net.InterfaceByName("ws2t0"); err == nil {
		t.Error("ws2t0 still exists after the stop")
	}
	// A header, a record header and more.
	testutil.CheckPcapFile(t, pcap, 24+16)
	// Everything run started has ended: stack, device, service, flusher.
	check()
	return log
}

// TestBinaryMissingPrerequisites runs the built command, in a namespace of
// its own, where it cannot bring the host up: it must say what is missing
// and exit 1.
func TestBinaryMissingPrerequisites(t *testing.T) {
	bin := testutil.BuildOnce(t, ".", binEnv)
	if !netns.Enter(t) {
		return
	}
	args := []string{"--tun", "ws2t1", "--addr", "192.0.2.1/24"}
	try := func(name string, cred *syscall.Credential, args []string, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if cmd.ProcessState == nil {
			t.Fatalf("%s: %v", name, err)
		}
		code := cmd.ProcessState.ExitCode()
		t.Logf("%s: exit %d: %s", name, code, strings.TrimSpace(stderr.String()))
		if code != 1 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: exit %d (%v), want 1 and %q in:\n%s", name, code, err, want, stderr.String())
		}
		if _, err := net.InterfaceByName(args[1]); err == nil && args[1] != "lo" {
			t.Errorf("%s: %s exists", name, args[1])
		}
	}

	// Without CAP_NET_ADMIN: an unprivileged user (nobody).
	try("unprivileged", &syscall.Credential{Uid: 65534, Gid: 65534}, args, "needs CAP_NET_ADMIN (run as root)")

	// The name of an interface that is not a TUN device.
	try("name taken", nil, []string{"--tun", "lo", "--addr", "192.0.2.1/24"}, "taken")

	// Without the TUN driver: hide /dev/net in this test's own mount
	// namespace (netns.Enter made its mounts private).
	if err := unix.Mount("tmpfs", "/dev/net", "tmpfs", 0, "size=4k"); err != nil {
		t.Fatalf("hide /dev/net: %v", err)
	}
	defer unix.Unmount("/dev/net", 0)
	try("no driver", nil, args, "/dev/net/tun missing: modprobe tun")
}

//go:build linux

package testutil

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/ws2go/ws2/internal/netns"
)

// TestBuildOnceNetns builds in the parent and runs the parent's build in
// the child that netns.Enter starts, also as an unprivileged user.
func TestBuildOnceNetns(t *testing.T) {
	const key = "WS2_TESTUTIL_TEST_NETNS"
	bin := BuildOnce(t, helloPkg, key)
	if !netns.Enter(t) {
		return
	}
	if os.Getenv(key) != bin {
		t.Fatalf("in the child %s = %q, BuildOnce returned %q", key, os.Getenv(key), bin)
	}
	runHello(t, bin)
	cmd := exec.Command(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "hello from ") {
		t.Fatalf("running %s as nobody: %q, %v", bin, out, err)
	}
}

// TestDisableDAD turns DAD off in a namespace of the test's own and reads
// the settings back.
func TestDisableDAD(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	read := func(ifc string) string {
		t.Helper()
		b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + ifc + "/accept_dad")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	DisableDAD(t)
	for _, ifc := range []string{"default", "all"} {
		if v := read(ifc); v != "0" {
			t.Errorf("%s accept_dad = %s after DisableDAD, want 0", ifc, v)
		}
	}
	if err := os.WriteFile("/proc/sys/net/ipv6/conf/lo/accept_dad", []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := DisableInterfaceDAD("lo"); err != nil {
		t.Fatalf("DisableInterfaceDAD(lo): %v", err)
	}
	if v := read("lo"); v != "0" {
		t.Errorf("lo accept_dad = %s after DisableInterfaceDAD, want 0", v)
	}
	if err := DisableInterfaceDAD("ws2nosuch0"); err == nil {
		t.Error("DisableInterfaceDAD of a missing interface succeeded")
	}
}

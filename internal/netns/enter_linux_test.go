//go:build linux

package netns

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEnter runs in its own namespace and checks that it is a different
// one, that only lo exists there, and that lo is up.
func TestEnter(t *testing.T) {
	if !Enter(t) {
		return
	}
	if os.Getenv(childEnv) != t.Name() {
		t.Fatalf("%s = %q, want %q", childEnv, os.Getenv(childEnv), t.Name())
	}
	ino, err := netnsInode()
	if err != nil {
		t.Fatal(err)
	}
	parent, err := strconv.ParseUint(os.Getenv(parentEnv), 10, 64)
	if err != nil {
		t.Fatalf("parent inode %q: %v", os.Getenv(parentEnv), err)
	}
	if ino == parent {
		t.Fatalf("namespace inode %d is the parent's", ino)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 1 || ifs[0].Name != "lo" {
		t.Fatalf("interfaces = %v, want only lo", ifs)
	}
	if ifs[0].Flags&net.FlagUp == 0 {
		t.Fatalf("lo flags = %v, want up", ifs[0].Flags)
	}
	// sysfs was remounted for this namespace.
	entries, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "lo" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("/sys/class/net = %v, want [lo]", names)
	}
	// Loopback works: a TCP round trip over 127.0.0.1.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("ok"))
			c.Close()
		}
	}()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestChildArgs(t *testing.T) {
	tests := []struct {
		name      string
		remaining time.Duration
		short     bool
		want      []string
	}{
		{"TestA", 0, false, []string{"--net", "--mount", "--", "/bin/x.test", "-test.run=^TestA$", "-test.v", "-test.count=1"}},
		{"TestA", 60 * time.Second, true, []string{"--net", "--mount", "--", "/bin/x.test", "-test.run=^TestA$", "-test.v", "-test.count=1", "-test.timeout=55s", "-test.short"}},
		{"TestA", 3 * time.Second, false, []string{"--net", "--mount", "--", "/bin/x.test", "-test.run=^TestA$", "-test.v", "-test.count=1", "-test.timeout=3s"}},
		{"Test_A.b", 0, false, []string{"--net", "--mount", "--", "/bin/x.test", `-test.run=^Test_A\.b$`, "-test.v", "-test.count=1"}},
	}
	for _, tt := range tests {
		got := childArgs("/bin/x.test", tt.name, tt.remaining, tt.short)
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("childArgs(%q, %v, %v) = %q, want %q", tt.name, tt.remaining, tt.short, got, tt.want)
		}
	}
}

func TestScanResult(t *testing.T) {
	tests := []struct {
		lines []string
		want  childResult
	}{
		{[]string{"=== RUN   TestA", "--- PASS: TestA (0.01s)", "PASS"}, childResult{passed: true}},
		{[]string{"--- FAIL: TestA (0.01s)"}, childResult{failed: true}},
		{[]string{"    --- SKIP: TestA (0.00s)"}, childResult{skipped: true}},
		{[]string{"--- PASS: TestAB (0.01s)", "--- PASS: TestA/sub (0.01s)"}, childResult{}},
		{[]string{"testing: warning: no tests to run", "PASS"}, childResult{}},
	}
	for _, tt := range tests {
		var r childResult
		for _, l := range tt.lines {
			r.scanResult("TestA", l)
		}
		if r != tt.want {
			t.Errorf("lines %q: got %+v, want %+v", tt.lines, r, tt.want)
		}
	}
}

// TestCheckOwnNamespaces checks the guard that keeps a child from
// configuring the machine's namespaces when the environment lies.
func TestCheckOwnNamespaces(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("runs in the parent only")
	}
	net, err := nsInode("net")
	if err != nil {
		t.Fatal(err)
	}
	mnt, err := nsInode("mnt")
	if err != nil {
		t.Fatal(err)
	}
	own := func(i uint64) string { return strconv.FormatUint(i, 10) }
	tests := []struct {
		name     string
		net, mnt string
		wantErr  bool
	}{
		{"unset", "", "", true},
		{"same net and mnt", own(net), own(mnt), true},
		{"same net", own(net), own(mnt + 1), true},
		{"same mnt", own(net + 1), own(mnt), true},
		{"garbage", "x", "y", true},
		{"both differ", own(net + 1), own(mnt + 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(parentEnv, tt.net)
			t.Setenv(parentMntEnv, tt.mnt)
			if err := checkOwnNamespaces(); (err != nil) != tt.wantErr {
				t.Fatalf("checkOwnNamespaces() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

//go:build linux

package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
)

// TestRunTUNCatalogFile runs ws2d with --catalog on a file that does not
// exist yet: ws2d makes it with the default catalog and serves from it;
// changes made with `ws2d catalog` while it runs reach the daemon's catalog
// at once (logged), including a warning for a provider it does not have.
func TestRunTUNCatalogFile(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	testutil.DisableDAD(t)
	path := filepath.Join(t.TempDir(), "state", "catalog.json")
	check := testutil.LeakCheck(t)
	sigs := make(chan os.Signal, 1)
	var stderr testutil.LockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{
			"--tun", "ws2c0", "--echo-port", "7008", "--catalog", path,
			"--addr", "192.0.2.1/24", "--kernel-addr", "192.0.2.2/24",
		}, io.Discard, &stderr, sigs)
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

	echo := func() {
		t.Helper()
		c := testutil.DialRetry(t, "tcp", "192.0.2.1:7008", testTimeout, nil)
		defer c.Close()
		c.SetDeadline(time.Now().Add(testTimeout))
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).CloseWrite()
		if got, err := io.ReadAll(c); err != nil || string(got) != "hello" {
			t.Fatalf("echo: %q, %v", got, err)
		}
	}
	echo()
	if got := catalogIDs(t, path); !slices.Equal(got, []uint32{1001, 1002, 1003, 1004, 1005, 1006}) {
		t.Fatalf("ws2d made the file with %v, want the default catalog", got)
	}

	waitLog := func(want string, n int) {
		t.Helper()
		deadline := time.Now().Add(testTimeout)
		for strings.Count(stderr.String(), want) < n {
			if time.Now().After(deadline) {
				t.Fatalf("the log never had %q %d times", want, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	mustCat(t, "--file", path, "order", "1003,1004,1001,1002,1005,1006")
	waitLog("catalog changed", 1)
	mustCat(t, "--file", path, "install", "--layer", "nosuch", "--path", "ws2/lsp/nosuch", "--over", "1001")
	waitLog("catalog changed", 2)
	waitLog("path=ws2/lsp/nosuch", 1)
	mustCat(t, "--file", path, "remove", "--layer", "nosuch")
	waitLog("catalog changed", 3)
	echo()

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
	if !strings.Contains(log, "catalog="+path) {
		t.Errorf("the start log does not name the catalog file")
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("errors logged")
	}
	check()
}

// TestRunTUNCatalogFileCorrupt: a corrupt catalog file stops ws2d from
// starting (exit 1) and is left as it is.
func TestRunTUNCatalogFileCorrupt(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	path := filepath.Join(t.TempDir(), "catalog.json")
	bad := []byte("{ not a catalog")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr testutil.LockedBuffer
	code := run([]string{"--tun", "ws2c1", "--addr", "192.0.2.1/24", "--catalog", path}, io.Discard, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "cannot load the catalog file") || !strings.Contains(stderr.String(), "corrupt") {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if got, _ := os.ReadFile(path); string(got) != string(bad) {
		t.Error("ws2d changed the corrupt file")
	}
	if _, err := net.InterfaceByName("ws2c1"); err == nil {
		t.Error("ws2c1 still exists")
	}
}

package testutil

import (
	"net"
	"os"
	"testing"
	"time"
)

// DialRetry dials addr until it connects or timeout passes, and fails t
// then. alive, if not nil, is asked after each failed attempt and reports
// a reason to give up at once (the server died).
func DialRetry(t testing.TB, network, addr string, timeout time.Duration, alive func() error) net.Conn {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			return c
		}
		if alive != nil {
			if aerr := alive(); aerr != nil {
				t.Fatalf("dial %s %s: %v; server gone: %v", network, addr, err, aerr)
				return nil
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial %s %s: still failing after %v: %v", network, addr, timeout, err)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DisableDAD turns IPv6 duplicate address detection off for the
// interfaces created from now on in the calling test's network namespace
// (call it after netns.Enter), so that IPv6 addresses given to them are
// usable at once. It fails t if it cannot.
func DisableDAD(t testing.TB) {
	t.Helper()
	for _, ifc := range []string{"default", "all"} {
		if err := DisableInterfaceDAD(ifc); err != nil {
			t.Fatalf("disable DAD: %v", err)
		}
	}
}

// DisableInterfaceDAD turns IPv6 duplicate address detection off on the
// existing interface name, so that the addresses given to it from now on
// are not tentative. It returns the error, so that the caller can release
// the device before failing.
func DisableInterfaceDAD(name string) error {
	return os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/accept_dad", []byte("0"), 0o644)
}

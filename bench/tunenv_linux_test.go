//go:build linux

package bench

import (
	"io"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/internal/netns"
	"github.com/ws2go/ws2/internal/testutil"
)

// soNetnsCookie is SO_NETNS_COOKIE (Linux 5.14): the cookie of the network
// namespace a socket belongs to.
const soNetnsCookie = 71

// nsCookie returns the namespace cookie of a kernel socket.
func nsCookie(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v uint64
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, soNetnsCookie) }); err != nil {
		t.Fatal(err)
	}
	if gerr == unix.ENOPROTOOPT {
		t.Skip("SO_NETNS_COOKIE needs Linux 5.14")
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

func hostLinks(t *testing.T) []string {
	t.Helper()
	ls, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Attrs().Name)
	}
	slices.Sort(names)
	return names
}

// TestTUNEnvs sets up every TUN-family path in both directions, checks that
// the kernel's sockets are outside this process's namespace and which side
// is the kernel, moves a TCP echo and a datagram, and checks that nothing
// is left in the machine's namespace (interfaces) or in the process
// (goroutines) afterwards.
func TestTUNEnvs(t *testing.T) {
	if reason := TUNUnavailable(); reason != "" {
		netns.Require(t, "bench: "+reason)
	}
	before := hostLinks(t)
	hostSock, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hostCookie := nsCookie(t, hostSock.(*net.UDPConn))
	hostSock.Close()
	check := testutil.LeakCheck(t)
	for _, path := range TUNPaths() {
		for _, dir := range []string{DirK2W, DirW2K} {
			t.Run(path+"/"+dir, func(t *testing.T) {
				env, err := NewTUNEnv(path, dir, 1500)
				if err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := env.Close(); err != nil {
						t.Error(err)
					}
				}()
				kernelServer := dir == DirW2K || path == PathVeth
				kernelClient := dir == DirK2W || path == PathVeth
				kernelOK := func(what string, x any, want bool) {
					t.Helper()
					sc, ok := x.(syscall.Conn)
					switch {
					case ok != want:
						t.Errorf("%s is a kernel socket: %v, want %v (%T)", what, ok, want, x)
					case ok && nsCookie(t, sc) == hostCookie:
						t.Errorf("%s is in this process's own namespace", what)
					}
				}

				l, err := env.ListenTCP()
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				kernelOK("TCP listener", l, kernelServer)
				served := make(chan struct{})
				defer func() { <-served }() // before env.Close: the server's socket is closed
				go func() {
					defer close(served)
					c, err := l.Accept()
					if err != nil {
						return
					}
					defer c.Close()
					_ = c.SetDeadline(time.Now().Add(5 * time.Second))
					_, _ = io.Copy(c, c)
				}()
				c, err := env.DialTCP(l.Addr())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				kernelOK("TCP client", c, kernelClient)
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				msg := []byte("ws2 bench")
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil || string(got) != string(msg) {
					t.Fatalf("echo: %q, %v", got, err)
				}

				pc, err := env.ListenUDP()
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				kernelOK("UDP server", pc, kernelServer)
				u, err := env.DialUDP(pc.LocalAddr())
				if err != nil {
					t.Fatal(err)
				}
				defer u.Close()
				kernelOK("UDP client", u, kernelClient)
				buf := make([]byte, 64)
				for try := 0; ; try++ {
					if _, err := u.Write(msg); err != nil {
						t.Fatal(err)
					}
					_ = pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
					n, _, err := pc.ReadFrom(buf)
					if err == nil && string(buf[:n]) == string(msg) {
						break
					}
					if try == 10 {
						t.Fatalf("no datagram: %v", err)
					}
				}
			})
		}
	}
	if after := hostLinks(t); !slices.Equal(before, after) {
		t.Errorf("interfaces of this namespace changed: before %v, after %v", before, after)
	}
	check()
}

// TestTUNEnvBadDirection: an unknown direction is an error and leaves
// nothing behind.
func TestTUNEnvBadDirection(t *testing.T) {
	if reason := TUNUnavailable(); reason != "" {
		netns.Require(t, "bench: "+reason)
	}
	for _, path := range TUNPaths() {
		if env, err := NewTUNEnv(path, "sideways", 1500); err == nil {
			env.Close()
			t.Errorf("%s: direction sideways accepted", path)
		}
	}
}

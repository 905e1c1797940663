package host

import (
	"errors"
	"testing"
	"time"

	"github.com/ws2go/ws2/wsa"
)

// TestUrgentData: MSG_OOB over the kernel's TCP urgent data (spec §5.9),
// with SO_OOBINLINE off: the urgent byte is received apart with MSG_OOB and
// never by a normal recv, which stops at the mark; SIOCATMARK is FALSE
// while it waits ("OOB data waiting", Windows' phrasing) and TRUE after;
// FD_OOB is recorded, select puts the socket in exceptfds and WSAPoll
// reports POLLRDBAND.
func TestUrgentData(t *testing.T) {
	pt, up := start(t)
	poller := pt.(interface {
		WSPPoll([]wsa.PollFd, int32) (int32, error)
	})
	for _, af := range []int32{wsa.AF_INET, wsa.AF_INET6} {
		c, s := pair(t, pt, af)
		setTimeout(t, pt, s, 10*time.Second)
		if ioctlU32(t, pt, s, wsa.SIOCATMARK) == 0 {
			t.Fatal("SIOCATMARK FALSE with no urgent data")
		}
		evh, ev := newEvent(t, up)
		must(t, pt.WSPEventSelect(s, evh, wsa.FD_OOB|wsa.FD_READ))
		must(t, pt.WSPSetSockOpt(s, wsa.SOL_SOCKET, wsa.SO_OOBINLINE, []byte{0, 0, 0, 0}))
		send(t, pt, c, []byte("ab"), 0)
		send(t, pt, c, []byte("!"), wsa.MSG_OOB)
		send(t, pt, c, []byte("cd"), 0)
		r := waitRecord(t, pt, s, evh, ev, wsa.FD_OOB)
		if r.NetworkEvents&wsa.FD_OOB == 0 {
			t.Fatalf("record %#x, want FD_OOB", r.NetworkEvents)
		}
		if ioctlU32(t, pt, s, wsa.SIOCATMARK) != 0 {
			t.Fatal("SIOCATMARK TRUE with urgent data waiting")
		}
		x := &wsa.FdSet{Array: []wsa.Socket{s}}
		n, err := pt.WSPSelect(nil, nil, x, &wsa.Timeval{Sec: 5})
		if err != nil || n != 1 || !x.IsSet(s) {
			t.Fatalf("select exceptfds with urgent data: %d %v %v", n, x.Array, err)
		}
		fds := []wsa.PollFd{{Fd: s, Events: wsa.POLLRDBAND}}
		if n, err := poller.WSPPoll(fds, 0); err != nil || n != 1 || fds[0].REvents != wsa.POLLRDBAND {
			t.Fatalf("WSAPoll with urgent data: %d %+v %v", n, fds, err)
		}
		buf := make([]byte, 8)
		n2, err := recv(pt, s, buf, wsa.MSG_OOB)
		if err != nil || n2 != 1 || buf[0] != '!' {
			t.Fatalf("recv(MSG_OOB) = %d %q %v", n2, buf[:n2], err)
		}
		// The normal stream never holds the urgent byte.
		got := ""
		for len(got) < 4 {
			n, err := recv(pt, s, buf, 0)
			if err != nil && !errors.Is(err, wsa.WSAEWOULDBLOCK) {
				t.Fatal(err)
			}
			got += string(buf[:n])
			if n == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		if got != "abcd" {
			t.Fatalf("normal data %q, want %q", got, "abcd")
		}
		if ioctlU32(t, pt, s, wsa.SIOCATMARK) == 0 {
			t.Fatal("SIOCATMARK FALSE after the urgent byte was read")
		}
		// No urgent data: a non-blocking recv(MSG_OOB) would block.
		_, err = recv(pt, s, buf, wsa.MSG_OOB)
		if !errors.Is(err, wsa.WSAEWOULDBLOCK) {
			t.Fatalf("recv(MSG_OOB) without urgent data: %v", err)
		}
		_, err = recv(pt, s, buf, wsa.MSG_OOB|wsa.MSG_WAITALL)
		if !errors.Is(err, wsa.WSAEOPNOTSUPP) {
			t.Fatalf("recv(MSG_OOB|MSG_WAITALL): %v", err)
		}
	}
}

// TestUrgentDataInline: with SO_OOBINLINE the urgent byte stays in the
// stream, recv(MSG_OOB) is WSAEINVAL, and FD_READ (not FD_OOB) signals it.
func TestUrgentDataInline(t *testing.T) {
	pt, up := start(t)
	c, s := pair(t, pt, wsa.AF_INET)
	must(t, setOpt(t, pt, s, wsa.SOL_SOCKET, wsa.SO_OOBINLINE, 1))
	evh, ev := newEvent(t, up)
	must(t, pt.WSPEventSelect(s, evh, wsa.FD_OOB|wsa.FD_READ))
	send(t, pt, c, []byte("x!"), wsa.MSG_OOB)
	r := waitRecord(t, pt, s, evh, ev, wsa.FD_READ)
	if r.NetworkEvents != wsa.FD_READ {
		t.Fatalf("record %#x, want FD_READ only", r.NetworkEvents)
	}
	buf := make([]byte, 8)
	if _, err := recv(pt, s, buf, wsa.MSG_OOB); !errors.Is(err, wsa.WSAEINVAL) {
		t.Fatalf("recv(MSG_OOB) with SO_OOBINLINE: %v", err)
	}
	got := ""
	eventually(t, "both bytes", func() bool {
		n, _ := recv(pt, s, buf, 0)
		got += string(buf[:n])
		return len(got) >= 2
	})
	if got != "x!" {
		t.Fatalf("inline data %q", got)
	}
}

package host

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/wsa"
)

// TestErrnoTable checks the translation of the kernel's errno values,
// including the ones whose Winsock meaning the callers refine.
func TestErrnoTable(t *testing.T) {
	for _, c := range []struct {
		in   unix.Errno
		want wsa.Errno
	}{
		{unix.ECONNREFUSED, wsa.WSAECONNREFUSED},
		{unix.EINPROGRESS, wsa.WSAEWOULDBLOCK}, // non-blocking connect
		{unix.EAGAIN, wsa.WSAEWOULDBLOCK},
		{unix.EWOULDBLOCK, wsa.WSAEWOULDBLOCK},
		{unix.EADDRINUSE, wsa.WSAEADDRINUSE},
		{unix.EADDRNOTAVAIL, wsa.WSAEADDRNOTAVAIL},
		{unix.ENOTCONN, wsa.WSAENOTCONN},
		{unix.EISCONN, wsa.WSAEISCONN},
		{unix.EALREADY, wsa.WSAEALREADY},
		{unix.ECONNRESET, wsa.WSAECONNRESET},
		{unix.ECONNABORTED, wsa.WSAECONNABORTED},
		{unix.EPIPE, wsa.WSAESHUTDOWN}, // send after our shutdown
		{unix.ESHUTDOWN, wsa.WSAESHUTDOWN},
		{unix.ETIMEDOUT, wsa.WSAETIMEDOUT},
		{unix.ENETUNREACH, wsa.WSAENETUNREACH},
		{unix.EHOSTUNREACH, wsa.WSAEHOSTUNREACH},
		{unix.ENETDOWN, wsa.WSAENETDOWN},
		{unix.EHOSTDOWN, wsa.WSAEHOSTDOWN},
		{unix.ENETRESET, wsa.WSAENETRESET},
		{unix.EMSGSIZE, wsa.WSAEMSGSIZE},
		{unix.EACCES, wsa.WSAEACCES},
		{unix.EPERM, wsa.WSAEACCES},
		{unix.ENOBUFS, wsa.WSAENOBUFS},
		{unix.ENOMEM, wsa.WSAENOBUFS},
		{unix.EINVAL, wsa.WSAEINVAL},
		{unix.EAFNOSUPPORT, wsa.WSAEAFNOSUPPORT},
		{unix.EPROTONOSUPPORT, wsa.WSAEPROTONOSUPPORT},
		{unix.ESOCKTNOSUPPORT, wsa.WSAESOCKTNOSUPPORT},
		{unix.ENOPROTOOPT, wsa.WSAENOPROTOOPT},
		{unix.EOPNOTSUPP, wsa.WSAEOPNOTSUPP},
		{unix.ENOTSUP, wsa.WSAEOPNOTSUPP},
		{unix.EBADF, wsa.WSAENOTSOCK},
		{unix.ENOTSOCK, wsa.WSAENOTSOCK},
		{unix.EFAULT, wsa.WSAEFAULT},
		{unix.EINTR, wsa.WSAEINTR},
		{unix.EDESTADDRREQ, wsa.WSAEDESTADDRREQ},
		{unix.EMFILE, wsa.WSAEMFILE},
		{unix.ENFILE, wsa.WSAEMFILE},
		{unix.E2BIG, errUnmapped}, // not a socket error
	} {
		if got := errnoOf(c.in); got != c.want {
			t.Errorf("%v (%d) → %s, want %s", c.in, int(c.in), got.Name(), c.want.Name())
		}
		if got := translate(c.in); got != c.want {
			t.Errorf("translate(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	// Every entry gives a real WSAE* code.
	for e, w := range errnoTable {
		if w == errUnmapped || w.Name() == "" {
			t.Errorf("%v maps to %d, which has no name", e, w)
		}
	}
	// EPIPE as a connection's pending error (a reset in CLOSE_WAIT).
	if got := streamErrno(unix.EPIPE); got != wsa.WSAECONNRESET {
		t.Errorf("streamErrno(EPIPE) = %s", got.Name())
	}
	if got := streamErrno(unix.ETIMEDOUT); got != wsa.WSAETIMEDOUT {
		t.Errorf("streamErrno(ETIMEDOUT) = %s", got.Name())
	}
	if translate(nil) != nil || translate(unix.Errno(0)) != nil {
		t.Error("translate of no error is not nil")
	}
	if got := translate(fmt.Errorf("wrapped: %w", unix.ECONNRESET)); got != wsa.WSAECONNRESET {
		t.Errorf("translate(wrapped ECONNRESET) = %v", got)
	}
	if got := translate(wsa.WSAEINTR); got != wsa.WSAEINTR {
		t.Errorf("translate(WSAEINTR) = %v", got)
	}
	if got := translate(errors.New("other")); got != errUnmapped {
		t.Errorf("translate(other) = %v", got)
	}
}

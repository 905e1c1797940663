package host

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/ws2go/ws2/wsa"
)

// errUnmapped is what translate returns for an errno the table does not
// know: WSASYSCALLFAILURE, what ws2_32 reports for a provider that fails
// without a proper code.
const errUnmapped = wsa.WSASYSCALLFAILURE

// errnoTable is the one translation of the kernel's errno values into
// Winsock errors. It is context-free: where Winsock's answer depends on
// what the caller was doing, the caller decides before (or instead of)
// translating:
//
//   - EINPROGRESS is the first call of a connect in progress:
//     WSAEWOULDBLOCK for a non-blocking socket, a wait for a blocking one.
//   - EAGAIN drives the wait loops; only a non-blocking caller sees
//     WSAEWOULDBLOCK.
//   - EPIPE from send after our own shutdown(SD_SEND) is WSAESHUTDOWN (the
//     table's answer); as a connection's pending error (SO_ERROR: a reset
//     in CLOSE_WAIT) it is WSAECONNRESET (streamErrno).
//   - ECONNREFUSED on a UDP socket is an ICMP port unreachable: recv
//     reports WSAECONNRESET (unless SIO_UDP_CONNRESET is off); the table
//     gives WSAECONNREFUSED, the TCP meaning.
//   - EINVAL from recv(MSG_OOB) means "no urgent data": the caller waits.
//   - A recv of 0 bytes is the peer's FIN, not an error.
var errnoTable = map[unix.Errno]wsa.Errno{
	unix.EAGAIN:          wsa.WSAEWOULDBLOCK, // = EWOULDBLOCK
	unix.EINPROGRESS:     wsa.WSAEWOULDBLOCK,
	unix.EALREADY:        wsa.WSAEALREADY,
	unix.EISCONN:         wsa.WSAEISCONN,
	unix.ENOTCONN:        wsa.WSAENOTCONN,
	unix.ECONNREFUSED:    wsa.WSAECONNREFUSED,
	unix.ECONNRESET:      wsa.WSAECONNRESET,
	unix.ECONNABORTED:    wsa.WSAECONNABORTED,
	unix.EPIPE:           wsa.WSAESHUTDOWN,
	unix.ESHUTDOWN:       wsa.WSAESHUTDOWN,
	unix.ETIMEDOUT:       wsa.WSAETIMEDOUT,
	unix.ENETUNREACH:     wsa.WSAENETUNREACH,
	unix.EHOSTUNREACH:    wsa.WSAEHOSTUNREACH,
	unix.ENETDOWN:        wsa.WSAENETDOWN,
	unix.EHOSTDOWN:       wsa.WSAEHOSTDOWN,
	unix.ENETRESET:       wsa.WSAENETRESET,
	unix.ENONET:          wsa.WSAENETUNREACH,
	unix.EADDRINUSE:      wsa.WSAEADDRINUSE,
	unix.EADDRNOTAVAIL:   wsa.WSAEADDRNOTAVAIL,
	unix.EMSGSIZE:        wsa.WSAEMSGSIZE,
	unix.EACCES:          wsa.WSAEACCES,
	unix.EPERM:           wsa.WSAEACCES,
	unix.ENOBUFS:         wsa.WSAENOBUFS,
	unix.ENOMEM:          wsa.WSAENOBUFS,
	unix.EINVAL:          wsa.WSAEINVAL,
	unix.EAFNOSUPPORT:    wsa.WSAEAFNOSUPPORT,
	unix.EPFNOSUPPORT:    wsa.WSAEPFNOSUPPORT,
	unix.EPROTONOSUPPORT: wsa.WSAEPROTONOSUPPORT,
	unix.ESOCKTNOSUPPORT: wsa.WSAESOCKTNOSUPPORT,
	unix.EPROTOTYPE:      wsa.WSAEPROTOTYPE,
	unix.ENOPROTOOPT:     wsa.WSAENOPROTOOPT,
	unix.EOPNOTSUPP:      wsa.WSAEOPNOTSUPP, // = ENOTSUP
	unix.EBADF:           wsa.WSAENOTSOCK,
	unix.ENOTSOCK:        wsa.WSAENOTSOCK,
	unix.EFAULT:          wsa.WSAEFAULT,
	unix.EINTR:           wsa.WSAEINTR,
	unix.EDESTADDRREQ:    wsa.WSAEDESTADDRREQ,
	unix.EMFILE:          wsa.WSAEMFILE,
	unix.ENFILE:          wsa.WSAEMFILE,
	unix.ELOOP:           wsa.WSAELOOP,
	unix.ENAMETOOLONG:    wsa.WSAENAMETOOLONG,
	unix.EPROTO:          wsa.WSAECONNABORTED,
	unix.ENODEV:          wsa.WSAENETDOWN,
	unix.ENXIO:           wsa.WSAENETDOWN,
	unix.EDQUOT:          wsa.WSAEDQUOT,
	unix.ESTALE:          wsa.WSAESTALE,
	unix.EREMOTE:         wsa.WSAEREMOTE,
	unix.EUSERS:          wsa.WSAEUSERS,
	unix.ETOOMANYREFS:    wsa.WSAETOOMANYREFS,
	unix.ENOTEMPTY:       wsa.WSAENOTEMPTY,
}

// errnoOf translates one errno.
func errnoOf(e unix.Errno) wsa.Errno {
	if w, ok := errnoTable[e]; ok {
		return w
	}
	return errUnmapped
}

// translate turns the error of a system call into the Winsock error a
// caller sees; nil gives nil, a wsa.Errno is kept.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var e unix.Errno
	if errors.As(err, &e) {
		if e == 0 {
			return nil
		}
		return errnoOf(e)
	}
	var w wsa.Errno
	if errors.As(err, &w) {
		return w
	}
	return errUnmapped
}

// streamErrno is the Winsock error for a stream connection's pending error
// (SO_ERROR after a reset or a time-out): EPIPE (a reset in CLOSE_WAIT) is
// WSAECONNRESET.
func streamErrno(e unix.Errno) wsa.Errno {
	if e == unix.EPIPE {
		return wsa.WSAECONNRESET
	}
	return errnoOf(e)
}

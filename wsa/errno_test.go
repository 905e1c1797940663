package wsa

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
)

// allErrnos lists every Errno constant of errno.go with the C name Name must
// give (aliases give the Winsock name).
var allErrnos = []struct {
	e    Errno
	name string
}{
	{WSAEINTR, "WSAEINTR"}, {WSAEBADF, "WSAEBADF"}, {WSAEACCES, "WSAEACCES"},
	{WSAEFAULT, "WSAEFAULT"}, {WSAEINVAL, "WSAEINVAL"}, {WSAEMFILE, "WSAEMFILE"},
	{WSAEWOULDBLOCK, "WSAEWOULDBLOCK"}, {WSAEINPROGRESS, "WSAEINPROGRESS"},
	{WSAEALREADY, "WSAEALREADY"}, {WSAENOTSOCK, "WSAENOTSOCK"},
	{WSAEDESTADDRREQ, "WSAEDESTADDRREQ"}, {WSAEMSGSIZE, "WSAEMSGSIZE"},
	{WSAEPROTOTYPE, "WSAEPROTOTYPE"}, {WSAENOPROTOOPT, "WSAENOPROTOOPT"},
	{WSAEPROTONOSUPPORT, "WSAEPROTONOSUPPORT"}, {WSAESOCKTNOSUPPORT, "WSAESOCKTNOSUPPORT"},
	{WSAEOPNOTSUPP, "WSAEOPNOTSUPP"}, {WSAEPFNOSUPPORT, "WSAEPFNOSUPPORT"},
	{WSAEAFNOSUPPORT, "WSAEAFNOSUPPORT"}, {WSAEADDRINUSE, "WSAEADDRINUSE"},
	{WSAEADDRNOTAVAIL, "WSAEADDRNOTAVAIL"}, {WSAENETDOWN, "WSAENETDOWN"},
	{WSAENETUNREACH, "WSAENETUNREACH"}, {WSAENETRESET, "WSAENETRESET"},
	{WSAECONNABORTED, "WSAECONNABORTED"}, {WSAECONNRESET, "WSAECONNRESET"},
	{WSAENOBUFS, "WSAENOBUFS"}, {WSAEISCONN, "WSAEISCONN"}, {WSAENOTCONN, "WSAENOTCONN"},
	{WSAESHUTDOWN, "WSAESHUTDOWN"}, {WSAETOOMANYREFS, "WSAETOOMANYREFS"},
	{WSAETIMEDOUT, "WSAETIMEDOUT"}, {WSAECONNREFUSED, "WSAECONNREFUSED"},
	{WSAELOOP, "WSAELOOP"}, {WSAENAMETOOLONG, "WSAENAMETOOLONG"},
	{WSAEHOSTDOWN, "WSAEHOSTDOWN"}, {WSAEHOSTUNREACH, "WSAEHOSTUNREACH"},
	{WSAENOTEMPTY, "WSAENOTEMPTY"}, {WSAEPROCLIM, "WSAEPROCLIM"}, {WSAEUSERS, "WSAEUSERS"},
	{WSAEDQUOT, "WSAEDQUOT"}, {WSAESTALE, "WSAESTALE"}, {WSAEREMOTE, "WSAEREMOTE"},
	{WSASYSNOTREADY, "WSASYSNOTREADY"}, {WSAVERNOTSUPPORTED, "WSAVERNOTSUPPORTED"},
	{WSANOTINITIALISED, "WSANOTINITIALISED"}, {WSAEDISCON, "WSAEDISCON"},
	{WSAENOMORE, "WSAENOMORE"}, {WSAECANCELLED, "WSAECANCELLED"},
	{WSAEINVALIDPROCTABLE, "WSAEINVALIDPROCTABLE"}, {WSAEINVALIDPROVIDER, "WSAEINVALIDPROVIDER"},
	{WSAEPROVIDERFAILEDINIT, "WSAEPROVIDERFAILEDINIT"}, {WSASYSCALLFAILURE, "WSASYSCALLFAILURE"},
	{WSASERVICE_NOT_FOUND, "WSASERVICE_NOT_FOUND"}, {WSATYPE_NOT_FOUND, "WSATYPE_NOT_FOUND"},
	{WSA_E_NO_MORE, "WSA_E_NO_MORE"}, {WSA_E_CANCELLED, "WSA_E_CANCELLED"},
	{WSAEREFUSED, "WSAEREFUSED"}, {WSAHOST_NOT_FOUND, "WSAHOST_NOT_FOUND"},
	{WSATRY_AGAIN, "WSATRY_AGAIN"}, {WSANO_RECOVERY, "WSANO_RECOVERY"},
	{WSANO_DATA, "WSANO_DATA"}, {WSANO_ADDRESS, "WSANO_DATA"},
	{WSA_QOS_RECEIVERS, "WSA_QOS_RECEIVERS"}, {WSA_QOS_SENDERS, "WSA_QOS_SENDERS"},
	{WSA_QOS_NO_SENDERS, "WSA_QOS_NO_SENDERS"}, {WSA_QOS_NO_RECEIVERS, "WSA_QOS_NO_RECEIVERS"},
	{WSA_QOS_REQUEST_CONFIRMED, "WSA_QOS_REQUEST_CONFIRMED"},
	{WSA_QOS_ADMISSION_FAILURE, "WSA_QOS_ADMISSION_FAILURE"},
	{WSA_QOS_POLICY_FAILURE, "WSA_QOS_POLICY_FAILURE"}, {WSA_QOS_BAD_STYLE, "WSA_QOS_BAD_STYLE"},
	{WSA_QOS_BAD_OBJECT, "WSA_QOS_BAD_OBJECT"}, {WSA_QOS_TRAFFIC_CTRL_ERROR, "WSA_QOS_TRAFFIC_CTRL_ERROR"},
	{WSA_QOS_GENERIC_ERROR, "WSA_QOS_GENERIC_ERROR"}, {WSA_QOS_ESERVICETYPE, "WSA_QOS_ESERVICETYPE"},
	{WSA_QOS_EFLOWSPEC, "WSA_QOS_EFLOWSPEC"}, {WSA_QOS_EPROVSPECBUF, "WSA_QOS_EPROVSPECBUF"},
	{WSA_QOS_EFILTERSTYLE, "WSA_QOS_EFILTERSTYLE"}, {WSA_QOS_EFILTERTYPE, "WSA_QOS_EFILTERTYPE"},
	{WSA_QOS_EFILTERCOUNT, "WSA_QOS_EFILTERCOUNT"}, {WSA_QOS_EOBJLENGTH, "WSA_QOS_EOBJLENGTH"},
	{WSA_QOS_EFLOWCOUNT, "WSA_QOS_EFLOWCOUNT"}, {WSA_QOS_EUNKOWNPSOBJ, "WSA_QOS_EUNKOWNPSOBJ"},
	{WSA_QOS_EPOLICYOBJ, "WSA_QOS_EPOLICYOBJ"}, {WSA_QOS_EFLOWDESC, "WSA_QOS_EFLOWDESC"},
	{WSA_QOS_EPSFLOWSPEC, "WSA_QOS_EPSFLOWSPEC"}, {WSA_QOS_EPSFILTERSPEC, "WSA_QOS_EPSFILTERSPEC"},
	{WSA_QOS_ESDMODEOBJ, "WSA_QOS_ESDMODEOBJ"}, {WSA_QOS_ESHAPERATEOBJ, "WSA_QOS_ESHAPERATEOBJ"},
	{WSA_QOS_RESERVED_PETYPE, "WSA_QOS_RESERVED_PETYPE"},
	{WSA_SECURE_HOST_NOT_FOUND, "WSA_SECURE_HOST_NOT_FOUND"},
	{WSA_IPSEC_NAME_POLICY_ERROR, "WSA_IPSEC_NAME_POLICY_ERROR"},
	{WSA_INVALID_HANDLE, "WSA_INVALID_HANDLE"}, {WSA_NOT_ENOUGH_MEMORY, "WSA_NOT_ENOUGH_MEMORY"},
	{WSA_INVALID_PARAMETER, "WSA_INVALID_PARAMETER"}, {WSA_OPERATION_ABORTED, "WSA_OPERATION_ABORTED"},
	{WSA_IO_INCOMPLETE, "WSA_IO_INCOMPLETE"}, {WSA_IO_PENDING, "WSA_IO_PENDING"},
	{ERROR_NETNAME_DELETED, "ERROR_NETNAME_DELETED"}, {ERROR_SEM_TIMEOUT, "ERROR_SEM_TIMEOUT"},
	{ERROR_MORE_DATA, "ERROR_MORE_DATA"}, {WAIT_TIMEOUT, "WAIT_TIMEOUT"},
	{ERROR_ABANDONED_WAIT_0, "ERROR_ABANDONED_WAIT_0"},
	{ERROR_OPERATION_ABORTED, "WSA_OPERATION_ABORTED"}, {ERROR_IO_INCOMPLETE, "WSA_IO_INCOMPLETE"},
	{ERROR_IO_PENDING, "WSA_IO_PENDING"}, {ERROR_CONNECTION_REFUSED, "ERROR_CONNECTION_REFUSED"},
	{ERROR_NETWORK_UNREACHABLE, "ERROR_NETWORK_UNREACHABLE"},
	{ERROR_HOST_UNREACHABLE, "ERROR_HOST_UNREACHABLE"}, {ERROR_PORT_UNREACHABLE, "ERROR_PORT_UNREACHABLE"},
	{ERROR_CONNECTION_ABORTED, "ERROR_CONNECTION_ABORTED"},
	{ERROR_NOT_FOUND, "ERROR_NOT_FOUND"},
}

func TestErrnoNamesAndMessages(t *testing.T) {
	for _, c := range allErrnos {
		if got := c.e.Name(); got != c.name {
			t.Errorf("Errno(%d).Name() = %q, want %q", uint32(c.e), got, c.name)
		}
		msg, ok := errnoText[c.e]
		if !ok || msg == "" {
			t.Errorf("%s (%d) has no message", c.name, uint32(c.e))
		}
		if c.e.Error() != msg {
			t.Errorf("%s.Error() = %q, want %q", c.name, c.e.Error(), msg)
		}
	}
	// The maps hold nothing the constant list lacks (WSABASEERR is a base,
	// not a code: a name but no message).
	known := map[Errno]bool{WSABASEERR: true}
	for _, c := range allErrnos {
		known[c.e] = true
	}
	for e := range errnoText {
		if !known[e] {
			t.Errorf("errnoText has unlisted code %d", uint32(e))
		}
	}
	for e := range errnoName {
		if !known[e] {
			t.Errorf("errnoName has unlisted code %d", uint32(e))
		}
	}
	if WSABASEERR.Name() != "WSABASEERR" {
		t.Errorf("WSABASEERR.Name() = %q", WSABASEERR.Name())
	}
}

func TestErrnoExactText(t *testing.T) {
	for _, c := range []struct {
		e    Errno
		want string
	}{
		{WSAEWOULDBLOCK, "A non-blocking socket operation could not be completed immediately."},
		{WSAECONNRESET, "An existing connection was forcibly closed by the remote host."},
		{WSAECONNREFUSED, "No connection could be made because the target machine actively refused it."},
		{WSAEADDRINUSE, "Only one usage of each socket address (protocol/network address/port) is normally permitted."},
		{WSAEINVAL, "An invalid argument was supplied."},
		{WSANOTINITIALISED, "Either the application has not called WSAStartup, or WSAStartup failed."},
		{WSA_IO_PENDING, "Overlapped I/O operation is in progress."},
		{WSA_OPERATION_ABORTED, "The I/O operation has been aborted because of either a thread exit or an application request."},
		{WAIT_TIMEOUT, "The wait operation timed out."},
		{Errno(12345), "winsock error 12345"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Errno(%d).Error() = %q, want %q", uint32(c.e), got, c.want)
		}
	}
	if got := Errno(12345).Name(); got != "" {
		t.Errorf("unknown Name() = %q", got)
	}
}

func TestErrnoWrapping(t *testing.T) {
	err := fmt.Errorf("connect 10.0.0.1:80: %w", WSAECONNREFUSED)
	if !errors.Is(err, WSAECONNREFUSED) {
		t.Error("errors.Is through %w failed")
	}
	if errors.Is(err, WSAECONNRESET) {
		t.Error("errors.Is matched a different code")
	}
	var e Errno
	if !errors.As(fmt.Errorf("outer: %w", err), &e) || e != WSAECONNREFUSED {
		t.Errorf("errors.As = %v, %v", e, err)
	}
	var ne net.Error
	if !errors.As(fmt.Errorf("x: %w", WSAETIMEDOUT), &ne) || !ne.Timeout() {
		t.Error("WSAETIMEDOUT is not a net.Error timeout")
	}
	if !errors.Is(WSAETIMEDOUT, os.ErrDeadlineExceeded) {
		t.Error("errors.Is(WSAETIMEDOUT, os.ErrDeadlineExceeded) = false")
	}
	if !errors.Is(fmt.Errorf("x: %w", WSAETIMEDOUT), os.ErrDeadlineExceeded) {
		t.Error("wrapped WSAETIMEDOUT does not match os.ErrDeadlineExceeded")
	}
	if errors.Is(WSAEWOULDBLOCK, os.ErrDeadlineExceeded) {
		t.Error("WSAEWOULDBLOCK matches os.ErrDeadlineExceeded")
	}
}

func TestErrnoTimeout(t *testing.T) {
	for _, c := range allErrnos {
		want := c.e == WSAETIMEDOUT || c.e == WAIT_TIMEOUT
		if got := c.e.Timeout(); got != want {
			t.Errorf("%s.Timeout() = %v, want %v", c.name, got, want)
		}
	}
	for _, c := range []struct {
		e    Errno
		want bool
	}{
		{WSAEWOULDBLOCK, true}, {WSAEINTR, true}, {WSATRY_AGAIN, true}, {WSAETIMEDOUT, true},
		{WSAECONNRESET, false}, {WSAEINVAL, false},
	} {
		if got := c.e.Temporary(); got != c.want {
			t.Errorf("%s.Temporary() = %v", c.e.Name(), got)
		}
	}
}

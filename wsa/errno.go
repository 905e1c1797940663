package wsa

import (
	"os"
	"strconv"
)

// Errno is a Winsock error code: a WSAE* value, or one of the Win32 codes
// Winsock reuses (WSA_IO_PENDING, WSA_OPERATION_ABORTED, ...). Every ws2 call
// that fails returns an Errno (possibly wrapped), so
// errors.Is(err, wsa.WSAEWOULDBLOCK) and errors.As work. Its message is the
// one Windows gives for the code.
type Errno uint32

// Error returns Windows' message for the code.
func (e Errno) Error() string {
	if m, ok := errnoText[e]; ok {
		return m
	}
	return "winsock error " + strconv.FormatUint(uint64(e), 10)
}

// Timeout reports whether the error is a time-out (WSAETIMEDOUT, and
// WSA_WAIT_TIMEOUT), as net.Error asks.
func (e Errno) Timeout() bool { return e == WSAETIMEDOUT || e == WAIT_TIMEOUT }

// Temporary reports whether the call may succeed if tried again
// (WSAEWOULDBLOCK, WSAEINTR, WSATRY_AGAIN, WSAETIMEDOUT).
func (e Errno) Temporary() bool {
	return e == WSAEWOULDBLOCK || e == WSAEINTR || e == WSATRY_AGAIN || e.Timeout()
}

// Is lets errors.Is match an Errno against the portable os errors:
// WSAETIMEDOUT matches os.ErrDeadlineExceeded.
func (e Errno) Is(target error) bool {
	switch target {
	case os.ErrDeadlineExceeded:
		return e == WSAETIMEDOUT
	}
	return false
}

// Name returns the C name of the code ("WSAEWOULDBLOCK"), or "" if unknown.
func (e Errno) Name() string { return errnoName[e] }

// The WSAE* codes (winsock2.h, WSABASEERR = 10000).
const (
	WSABASEERR Errno = 10000

	WSAEINTR           Errno = 10004
	WSAEBADF           Errno = 10009
	WSAEACCES          Errno = 10013
	WSAEFAULT          Errno = 10014
	WSAEINVAL          Errno = 10022
	WSAEMFILE          Errno = 10024
	WSAEWOULDBLOCK     Errno = 10035
	WSAEINPROGRESS     Errno = 10036
	WSAEALREADY        Errno = 10037
	WSAENOTSOCK        Errno = 10038
	WSAEDESTADDRREQ    Errno = 10039
	WSAEMSGSIZE        Errno = 10040
	WSAEPROTOTYPE      Errno = 10041
	WSAENOPROTOOPT     Errno = 10042
	WSAEPROTONOSUPPORT Errno = 10043
	WSAESOCKTNOSUPPORT Errno = 10044
	WSAEOPNOTSUPP      Errno = 10045
	WSAEPFNOSUPPORT    Errno = 10046
	WSAEAFNOSUPPORT    Errno = 10047
	WSAEADDRINUSE      Errno = 10048
	WSAEADDRNOTAVAIL   Errno = 10049
	WSAENETDOWN        Errno = 10050
	WSAENETUNREACH     Errno = 10051
	WSAENETRESET       Errno = 10052
	WSAECONNABORTED    Errno = 10053
	WSAECONNRESET      Errno = 10054
	WSAENOBUFS         Errno = 10055
	WSAEISCONN         Errno = 10056
	WSAENOTCONN        Errno = 10057
	WSAESHUTDOWN       Errno = 10058
	WSAETOOMANYREFS    Errno = 10059
	WSAETIMEDOUT       Errno = 10060
	WSAECONNREFUSED    Errno = 10061
	WSAELOOP           Errno = 10062
	WSAENAMETOOLONG    Errno = 10063
	WSAEHOSTDOWN       Errno = 10064
	WSAEHOSTUNREACH    Errno = 10065
	WSAENOTEMPTY       Errno = 10066
	WSAEPROCLIM        Errno = 10067
	WSAEUSERS          Errno = 10068
	WSAEDQUOT          Errno = 10069
	WSAESTALE          Errno = 10070
	WSAEREMOTE         Errno = 10071

	WSASYSNOTREADY         Errno = 10091
	WSAVERNOTSUPPORTED     Errno = 10092
	WSANOTINITIALISED      Errno = 10093
	WSAEDISCON             Errno = 10101
	WSAENOMORE             Errno = 10102
	WSAECANCELLED          Errno = 10103
	WSAEINVALIDPROCTABLE   Errno = 10104
	WSAEINVALIDPROVIDER    Errno = 10105
	WSAEPROVIDERFAILEDINIT Errno = 10106
	WSASYSCALLFAILURE      Errno = 10107
	WSASERVICE_NOT_FOUND   Errno = 10108
	WSATYPE_NOT_FOUND      Errno = 10109
	WSA_E_NO_MORE          Errno = 10110
	WSA_E_CANCELLED        Errno = 10111
	WSAEREFUSED            Errno = 10112

	WSAHOST_NOT_FOUND           Errno = 11001
	WSATRY_AGAIN                Errno = 11002
	WSANO_RECOVERY              Errno = 11003
	WSANO_DATA                  Errno = 11004
	WSANO_ADDRESS                     = WSANO_DATA
	WSA_QOS_RECEIVERS           Errno = 11005
	WSA_QOS_SENDERS             Errno = 11006
	WSA_QOS_NO_SENDERS          Errno = 11007
	WSA_QOS_NO_RECEIVERS        Errno = 11008
	WSA_QOS_REQUEST_CONFIRMED   Errno = 11009
	WSA_QOS_ADMISSION_FAILURE   Errno = 11010
	WSA_QOS_POLICY_FAILURE      Errno = 11011
	WSA_QOS_BAD_STYLE           Errno = 11012
	WSA_QOS_BAD_OBJECT          Errno = 11013
	WSA_QOS_TRAFFIC_CTRL_ERROR  Errno = 11014
	WSA_QOS_GENERIC_ERROR       Errno = 11015
	WSA_QOS_ESERVICETYPE        Errno = 11016
	WSA_QOS_EFLOWSPEC           Errno = 11017
	WSA_QOS_EPROVSPECBUF        Errno = 11018
	WSA_QOS_EFILTERSTYLE        Errno = 11019
	WSA_QOS_EFILTERTYPE         Errno = 11020
	WSA_QOS_EFILTERCOUNT        Errno = 11021
	WSA_QOS_EOBJLENGTH          Errno = 11022
	WSA_QOS_EFLOWCOUNT          Errno = 11023
	WSA_QOS_EUNKOWNPSOBJ        Errno = 11024 // sic
	WSA_QOS_EPOLICYOBJ          Errno = 11025
	WSA_QOS_EFLOWDESC           Errno = 11026
	WSA_QOS_EPSFLOWSPEC         Errno = 11027
	WSA_QOS_EPSFILTERSPEC       Errno = 11028
	WSA_QOS_ESDMODEOBJ          Errno = 11029
	WSA_QOS_ESHAPERATEOBJ       Errno = 11030
	WSA_QOS_RESERVED_PETYPE     Errno = 11031
	WSA_SECURE_HOST_NOT_FOUND   Errno = 11032
	WSA_IPSEC_NAME_POLICY_ERROR Errno = 11033
)

// Win32 codes that Winsock reuses (winsock2.h aliases) and the Win32 codes a
// completion port reports for failed I/O (spec §5.5).
const (
	WSA_INVALID_HANDLE    Errno = 6
	WSA_NOT_ENOUGH_MEMORY Errno = 8
	WSA_INVALID_PARAMETER Errno = 87
	WSA_OPERATION_ABORTED Errno = 995
	WSA_IO_INCOMPLETE     Errno = 996
	WSA_IO_PENDING        Errno = 997

	ERROR_NETNAME_DELETED     Errno = 64
	ERROR_SEM_TIMEOUT         Errno = 121
	ERROR_MORE_DATA           Errno = 234
	WAIT_TIMEOUT              Errno = 258
	ERROR_ABANDONED_WAIT_0    Errno = 735
	ERROR_OPERATION_ABORTED   Errno = 995
	ERROR_IO_INCOMPLETE       Errno = 996
	ERROR_IO_PENDING          Errno = 997
	ERROR_CONNECTION_REFUSED  Errno = 1225
	ERROR_NETWORK_UNREACHABLE Errno = 1231
	ERROR_HOST_UNREACHABLE    Errno = 1232
	ERROR_PORT_UNREACHABLE    Errno = 1234
	ERROR_CONNECTION_ABORTED  Errno = 1236
	ERROR_NOT_FOUND           Errno = 1168
)

package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/ws2go/ws2/wsa"
)

// errUnmapped is what translate returns for a tcpip.Error type this file
// does not know. gVisor never returned one when this table was written; the
// table test fails if a new type appears, so the code never reaches a caller
// in practice. WSASYSCALLFAILURE is what ws2_32 reports for a provider that
// fails without a proper code.
const errUnmapped = wsa.WSASYSCALLFAILURE

// translate is the one translation of gVisor's tcpip.Error into the Winsock
// error a caller sees. nil gives nil.
//
// It is context-free: where Winsock's answer depends on what the caller was
// doing, the caller decides before (or instead of) calling translate:
//
//   - *tcpip.ErrClosedForReceive (the peer's FIN, or our own SD_RECEIVE) is a
//     recv of 0 bytes on a stream socket, and WSAESHUTDOWN after
//     shutdown(SD_RECEIVE); translate gives WSAESHUTDOWN.
//   - *tcpip.ErrConnectStarted is the first call of a connect in progress:
//     WSAEWOULDBLOCK for a non-blocking socket, a wait for a blocking one.
//   - *tcpip.ErrConnectionRefused on a UDP socket is an ICMP port
//     unreachable: recv reports WSAECONNRESET (unless SIO_UDP_CONNRESET is
//     off); translate gives WSAECONNREFUSED, the TCP meaning.
//   - *tcpip.ErrDestinationRequired is WSAENOTCONN for send on an
//     unconnected socket; translate gives WSAEDESTADDRREQ.
//   - *tcpip.ErrWouldBlock drives the wait loops; only a non-blocking caller
//     sees WSAEWOULDBLOCK.
//   - *tcpip.ErrBadLocalAddress from a TCP Connect is also gVisor's report
//     of a 4-tuple in use: WSAEADDRINUSE (socket.connectErrLocked);
//     translate gives WSAEADDRNOTAVAIL, the bind meaning.
func translate(err tcpip.Error) error {
	if err == nil {
		return nil
	}
	return errno(err)
}

// errno is translate for a non-nil error, typed.
func errno(err tcpip.Error) wsa.Errno {
	switch err.(type) {
	case *tcpip.ErrAborted:
		return wsa.WSAECONNABORTED
	case *tcpip.ErrAddressFamilyNotSupported:
		return wsa.WSAEAFNOSUPPORT
	case *tcpip.ErrAlreadyBound:
		return wsa.WSAEINVAL
	case *tcpip.ErrAlreadyConnected:
		return wsa.WSAEISCONN
	case *tcpip.ErrAlreadyConnecting:
		return wsa.WSAEALREADY
	case *tcpip.ErrBadAddress:
		return wsa.WSAEFAULT
	case *tcpip.ErrBadBuffer:
		return wsa.WSAEFAULT
	case *tcpip.ErrBadLocalAddress:
		return wsa.WSAEADDRNOTAVAIL
	case *tcpip.ErrBroadcastDisabled:
		return wsa.WSAEACCES
	case *tcpip.ErrClosedForReceive:
		return wsa.WSAESHUTDOWN
	case *tcpip.ErrClosedForSend:
		return wsa.WSAESHUTDOWN
	case *tcpip.ErrConnectStarted:
		return wsa.WSAEWOULDBLOCK
	case *tcpip.ErrConnectionAborted:
		return wsa.WSAECONNABORTED
	case *tcpip.ErrConnectionRefused:
		return wsa.WSAECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return wsa.WSAECONNRESET
	case *tcpip.ErrDestinationRequired:
		return wsa.WSAEDESTADDRREQ
	case *tcpip.ErrDuplicateAddress:
		return wsa.WSAEADDRINUSE
	case *tcpip.ErrDuplicateNICID:
		return wsa.WSAEINVAL
	case *tcpip.ErrInvalidNICID:
		return wsa.WSAEINVAL
	case *tcpip.ErrInvalidEndpointState:
		return wsa.WSAEINVAL
	case *tcpip.ErrInvalidOptionValue:
		return wsa.WSAEINVAL
	case *tcpip.ErrInvalidPortRange:
		return wsa.WSAEINVAL
	case *tcpip.ErrMalformedHeader:
		return wsa.WSAEINVAL
	case *tcpip.ErrMessageTooLong:
		return wsa.WSAEMSGSIZE
	case *tcpip.ErrNetworkUnreachable:
		return wsa.WSAENETUNREACH
	case *tcpip.ErrNoBufferSpace:
		return wsa.WSAENOBUFS
	case *tcpip.ErrNoPortAvailable:
		return wsa.WSAEADDRINUSE
	case *tcpip.ErrHostUnreachable:
		return wsa.WSAEHOSTUNREACH
	case *tcpip.ErrHostDown:
		return wsa.WSAEHOSTDOWN
	case *tcpip.ErrNoNet:
		return wsa.WSAENETDOWN
	case *tcpip.ErrNoSuchFile:
		return wsa.WSAEINVAL
	case *tcpip.ErrNotConnected:
		return wsa.WSAENOTCONN
	case *tcpip.ErrNotPermitted:
		return wsa.WSAEACCES
	case *tcpip.ErrNotSupported:
		return wsa.WSAEOPNOTSUPP
	case *tcpip.ErrPortInUse:
		return wsa.WSAEADDRINUSE
	case *tcpip.ErrQueueSizeNotSupported:
		return wsa.WSAEOPNOTSUPP
	case *tcpip.ErrTimeout:
		return wsa.WSAETIMEDOUT
	case *tcpip.ErrUnknownDevice:
		return wsa.WSAEINVAL
	case *tcpip.ErrUnknownNICID:
		return wsa.WSAEADDRNOTAVAIL
	case *tcpip.ErrUnknownProtocol:
		return wsa.WSAEPROTONOSUPPORT
	case *tcpip.ErrUnknownProtocolOption:
		return wsa.WSAENOPROTOOPT
	case *tcpip.ErrWouldBlock:
		return wsa.WSAEWOULDBLOCK
	case *tcpip.ErrMissingRequiredFields:
		return wsa.WSAEINVAL
	case *tcpip.ErrMulticastInputCannotBeOutput:
		return wsa.WSAEINVAL
	case *tcpip.ErrEndpointBusy:
		return wsa.WSAEINPROGRESS
	default:
		return errUnmapped
	}
}

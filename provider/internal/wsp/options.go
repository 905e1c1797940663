package wsp

import (
	"time"

	"github.com/ws2go/ws2/wsa"
)

// SockOpts are the options a socket remembers: because Winsock reports
// them as set, because the transport has no place for them (linger,
// time-outs, address sharing), or because they must be carried to a new
// endpoint or descriptor (accept inherits the listener's; a connect after a
// failed one, or TF_REUSE_SOCKET, gets a fresh one).
type SockOpts struct {
	Nonblocking  bool
	Linger       wsa.Linger
	RcvTimeo     uint32 // ms, 0 = none
	SndTimeo     uint32 // ms, 0 = none
	OOBInline    bool
	Broadcast    bool
	Keepalive    bool
	KeepIdle     time.Duration
	KeepIntvl    time.Duration
	KeepCnt      int
	NoDelay      bool
	RcvBuf       int32 // -1: not set
	SndBuf       int32 // -1: not set
	TTL          int   // -1: default
	TOS          int   // -1: default
	Hops         int   // -1: default
	V6Only       bool
	ReuseAddr    bool
	Exclusive    bool
	UDPConnReset bool
}

// DefaultOpts are a new socket's options for address family af.
func DefaultOpts(af int32) SockOpts {
	return SockOpts{
		KeepIdle:     DefaultKeepIdle,
		KeepIntvl:    DefaultKeepIntvl,
		KeepCnt:      DefaultKeepCnt,
		RcvBuf:       -1,
		SndBuf:       -1,
		TTL:          -1,
		TOS:          -1,
		Hops:         -1,
		V6Only:       af == wsa.AF_INET6, // IPV6_V6ONLY defaults to TRUE on Windows
		UDPConnReset: true,
	}
}

// OptLevels are a provider socket's handlers of the option levels, called
// with the socket locked.
type OptLevels[R any] struct {
	Socket, TCP, IP, IPv6 func(name int32, b []byte) (R, error)
}

// SockOpt dispatches getsockopt or setsockopt by level: IPPROTO_UDP has no
// options (WSAENOPROTOOPT), an unknown level is WSAEINVAL.
func SockOpt[R any](h OptLevels[R], level, name int32, b []byte) (R, error) {
	switch level {
	case wsa.SOL_SOCKET:
		return h.Socket(name, b)
	case wsa.IPPROTO_TCP:
		return h.TCP(name, b)
	case wsa.IPPROTO_IP:
		return h.IP(name, b)
	case wsa.IPPROTO_IPV6:
		return h.IPv6(name, b)
	}
	var zero R
	if level == wsa.IPPROTO_UDP {
		return zero, wsa.WSAENOPROTOOPT
	}
	return zero, wsa.WSAEINVAL
}

// GetStored answers getsockopt for the SOL_SOCKET options read from the
// record alone (SO_REUSEADDR, SO_EXCLUSIVEADDRUSE, SO_KEEPALIVE, SO_LINGER,
// SO_DONTLINGER, SO_RCVTIMEO, SO_SNDTIMEO, SO_BROADCAST, SO_OOBINLINE; the
// keep-alive and linger ones WSAENOPROTOOPT on a datagram socket). ok is
// false for any other option.
func (o *SockOpts) GetStored(stream bool, name int32, b []byte) (n int32, ok bool, err error) {
	switch name {
	case wsa.SO_REUSEADDR:
		n, err = wsa.PutBool(b, o.ReuseAddr)
	case wsa.SO_EXCLUSIVEADDRUSE:
		n, err = wsa.PutBool(b, o.Exclusive)
	case wsa.SO_KEEPALIVE, wsa.SO_LINGER, wsa.SO_DONTLINGER:
		if !stream {
			return 0, true, wsa.WSAENOPROTOOPT
		}
		switch name {
		case wsa.SO_KEEPALIVE:
			n, err = wsa.PutBool(b, o.Keepalive)
		case wsa.SO_LINGER:
			if err = o.Linger.Marshal(b); err == nil {
				n = wsa.SizeofLinger
			}
		default:
			n, err = wsa.PutBool(b, o.Linger.Onoff == 0)
		}
	case wsa.SO_RCVTIMEO:
		n, err = wsa.PutUint32(b, o.RcvTimeo)
	case wsa.SO_SNDTIMEO:
		n, err = wsa.PutUint32(b, o.SndTimeo)
	case wsa.SO_BROADCAST:
		n, err = wsa.PutBool(b, o.Broadcast)
	case wsa.SO_OOBINLINE:
		n, err = wsa.PutBool(b, o.OOBInline)
	default:
		return 0, false, nil
	}
	return n, true, err
}

// SetOpt adapts a setsockopt level handler to SockOpt.
func SetOpt(set func(name int32, b []byte) error) func(int32, []byte) (struct{}, error) {
	return func(name int32, b []byte) (struct{}, error) { return struct{}{}, set(name, b) }
}

// SetStored carries out setsockopt for the SOL_SOCKET options kept in the
// record alone: SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (WSAEINVAL once bound,
// or to set both), SO_LINGER and SO_DONTLINGER (WSAENOPROTOOPT on a
// datagram socket; the provider's closesocket carries them out),
// SO_RCVTIMEO and SO_SNDTIMEO (DWORD ms; the provider's waits). ok is false
// for any other option.
func (o *SockOpts) SetStored(stream, bound bool, name int32, b []byte) (ok bool, err error) {
	switch name {
	case wsa.SO_REUSEADDR, wsa.SO_EXCLUSIVEADDRUSE:
		v, err := wsa.GetBool(b)
		if err != nil {
			return true, err
		}
		if bound {
			return true, wsa.WSAEINVAL
		}
		if name == wsa.SO_REUSEADDR {
			if v && o.Exclusive {
				return true, wsa.WSAEINVAL
			}
			o.ReuseAddr = v
		} else {
			if v && o.ReuseAddr {
				return true, wsa.WSAEINVAL
			}
			o.Exclusive = v
		}
		return true, nil
	case wsa.SO_LINGER:
		if !stream {
			return true, wsa.WSAENOPROTOOPT
		}
		l, err := wsa.UnmarshalLinger(b)
		if err != nil {
			return true, err
		}
		o.Linger = l
		return true, nil
	case wsa.SO_DONTLINGER:
		if !stream {
			return true, wsa.WSAENOPROTOOPT
		}
		v, err := wsa.GetBool(b)
		if err != nil {
			return true, err
		}
		if v {
			o.Linger.Onoff = 0
		} else {
			o.Linger.Onoff = 1
		}
		return true, nil
	case wsa.SO_RCVTIMEO, wsa.SO_SNDTIMEO:
		v, err := wsa.GetUint32(b)
		if err != nil {
			return true, err
		}
		if name == wsa.SO_RCVTIMEO {
			o.RcvTimeo = v
		} else {
			o.SndTimeo = v
		}
		return true, nil
	}
	return false, nil
}

package wsp

import (
	"time"

	"github.com/ws2go/ws2/wsa"
)

// SockState is what the SOL_SOCKET options answered alike by every
// provider read of a socket, for GetSocketOpt; the provider fills it in
// with the socket's lock held.
type SockState struct {
	Opts        *SockOpts
	Info        *wsa.ProtocolInfo
	Type        int32
	Stream      bool
	Listening   bool
	SoError     *wsa.Errno  // SO_ERROR, cleared when read
	ConnectedAt time.Time   // for SO_CONNECT_TIME
	PollConnect func() bool // brings a pending connect's state up to date; true when connected
}

// GetSocketOpt answers the SOL_SOCKET options kept in the socket's record
// (SockOpts.GetStored) and SO_TYPE, SO_ERROR (read clears it),
// SO_ACCEPTCONN, SO_PROTOCOL_INFOW and SO_CONNECT_TIME (s; 0xFFFFFFFF
// unconnected). ok is false for any other option.
func GetSocketOpt(st SockState, name int32, b []byte) (n int32, ok bool, err error) {
	if n, ok, err := st.Opts.GetStored(st.Stream, name, b); ok {
		return n, true, err
	}
	switch name {
	case wsa.SO_TYPE:
		n, err = wsa.PutInt32(b, st.Type)
	case wsa.SO_ERROR:
		if len(b) < wsa.SizeofInt32 {
			return 0, true, wsa.WSAEFAULT
		}
		st.PollConnect()
		v := *st.SoError
		*st.SoError = 0
		n, err = wsa.PutInt32(b, int32(v))
	case wsa.SO_ACCEPTCONN:
		n, err = wsa.PutBool(b, st.Listening)
	case wsa.SO_PROTOCOL_INFOW:
		if len(b) < wsa.SizeofProtocolInfo {
			return 0, true, wsa.WSAEFAULT
		}
		if err := st.Info.Marshal(b); err != nil {
			return 0, true, err
		}
		n = wsa.SizeofProtocolInfo
	case wsa.SO_CONNECT_TIME:
		v := uint32(0xFFFFFFFF)
		if st.Stream && !st.Listening && st.PollConnect() {
			v = uint32(time.Since(st.ConnectedAt) / time.Second)
		}
		n, err = wsa.PutUint32(b, v)
	default:
		return 0, false, nil
	}
	return n, true, err
}

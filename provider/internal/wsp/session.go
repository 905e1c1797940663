package wsp

import (
	"sync"

	"github.com/ws2go/ws2/wsa"
)

// SocketSet is a procedure table's open sockets, safe for concurrent use;
// its zero value is empty and ready.
type SocketSet[S comparable] struct {
	mu sync.Mutex
	m  map[S]struct{}
}

// Add puts s in the set.
func (set *SocketSet[S]) Add(s S) {
	set.mu.Lock()
	if set.m == nil {
		set.m = make(map[S]struct{})
	}
	set.m[s] = struct{}{}
	set.mu.Unlock()
}

// Remove takes s out of the set.
func (set *SocketSet[S]) Remove(s S) {
	set.mu.Lock()
	delete(set.m, s)
	set.mu.Unlock()
}

// Take empties the set, returning what it held.
func (set *SocketSet[S]) Take() []S {
	set.mu.Lock()
	socks := make([]S, 0, len(set.m))
	for s := range set.m {
		socks = append(socks, s)
	}
	set.m = make(map[S]struct{})
	set.mu.Unlock()
	return socks
}

// Obsolete implements a procedure table's obsolete and not-yet-implemented
// routines and the address-string conversions; a provider's table embeds it.
type Obsolete struct{}

// WSPCancelBlockingCall is the Winsock 1.1 call: WSAEOPNOTSUPP for 2.x.
func (Obsolete) WSPCancelBlockingCall() error { return wsa.WSAEOPNOTSUPP }

// WSPJoinLeaf is obsolete multipoint: WSAEOPNOTSUPP.
func (Obsolete) WSPJoinLeaf(s wsa.Socket, name wsa.Sockaddr, callerData, calleeData []byte, sqos, gqos *wsa.QOS, flags uint32) (wsa.Socket, error) {
	return wsa.INVALID_SOCKET, wsa.WSAEOPNOTSUPP
}

// WSPGetQOSByName is obsolete QoS: WSAEOPNOTSUPP.
func (Obsolete) WSPGetQOSByName(s wsa.Socket, name []byte) (*wsa.QOS, error) {
	return nil, wsa.WSAEOPNOTSUPP
}

// WSPStringToAddress is WSAStringToAddress through wsa.ParseSockaddrString.
// af FROM_PROTOCOL_INFO (or 0) takes the family of info.
func (Obsolete) WSPStringToAddress(addr string, af int32, info *wsa.ProtocolInfo) (wsa.Sockaddr, error) {
	return StringToAddress(addr, af, info)
}

// WSPAddressToString is WSAAddressToString through wsa.FormatSockaddr. A nil
// address is WSAEFAULT; one of a family the provider does not serve,
// WSAEINVAL.
func (Obsolete) WSPAddressToString(addr wsa.Sockaddr, info *wsa.ProtocolInfo) (string, error) {
	return AddressToString(addr)
}

package main

import (
	"fmt"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/wsa"
)

// EventSelectClient connects to addr, sends msg and reads the echo back, the
// way a WSAEventSelect client is written: a non-blocking socket, one event,
// WSAWaitForMultipleEvents and WSAEnumNetworkEvents in a loop.
func EventSelectClient(h *api.Session, addr wsa.Sockaddr, msg []byte) ([]byte, error) {
	s, err := h.Socket(wsa.AF_INET, wsa.SOCK_STREAM, wsa.IPPROTO_TCP)
	if err != nil {
		return nil, err
	}
	defer h.Closesocket(s)
	ev, err := h.WSACreateEvent()
	if err != nil {
		return nil, err
	}
	defer h.WSACloseEvent(ev)
	if err := h.WSAEventSelect(s, ev, wsa.FD_CONNECT|wsa.FD_READ|wsa.FD_WRITE|wsa.FD_CLOSE); err != nil {
		return nil, err
	}
	// The socket is non-blocking now: connect reports WSAEWOULDBLOCK and
	// FD_CONNECT says how it ended.
	if err := h.Connect(s, addr); err != nil && err != wsa.WSAEWOULDBLOCK {
		return nil, err
	}
	var got []byte
	unsent := msg
	buf := make([]byte, 4096)
	for {
		r, err := h.WSAWaitForMultipleEvents([]wsa.Handle{ev}, false, 10000, false)
		if err != nil {
			return got, err
		}
		if r == wsa.WSA_WAIT_TIMEOUT {
			return got, fmt.Errorf("no network event for 10 s")
		}
		ne, err := h.WSAEnumNetworkEvents(s, ev) // also resets ev
		if err != nil {
			return got, err
		}
		if ne.NetworkEvents&wsa.FD_CONNECT != 0 {
			if e := ne.ErrorCode[wsa.FD_CONNECT_BIT]; e != 0 {
				return nil, wsa.Errno(e)
			}
		}
		if ne.NetworkEvents&(wsa.FD_CONNECT|wsa.FD_WRITE) != 0 {
			for len(unsent) > 0 {
				n, err := h.Send(s, unsent, 0)
				if err == wsa.WSAEWOULDBLOCK {
					break // FD_WRITE will say when to go on
				} else if err != nil {
					return got, err
				}
				unsent = unsent[n:]
			}
		}
		if ne.NetworkEvents&wsa.FD_READ != 0 {
			n, err := h.Recv(s, buf, 0)
			if err != nil && err != wsa.WSAEWOULDBLOCK {
				return got, err
			}
			got = append(got, buf[:max(n, 0)]...)
			if len(got) == len(msg) {
				h.Shutdown(s, wsa.SD_SEND) // done: the server sees FIN and closes
			}
		}
		if ne.NetworkEvents&wsa.FD_CLOSE != 0 {
			if e := ne.ErrorCode[wsa.FD_CLOSE_BIT]; e != 0 {
				return got, wsa.Errno(e)
			}
			return got, nil
		}
	}
}

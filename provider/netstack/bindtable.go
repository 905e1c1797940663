package netstack

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/ports"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/ws2go/ws2/provider/internal/wsp"
)

// The Windows SO_REUSEADDR / SO_EXCLUSIVEADDRUSE bind table (spec §5.7)
// is wsp.BindTable, shared with the host provider; bindTable decides every
// bind before gVisor sees it, and gVisor's own reuse flags are set so that
// gVisor accepts whatever the table allowed (see socket.bindLocked), and
// load-balances only between sockets that both asked for SO_REUSEADDR on the
// same address.
//
// The table holds the ports of open sockets only. A closed socket's
// connection can live on in gVisor (TIME_WAIT, LAST_ACK, FIN_WAIT_2) and
// keep its port and 4-tuple there; an explicit bind to that port is still
// allowed, as on Windows, but an ephemeral port is never one gVisor still
// holds in a family the new socket's binding covers (portHeld): Windows
// hands out only ports no socket and no TCB holds, so that bind to port 0
// then connect does not fail while ports are free. (A TCB of the other
// family alone cannot clash with the socket's connections, and Winsock
// gives no way to see it hold the port, so it is not looked for.)
type (
	bindKey   = wsp.BindKey
	bindEntry = wsp.BindEntry
)

// bindTable is the provider's binding table for one stack.
type bindTable struct{ *wsp.BindTable }

func newBindTable() *bindTable { return &bindTable{wsp.NewBindTable()} }

// release removes e from port k.
func (t *bindTable) release(k bindKey, e *bindEntry) { t.Release(k, e) }

// portHeld reports whether any endpoint of gs (open, or closed and still
// finishing its connection) holds port of transport protocol proto, on any
// address, in IPv4 (v4) or IPv6 (v6): the families a socket bound as the
// bind table's entry says (BindEntry.V4, V6) reserves the port in. It
// tries a reservation that shares with nobody and takes it back at once;
// each family costs gVisor a few small maps while the port is free, so
// only the ones asked for are tried.
func portHeld(gs *gvstack.Stack, proto tcpip.TransportProtocolNumber, port uint16, v4, v6 bool) bool {
	nets := bothNets
	switch {
	case !v6:
		nets = bothNets[:1]
	case !v4:
		nets = bothNets[1:]
	}
	res := ports.Reservation{Networks: nets, Transport: proto, Port: port}
	if _, err := gs.ReservePort(gs.SecureRNG(), res, nil); err != nil {
		return true
	}
	gs.ReleasePort(res)
	return false
}

// bothNets is portHeld's network protocols, IPv4 first (read only).
var bothNets = []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber}

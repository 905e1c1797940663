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
// holds (portHeld): Windows hands out only ports no socket and no TCB
// holds, so that bind to port 0 then connect does not fail while ports are
// free.
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
// finishing its connection) holds port of transport protocol proto, in
// either family and on any address: like the bind table, which skips a
// port any socket of the protocol holds, it makes an ephemeral port free in
// both families. It tries a reservation that shares with nobody and takes
// it back at once.
func portHeld(gs *gvstack.Stack, proto tcpip.TransportProtocolNumber, port uint16) bool {
	res := ports.Reservation{Networks: bothNets, Transport: proto, Port: port}
	if _, err := gs.ReservePort(gs.SecureRNG(), res, nil); err != nil {
		return true
	}
	gs.ReleasePort(res)
	return false
}

// bothNets is portHeld's network protocols (read only).
var bothNets = []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber}

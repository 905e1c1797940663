package netstack

import "github.com/ws2go/ws2/provider/internal/wsp"

// The Windows SO_REUSEADDR / SO_EXCLUSIVEADDRUSE bind table (spec §5.7)
// is wsp.BindTable, shared with the host provider; bindTable decides every
// bind before gVisor sees it, and gVisor's own reuse flags are set so that
// gVisor accepts whatever the table allowed (see socket.bindLocked), and
// load-balances only between sockets that both asked for SO_REUSEADDR on the
// same address.
type (
	bindKey   = wsp.BindKey
	bindEntry = wsp.BindEntry
)

// bindTable is the provider's binding table for one stack.
type bindTable struct{ *wsp.BindTable }

func newBindTable() *bindTable { return &bindTable{wsp.NewBindTable()} }

// release removes e from port k.
func (t *bindTable) release(k bindKey, e *bindEntry) { t.Release(k, e) }

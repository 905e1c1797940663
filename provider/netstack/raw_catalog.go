package netstack

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/internal/wsp"
	"github.com/ws2go/ws2/wsa"
)

// rawMessageSize is the dwMessageSize of the RAW entries (Wine's 0x8000;
// spec §4.4).
const rawMessageSize = 0x8000

// rawProtocols returns the RAW entries, after the TCP and UDP ones in
// Protocols: "MSAFD Tcpip [RAW/IP]" under wsa.MSAFD_TCPIP_PROVIDER_ID and
// "MSAFD Tcpip [RAW/IPv6]" under wsa.MSAFD_TCPIP6_PROVIDER_ID, each
// SOCK_RAW with protocol 0 and ProtocolMaxOffset 255 (any IP protocol),
// the datagram service flags (0x20609), PFL_MATCHES_PROTOCOL_ZERO and a
// message size of 0x8000.
func rawProtocols() []wsa.ProtocolInfo {
	entry := func(id wsa.GUID, af int32, name string) wsa.ProtocolInfo {
		p := wsp.TCPIPEntry(id, af, wsa.SOCK_DGRAM, 0, name)
		p.SocketType = wsa.SOCK_RAW
		p.ProtocolMaxOffset = 255
		p.MessageSize = rawMessageSize
		return p
	}
	return []wsa.ProtocolInfo{
		entry(wsa.MSAFD_TCPIP_PROVIDER_ID, wsa.AF_INET, "MSAFD Tcpip [RAW/IP]"),
		entry(wsa.MSAFD_TCPIP6_PROVIDER_ID, wsa.AF_INET6, "MSAFD Tcpip [RAW/IPv6]"),
	}
}

// Install registers p.Startup under path in cat's registry and installs
// the entries of Protocols (see InstallProtocols). On failure nothing
// stays registered or installed.
func (p *Provider) Install(cat *provider.Catalog, path string) error {
	if cat == nil {
		return wsa.WSAEINVAL
	}
	if err := cat.Registry().Register(path, p.Startup); err != nil {
		return err
	}
	if err := InstallProtocols(cat, path); err != nil {
		cat.Registry().Unregister(path)
		return err
	}
	return nil
}

// InstallProtocols appends the entries of Protocols to cat, in that order,
// with provider path path (it registers nothing): on a fresh catalog 1001
// TCP/IP, 1002 UDP/IP, 1003 TCP/IPv6, 1004 UDP/IPv6, 1005 RAW/IP and 1006
// RAW/IPv6. The IPv4 entries carry wsa.MSAFD_TCPIP_PROVIDER_ID, the IPv6
// ones wsa.MSAFD_TCPIP6_PROVIDER_ID, as MSAFD's do.
//
// Windows installs RAW/IP third (1003, spec §4.4); ws2 appends the RAW
// entries so that the ids of the TCP and UDP entries stay those of earlier
// versions. WSCInstallProvider installs the entries of one provider id in
// one call, as consecutive ids, so this order cannot be made with it:
// InstallProtocols writes the catalog's content in one change (through
// its Store if it has one, so a persistent catalog gets all six entries or
// none). Without a Store it must not run concurrently with other changes
// to cat; it is meant for setting a catalog up. A path that is empty, or
// a catalog that already holds either provider id, is WSAEINVAL (as
// WSCInstallProvider).
func InstallProtocols(cat *provider.Catalog, path string) error {
	if cat == nil || path == "" {
		return wsa.WSAEINVAL
	}
	op := func(c *provider.Catalog) error {
		st := c.State()
		for _, e := range st.Entries {
			if id := e.Info.ProviderId; id == wsa.MSAFD_TCPIP_PROVIDER_ID || id == wsa.MSAFD_TCPIP6_PROVIDER_ID {
				return wsa.WSAEINVAL
			}
		}
		next := st.NextID
		for _, p := range Protocols() {
			p.CatalogEntryId = next
			p.ProtocolChain.ChainEntries = [wsa.MAX_PROTOCOL_CHAIN]uint32{next}
			st.Entries = append(st.Entries, provider.Entry{Info: p, Path: path})
			next++
		}
		st.NextID = next
		return c.SetState(st)
	}
	if s := cat.Store(); s != nil {
		return s.Commit(op)
	}
	return op(cat)
}

// rawPolicy decides who may open raw sockets: the process's privilege
// unless a test or program overrode it.
type rawPolicy struct {
	v atomic.Int32 // 0: the process's privilege; 1: allowed; 2: refused
}

// RawAllowed reports whether WSPSocket makes SOCK_RAW sockets; when it does
// not, they fail WSAEACCES, as they do on Windows for a caller outside the
// Administrators group. By default (New) raw sockets are allowed when the
// process has CAP_NET_RAW in its effective capability set (root normally
// has it; where /proc/self/status cannot be read, when the effective user
// id is 0): the privilege Linux asks of raw sockets stands for
// Administrator. The userspace stack itself needs no privilege for them;
// SetRawAllowed overrides the rule.
func (p *Provider) RawAllowed() bool {
	switch p.raw.v.Load() {
	case 1:
		return true
	case 2:
		return false
	}
	return processCanRaw()
}

// SetRawAllowed allows (or refuses) later SOCK_RAW sockets whatever the
// process's privilege. Sockets already open are not affected.
func (p *Provider) SetRawAllowed(allowed bool) {
	if allowed {
		p.raw.v.Store(1)
	} else {
		p.raw.v.Store(2)
	}
}

// capNetRaw is CAP_NET_RAW's bit in the Linux capability sets.
const capNetRaw = 13

// processCanRaw reports whether the process has CAP_NET_RAW (see
// Provider.RawAllowed), read once.
var processCanRaw = sync.OnceValue(func() bool {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		if eff, ok := parseCapEff(f); ok {
			return eff&(1<<capNetRaw) != 0
		}
	}
	return os.Geteuid() == 0
})

// parseCapEff reads the effective capability set from the text of
// /proc/<pid>/status (the hexadecimal "CapEff:" line).
func parseCapEff(r io.Reader) (uint64, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		eff, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		return eff, err == nil
	}
	return 0, false
}

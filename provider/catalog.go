package provider

import (
	"slices"
	"sync"
	"unicode/utf16"

	"github.com/ws2go/ws2/wsa"
)

// FirstCatalogEntryID is the first catalog id a catalog assigns, as
// Next_Catalog_Entry_ID starts in Windows.
const FirstCatalogEntryID = 1001

// Entry is one catalog item: the protocol information and the path of the
// provider that serves it (PackedCatalogItem).
type Entry struct {
	Info wsa.ProtocolInfo
	Path string
}

// Catalog is the transport protocol catalog: ordered entries, each with its
// catalog id, and the WSC* operations on them. Order is enumeration order and
// selection priority. A Catalog is safe for concurrent use; readers see a
// consistent snapshot. A Catalog bound to a [Store] (SetStore) sends every
// WSC* change through it, which persists it (package provider/catalogfile
// keeps a catalog in a file).
type Catalog struct {
	reg *Registry

	mu      sync.RWMutex
	entries []Entry
	nextID  uint32
	serial  uint64
	changed chan struct{} // closed and replaced on every change
	store   Store         // nil: changes stay in memory
}

// NewCatalog returns an empty catalog whose paths resolve through reg
// (DefaultRegistry if nil).
func NewCatalog(reg *Registry) *Catalog {
	if reg == nil {
		reg = DefaultRegistry
	}
	return &Catalog{reg: reg, nextID: FirstCatalogEntryID, changed: make(chan struct{})}
}

// Registry returns the registry the catalog resolves provider paths with.
func (c *Catalog) Registry() *Registry { return c.reg }

// Serial is bumped on every change (Serial_Access_Num).
func (c *Catalog) Serial() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.serial
}

// Changed returns a channel closed at the next change of the catalog: the
// mechanism behind WSAProviderConfigChange.
func (c *Catalog) Changed() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

// NextCatalogEntryID is the id the next installed entry will get.
func (c *Catalog) NextCatalogEntryID() uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.nextID
}

// bump records a change; c.mu must be held for writing.
func (c *Catalog) bump() {
	c.serial++
	close(c.changed)
	c.changed = make(chan struct{})
}

func validInfo(p *wsa.ProtocolInfo) error {
	if n := p.ProtocolChain.ChainLen; n < 0 || n > wsa.MAX_PROTOCOL_CHAIN {
		return wsa.WSAEINVAL
	}
	if len(utf16.Encode([]rune(p.ProtocolName))) > wsa.WSAPROTOCOL_LEN {
		return wsa.WSAEINVAL
	}
	if p.ProtocolMaxOffset < 0 {
		return wsa.WSAEINVAL
	}
	return nil
}

// WSCInstallProvider appends infos to the end of the catalog, all with
// provider id id and provider path path, and assigns each the next catalog
// id. A base entry (ChainLen 1) gets its own id as ChainEntries[0]. An empty
// list or path, a malformed entry, or an id already installed is WSAEINVAL.
func (c *Catalog) WSCInstallProvider(id wsa.GUID, path string, infos []wsa.ProtocolInfo) error {
	if st := c.Store(); st != nil {
		return st.Commit(func(t *Catalog) error { return t.WSCInstallProvider(id, path, infos) })
	}
	if path == "" || len(infos) == 0 {
		return wsa.WSAEINVAL
	}
	for i := range infos {
		if err := validInfo(&infos[i]); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.Info.ProviderId == id {
			return wsa.WSAEINVAL
		}
	}
	for _, p := range infos {
		p.ProviderId = id
		p.CatalogEntryId = c.nextID
		c.nextID++
		if p.ProtocolChain.ChainLen == wsa.BASE_PROTOCOL {
			p.ProtocolChain.ChainEntries = [wsa.MAX_PROTOCOL_CHAIN]uint32{p.CatalogEntryId}
		}
		c.entries = append(c.entries, Entry{Info: p, Path: path})
	}
	c.bump()
	return nil
}

// WSCDeinstallProvider removes every entry with provider id id. An id that is
// not installed is WSAEINVAL. Chains that referenced the removed entries are
// left in place, as in Windows; selecting one fails.
func (c *Catalog) WSCDeinstallProvider(id wsa.GUID) error {
	if st := c.Store(); st != nil {
		return st.Commit(func(t *Catalog) error { return t.WSCDeinstallProvider(id) })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.entries)
	c.entries = slices.DeleteFunc(c.entries, func(e Entry) bool { return e.Info.ProviderId == id })
	if len(c.entries) == n {
		return wsa.WSAEINVAL
	}
	c.bump()
	return nil
}

// WSCUpdateProvider replaces the entries of provider id in place: the i-th
// installed entry (in catalog order) takes infos[i] and path, keeping its
// catalog id and position. infos must have as many entries as are installed
// (else WSAEINVAL).
func (c *Catalog) WSCUpdateProvider(id wsa.GUID, path string, infos []wsa.ProtocolInfo) error {
	if st := c.Store(); st != nil {
		return st.Commit(func(t *Catalog) error { return t.WSCUpdateProvider(id, path, infos) })
	}
	if path == "" {
		return wsa.WSAEINVAL
	}
	for i := range infos {
		if err := validInfo(&infos[i]); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var idx []int
	for i, e := range c.entries {
		if e.Info.ProviderId == id {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 || len(idx) != len(infos) {
		return wsa.WSAEINVAL
	}
	for k, i := range idx {
		p := infos[k]
		p.ProviderId = id
		p.CatalogEntryId = c.entries[i].Info.CatalogEntryId
		if p.ProtocolChain.ChainLen == wsa.BASE_PROTOCOL {
			p.ProtocolChain.ChainEntries = [wsa.MAX_PROTOCOL_CHAIN]uint32{p.CatalogEntryId}
		}
		c.entries[i] = Entry{Info: p, Path: path}
	}
	c.bump()
	return nil
}

// matchesFilter applies the WSAEnumProtocols filter: a nil or empty filter
// matches everything; otherwise some protocol of it must be in the entry's
// range.
func matchesFilter(p *wsa.ProtocolInfo, filter []int32) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if p.MatchesProtocol(f) {
			return true
		}
	}
	return false
}

// WSCEnumProtocols returns the entries matching filter (nil for all) in
// catalog order, hidden and layered entries included. The caller owns the
// returned slice.
func (c *Catalog) WSCEnumProtocols(filter []int32) []wsa.ProtocolInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []wsa.ProtocolInfo
	for i := range c.entries {
		if matchesFilter(&c.entries[i].Info, filter) {
			out = append(out, c.entries[i].Info)
		}
	}
	return out
}

// WSAEnumProtocols returns what WSAEnumProtocols shows: WSCEnumProtocols
// without the PFL_HIDDEN entries.
func (c *Catalog) WSAEnumProtocols(filter []int32) []wsa.ProtocolInfo {
	all := c.WSCEnumProtocols(filter)
	return slices.DeleteFunc(all, func(p wsa.ProtocolInfo) bool { return p.ProviderFlags&wsa.PFL_HIDDEN != 0 })
}

// Entries returns a copy of every entry in catalog order.
func (c *Catalog) Entries() []Entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.entries)
}

// ByID returns the entry with catalog id id.
func (c *Catalog) ByID(id uint32) (Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, e := range c.entries {
		if e.Info.CatalogEntryId == id {
			return e, true
		}
	}
	return Entry{}, false
}

// WSCWriteProviderOrder reorders the catalog: ids must name every installed
// entry exactly once (else WSAEINVAL).
func (c *Catalog) WSCWriteProviderOrder(ids []uint32) error {
	if st := c.Store(); st != nil {
		return st.Commit(func(t *Catalog) error { return t.WSCWriteProviderOrder(ids) })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(ids) != len(c.entries) {
		return wsa.WSAEINVAL
	}
	pos := make(map[uint32]int, len(c.entries))
	for i, e := range c.entries {
		pos[e.Info.CatalogEntryId] = i
	}
	out := make([]Entry, 0, len(ids))
	for _, id := range ids {
		i, ok := pos[id]
		if !ok {
			return wsa.WSAEINVAL // unknown or repeated
		}
		delete(pos, id)
		out = append(out, c.entries[i])
	}
	c.entries = out
	c.bump()
	return nil
}

// WSCGetProviderPath returns the path of the transport provider with provider
// id id; WSAEINVAL if none is installed.
func (c *Catalog) WSCGetProviderPath(id wsa.GUID) (string, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, e := range c.entries {
		if e.Info.ProviderId == id {
			return e.Path, nil
		}
	}
	return "", wsa.WSAEINVAL
}

// Select picks the catalog entry for WSASocket(af, typ, protocol, info, g)
// as spec §3.9 says. With info, the socket is bound to info's catalog entry
// (WSAEINVAL if it is not installed or is a layer), and FROM_PROTOCOL_INFO in
// af, typ or protocol takes the entry's value. Without info, the first base
// or chain entry in catalog order that supports the triple wins; protocol 0
// matches only entries with PFL_MATCHES_PROTOCOL_ZERO. When none matches the
// error is the most specific mismatch: WSAEAFNOSUPPORT (no entry of the
// family), WSAESOCKTNOSUPPORT (the family but not the type),
// WSAEPROTONOSUPPORT (family and type but not the protocol). AF_UNSPEC
// without a protocol, FROM_PROTOCOL_INFO without info, and a non-zero group
// are WSAEINVAL. It returns the entry and the resolved triple.
func (c *Catalog) Select(af, typ, protocol int32, info *wsa.ProtocolInfo, g uint32) (e Entry, raf, rtyp, rproto int32, err error) {
	if g != 0 {
		return Entry{}, 0, 0, 0, wsa.WSAEINVAL
	}
	if info != nil {
		e, ok := c.ByID(info.CatalogEntryId)
		if !ok || e.Info.IsLayered() {
			return Entry{}, 0, 0, 0, wsa.WSAEINVAL
		}
		if af == wsa.FROM_PROTOCOL_INFO {
			af = info.AddressFamily
		}
		if typ == wsa.FROM_PROTOCOL_INFO {
			typ = info.SocketType
		}
		if protocol == wsa.FROM_PROTOCOL_INFO {
			protocol = info.Protocol
		}
		return e, af, typ, protocol, nil
	}
	if af == wsa.FROM_PROTOCOL_INFO || typ == wsa.FROM_PROTOCOL_INFO || protocol == wsa.FROM_PROTOCOL_INFO {
		return Entry{}, 0, 0, 0, wsa.WSAEINVAL
	}
	if af == wsa.AF_UNSPEC && protocol == 0 {
		return Entry{}, 0, 0, 0, wsa.WSAEINVAL
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	best := wsa.WSAEAFNOSUPPORT
	for _, e := range c.entries {
		p := &e.Info
		if p.IsLayered() {
			continue
		}
		if af != wsa.AF_UNSPEC && p.AddressFamily != af {
			continue
		}
		if typ != 0 && p.SocketType != typ {
			if best == wsa.WSAEAFNOSUPPORT {
				best = wsa.WSAESOCKTNOSUPPORT
			}
			continue
		}
		if protocol == 0 {
			if p.ProviderFlags&wsa.PFL_MATCHES_PROTOCOL_ZERO == 0 {
				best = wsa.WSAEPROTONOSUPPORT
				continue
			}
		} else if !p.MatchesProtocol(protocol) {
			best = wsa.WSAEPROTONOSUPPORT
			continue
		}
		return e, af, typ, protocol, nil
	}
	return Entry{}, 0, 0, 0, best
}

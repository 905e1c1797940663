package provider

import (
	"slices"

	"github.com/ws2go/ws2/wsa"
)

// State is the whole content of a catalog: its entries in catalog order
// (each with its provider path) and Next_Catalog_Entry_ID. It is what a
// Store persists and what a loader restores; package provider/catalogfile
// keeps it in a file.
type State struct {
	Entries []Entry
	NextID  uint32 // Next_Catalog_Entry_ID
}

// State returns a copy of the catalog's content, read in one step.
func (c *Catalog) State() State {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return State{Entries: slices.Clone(c.entries), NextID: c.nextID}
}

// CheckState reports whether s can be a catalog's content: every entry well
// formed (as WSCInstallProvider checks), with a provider path, a catalog id
// other than 0 that no other entry has and that is below s.NextID. Chains
// may name ids that are not installed (as after a WSCDeinstallProvider).
// The error is WSAEINVAL.
func CheckState(s State) error {
	seen := make(map[uint32]bool, len(s.Entries))
	for i := range s.Entries {
		e := &s.Entries[i]
		if err := validInfo(&e.Info); err != nil {
			return err
		}
		id := e.Info.CatalogEntryId
		if e.Path == "" || id == 0 || id >= s.NextID || seen[id] {
			return wsa.WSAEINVAL
		}
		seen[id] = true
	}
	return nil
}

// SetState replaces the catalog's content with s (after CheckState) and
// counts as one change: Serial is bumped and Changed fires, so
// WSAProviderConfigChange reports it. It does not go through the catalog's
// Store: it is how a Store publishes what it committed and how a loader
// fills a catalog.
func (c *Catalog) SetState(s State) error {
	if err := CheckState(s); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = slices.Clone(s.Entries)
	c.nextID = s.NextID
	c.bump()
	return nil
}

// Store makes a catalog persistent: once a Catalog has one (SetStore),
// every change made through its WSC* methods (WSCInstallProvider,
// WSCDeinstallProvider, WSCUpdateProvider, WSCWriteProviderOrder) is handed
// to Commit instead of being applied in memory.
//
// Commit must apply op to a fresh Catalog without a Store holding the
// persisted content (so that changes made elsewhere are not lost), persist
// the result if op succeeds, and publish it to the bound catalog with
// SetState. op's error (a wsa.Errno) is returned unchanged and nothing is
// persisted then. Commit may run op more than once (on a retry); op must not
// have other effects.
type Store interface {
	Commit(op func(*Catalog) error) error
}

// SetStore binds the catalog to s (nil unbinds it: changes stay in memory
// again). The catalog's content is not changed; a Store loads it with
// SetState.
func (c *Catalog) SetStore(s Store) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.store = s
}

// Store returns the catalog's Store, or nil.
func (c *Catalog) Store() Store {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.store
}

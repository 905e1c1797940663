package provider

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ws2go/ws2/wsa"
)

// recordingStore applies each op to a copy of what it "persisted" and
// publishes it, counting the commits.
type recordingStore struct {
	live    *Catalog
	saved   State
	commits int
}

func (s *recordingStore) Commit(op func(*Catalog) error) error {
	s.commits++
	t := NewCatalog(s.live.Registry())
	if err := t.SetState(s.saved); err != nil {
		return err
	}
	if t.Store() != nil {
		return errors.New("scratch catalog has a store")
	}
	if err := op(t); err != nil {
		return err
	}
	s.saved = t.State()
	return s.live.SetState(s.saved)
}

func TestStoreReceivesEveryChange(t *testing.T) {
	c := msafd(t)
	st := &recordingStore{live: c, saved: c.State()}
	c.SetStore(st)
	if c.Store() != st {
		t.Fatal("Store() does not return the store")
	}
	layer := base("layer", wsa.AF_INET, wsa.SOCK_STREAM, 6, wsa.PFL_HIDDEN)
	layer.ProtocolChain.ChainLen = 0
	changes := []func() error{
		func() error { return c.WSCInstallProvider(guidL, "lsp", []wsa.ProtocolInfo{layer}) },
		func() error { return c.WSCWriteProviderOrder([]uint32{1006, 1005, 1004, 1003, 1002, 1001}) },
		func() error {
			return c.WSCUpdateProvider(guidB, "b2", []wsa.ProtocolInfo{base("x", 23, 1, 6, 0), base("y", 23, 2, 17, 0)})
		},
		func() error { return c.WSCDeinstallProvider(guidL) },
	}
	for i, change := range changes {
		ch := c.Changed()
		if err := change(); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
		<-ch
		if st.commits != i+1 || !reflect.DeepEqual(c.State(), st.saved) {
			t.Fatalf("change %d: %d commits; catalog and store differ", i, st.commits)
		}
	}
	// A refused change commits nothing new and its error passes through.
	if err := c.WSCDeinstallProvider(guidL); err != wsa.WSAEINVAL {
		t.Errorf("refused change: %v", err)
	}
	c.SetStore(nil)
	if err := c.WSCDeinstallProvider(guidB); err != nil || st.commits != 5 {
		t.Errorf("unbound change: %v, %d commits", err, st.commits)
	}
}

func TestSetStateChecks(t *testing.T) {
	c := msafd(t)
	good := c.State()
	if good.NextID != 1006 || len(good.Entries) != 5 {
		t.Fatalf("State() = %+v", good)
	}
	bad := []func(*State){
		func(s *State) { s.Entries[1].Info.CatalogEntryId = s.Entries[0].Info.CatalogEntryId },
		func(s *State) { s.Entries[0].Info.CatalogEntryId = 0 },
		func(s *State) { s.NextID = 1005 },
		func(s *State) { s.Entries[0].Path = "" },
		func(s *State) { s.Entries[0].Info.ProtocolChain.ChainLen = -1 },
		func(s *State) { s.Entries[0].Info.ProtocolMaxOffset = -1 },
	}
	for i, mut := range bad {
		s := c.State()
		mut(&s)
		serial := c.Serial()
		if err := c.SetState(s); err != wsa.WSAEINVAL {
			t.Errorf("case %d: SetState = %v, want WSAEINVAL", i, err)
		}
		if c.Serial() != serial {
			t.Errorf("case %d: a refused SetState changed the catalog", i)
		}
	}
	// The state is copied in and out.
	s := c.State()
	s.Entries[0].Info.ProtocolName = "changed"
	if e, _ := c.ByID(1001); e.Info.ProtocolName == "changed" {
		t.Error("State() shares its entries")
	}
	ch := c.Changed()
	empty := State{NextID: 5000}
	if err := c.SetState(empty); err != nil {
		t.Fatal(err)
	}
	<-ch
	if len(c.Entries()) != 0 || c.NextCatalogEntryID() != 5000 {
		t.Errorf("after SetState: %d entries, next %d", len(c.Entries()), c.NextCatalogEntryID())
	}
}

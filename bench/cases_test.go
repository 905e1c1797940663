package bench

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestCasesShape: names are unique; every TUN-family case is marked TUN and
// has a direction; every tun-* case has a veth case with the same workload
// and params (its baseline row), and the other way round.
func TestCasesShape(t *testing.T) {
	for _, mode := range []string{"quick", "full"} {
		t.Run(mode, func(t *testing.T) {
			old := Mode
			Mode = mode
			defer func() { Mode = old }()
			cs := Cases()
			names := map[string]bool{}
			key := func(c Case) string { return c.Workload + "/" + c.Sub()[len("path="+c.Path):] }
			byPath := map[string]map[string]bool{}
			for _, c := range cs {
				if names[c.Name()] {
					t.Errorf("duplicate %s", c.Name())
				}
				names[c.Name()] = true
				tunPath := slices.Contains([]string{PathTUNWater, PathTUNOffload, PathVeth}, c.Path)
				if c.TUN != tunPath {
					t.Errorf("%s: TUN=%v", c.Name(), c.TUN)
				}
				if !c.TUN {
					continue
				}
				if len(c.Params) == 0 || c.Params[0].Name != "dir" || (c.Params[0].Value != DirK2W && c.Params[0].Value != DirW2K) {
					t.Errorf("%s: no direction first", c.Name())
				}
				if byPath[c.Path] == nil {
					byPath[c.Path] = map[string]bool{}
				}
				byPath[c.Path][key(c)] = true
			}
			if len(byPath[PathVeth]) == 0 || len(byPath[PathTUNWater]) == 0 {
				t.Fatalf("no veth or tun-water cases: %v", byPath)
			}
			for _, p := range TUNPaths() {
				if !maps.Equal(byPath[p], byPath[PathVeth]) {
					t.Errorf("%s cases differ from veth's:\n%v\n%v", p, byPath[p], byPath[PathVeth])
				}
			}
			wantMTUs := 1
			if mode == "full" {
				wantMTUs = 2
			}
			bulk := 0
			for k := range byPath[PathVeth] {
				if strings.HasPrefix(k, "TCPBulk/") {
					bulk++
				}
			}
			if want := 2 * 2 * wantMTUs; bulk != want { // directions × streams × MTUs
				t.Errorf("%d veth bulk cases, want %d", bulk, want)
			}
		})
	}
}

package ws2

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules checks the layering of DESIGN.md with go list -deps: each
// package may depend only on the layers below it, and gVisor types never
// reach the api.
func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found")
	}
	const mod = "github.com/ws2go/ws2"
	const gvisor = "gvisor.dev/gvisor"
	rules := []struct {
		pkg       string
		forbidden []string // import path prefixes
		allowOnly []string // if set, every non-std dependency must have one of these prefixes
	}{
		{pkg: "wsa", allowOnly: []string{mod + "/wsa"}},
		{pkg: "provider", allowOnly: []string{mod + "/wsa", mod + "/provider"},
			forbidden: []string{mod + "/provider/"}},
		// The catalog file layer: provider, wsa, x/sys (flock, inotify).
		{pkg: "provider/catalogfile", allowOnly: []string{mod + "/wsa", mod + "/provider", "golang.org/x/sys"},
			forbidden: []string{mod + "/provider/netstack", mod + "/api", gvisor}},
		// Layered providers: provider, wsa, std and x/time only; never a
		// concrete provider, the api, the stack or gVisor.
		{pkg: "provider/lsp", allowOnly: []string{mod + "/wsa", mod + "/provider", "golang.org/x/time"},
			forbidden: []string{mod + "/provider/netstack", mod + "/provider/host", mod + "/api", mod + "/stack", gvisor}},
		{pkg: "provider/lsp/trace", allowOnly: []string{mod + "/wsa", mod + "/provider", "golang.org/x/time"},
			forbidden: []string{mod + "/provider/netstack", mod + "/provider/host", mod + "/api", mod + "/stack", gvisor}},
		{pkg: "provider/lsp/filter", allowOnly: []string{mod + "/wsa", mod + "/provider", "golang.org/x/time"},
			forbidden: []string{mod + "/provider/netstack", mod + "/provider/host", mod + "/api", mod + "/stack", gvisor}},
		{pkg: "provider/lsp/shaper", allowOnly: []string{mod + "/wsa", mod + "/provider", "golang.org/x/time"},
			forbidden: []string{mod + "/provider/netstack", mod + "/provider/host", mod + "/api", mod + "/stack", gvisor}},
		{pkg: "provider/providertest", allowOnly: []string{mod + "/wsa", mod + "/provider"},
			forbidden: []string{mod + "/provider/netstack", mod + "/api"}},
		{pkg: "internal/winobj", allowOnly: []string{mod + "/wsa", mod + "/internal/winobj"}},
		{pkg: "api", allowOnly: []string{mod + "/wsa", mod + "/provider", mod + "/api", mod + "/internal/winobj"},
			forbidden: []string{mod + "/provider/", gvisor, mod + "/stack", mod + "/tun"}},
		{pkg: "provider/netstack", forbidden: []string{mod + "/api", mod + "/provider/host"}},
		// Shared base-provider machinery: provider, wsa, std only.
		{pkg: "provider/internal/wsp", allowOnly: []string{mod + "/wsa", mod + "/provider"},
			forbidden: []string{mod + "/provider/netstack", mod + "/provider/host", mod + "/api", gvisor}},
		// The host kernel provider: provider, wsa, x/sys; never gVisor or the stack.
		{pkg: "provider/host", allowOnly: []string{mod + "/wsa", mod + "/provider", "golang.org/x/sys"},
			forbidden: []string{mod + "/provider/netstack", mod + "/api", mod + "/stack", gvisor}},
		// wsnet is a Winsock application: api, wsa, provider (and what api
		// itself uses), never a concrete provider, the stack or gVisor.
		{pkg: "wsnet", allowOnly: []string{mod + "/wsa", mod + "/provider", mod + "/api", mod + "/internal/winobj", mod + "/wsnet"},
			forbidden: []string{mod + "/provider/", gvisor, mod + "/stack", mod + "/tun"}},
		{pkg: "stack", forbidden: []string{mod + "/wsa", mod + "/provider", mod + "/api"}},
		{pkg: "tun", forbidden: []string{mod + "/stack", mod + "/provider", mod + "/api", mod + "/wsa"}},
		{pkg: "cmd/ws2d", forbidden: []string{mod + "/bench", mod + "/integration"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./"+r.pkg).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") || strings.Contains(string(out), "no Go files") || strings.Contains(string(out), "directory not found") {
				t.Logf("%s: not present yet", r.pkg)
				continue
			}
			t.Fatalf("go list %s: %v\n%s", r.pkg, err, out)
		}
		self := mod + "/" + r.pkg
		for _, dep := range strings.Fields(string(out)) {
			if dep == self {
				continue
			}
			for _, f := range r.forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s imports %s (forbidden: %s)", r.pkg, dep, f)
				}
			}
			if r.allowOnly != nil {
				ok := false
				for _, a := range r.allowOnly {
					if strings.HasPrefix(dep, a) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports %s (allowed: %v)", r.pkg, dep, r.allowOnly)
				}
			}
		}
	}
}

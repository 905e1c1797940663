package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ws2go/ws2/internal/testutil"
	"github.com/ws2go/ws2/provider/catalogfile"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/wsa"
)

// cat runs `ws2d catalog args...` in process (through run, as main does).
func cat(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(append([]string{"catalog"}, args...), &o, &e, nil)
	return code, o.String(), e.String()
}

// mustCat runs a command that must succeed.
func mustCat(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := cat(t, args...)
	if code != 0 {
		t.Fatalf("ws2d catalog %q: exit %d\n%s", args, code, errs)
	}
	return out
}

func catalogIDs(t *testing.T, path string) []uint32 {
	t.Helper()
	s, err := catalogfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint32
	for _, e := range s.Entries {
		ids = append(ids, e.Info.CatalogEntryId)
	}
	return ids
}

// showEntries splits `show` output into its entries.
func showEntries(out string) []string {
	parts := strings.Split(out, "\nWinsock Catalog Provider Entry\n")
	return parts[1:]
}

func TestCatalogResetAndShow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "catalog.json")
	// show does not create the file.
	code, _, errs := cat(t, "--file", path, "show")
	if code != 1 || !strings.Contains(errs, "no such file") || !strings.Contains(errs, "creates the file") {
		t.Fatalf("show of a missing file: exit %d: %s", code, errs)
	}
	out := mustCat(t, "--file", path, "reset")
	if !strings.Contains(out, "default catalog restored: 6 entries") {
		t.Errorf("reset said %q", out)
	}
	if got := catalogIDs(t, path); !slices.Equal(got, []uint32{1001, 1002, 1003, 1004, 1005, 1006}) {
		t.Fatalf("ids after reset: %v", got)
	}
	// The default catalog is what ws2d installs without a file.
	s, _ := catalogfile.Read(path)
	for i, p := range netstack.Protocols() {
		e := s.Entries[i]
		if e.Path != netstack.DefaultPath || e.Info.ProtocolName != p.ProtocolName || e.Info.ProviderId != p.ProviderId || e.Info.ServiceFlags1 != p.ServiceFlags1 {
			t.Errorf("default entry %d: %+v", i, e)
		}
	}

	out = mustCat(t, "show", "--file", path) // --file after the command too
	entries := showEntries(out)
	if len(entries) != 6 {
		t.Fatalf("show printed %d entries:\n%s", len(entries), out)
	}
	for _, want := range []string{
		"------------------------------------------------------\n",
		"Entry Number:                       1\n",
		"Entry Type:                         Base Service Provider\n",
		"Description:                        MSAFD Tcpip [TCP/IP]\n",
		"Provider ID:                        {E70F1AA0-AB8B-11CF-8CA3-00805F48A192}\n",
		"Provider Path:                      ws2/netstack\n",
		"Catalog Entry ID:                   1001\n",
		"Version:                            2\n",
		"Address Family:                     2\n",
		"Max Address Length:                 16\n",
		"Min Address Length:                 16\n",
		"Socket Type:                        1\n",
		"Protocol:                           6\n",
		"Service Flags:                      0x20066 (XP1_GUARANTEED_DELIVERY | XP1_GUARANTEED_ORDER | XP1_GRACEFUL_CLOSE | XP1_EXPEDITED_DATA | XP1_IFS_HANDLES)\n",
		"Provider Flags:                     0x8 (PFL_MATCHES_PROTOCOL_ZERO)\n",
		"Protocol Chain Length:              1\n",
	} {
		if !strings.Contains(entries[0], want) {
			t.Errorf("first entry lacks %q:\n%s", want, entries[0])
		}
	}
	if !strings.Contains(entries[1], "Service Flags:                      0x20609 (XP1_CONNECTIONLESS | XP1_MESSAGE_ORIENTED | XP1_SUPPORT_BROADCAST | XP1_SUPPORT_MULTIPOINT | XP1_IFS_HANDLES)\n") {
		t.Errorf("UDP entry flags:\n%s", entries[1])
	}
	if !strings.Contains(out, "6 entries, Serial_Access_Num 2, Next_Catalog_Entry_ID 1007") {
		t.Errorf("show header:\n%s", out)
	}

	// $WS2_CATALOG names the file when --file does not.
	t.Setenv(catalogEnv, path)
	if out := mustCat(t, "show"); !strings.Contains(out, path) {
		t.Errorf("show with $%s did not use it", catalogEnv)
	}
}

func TestCatalogInstallOrderRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.json")
	t.Setenv(catalogEnv, path)
	// install creates the file with the defaults first.
	out := mustCat(t, "install", "--layer", "trace", "--path", "ws2/lsp/trace", "--over", "1001,1003")
	if !strings.Contains(out, `installed layer "trace"`) || !strings.Contains(out, "catalog entry 1007") {
		t.Errorf("install said:\n%s", out)
	}
	if got := catalogIDs(t, path); !slices.Equal(got, []uint32{1008, 1009, 1001, 1002, 1003, 1004, 1005, 1006, 1007}) {
		t.Fatalf("order after install: %v (want the chains first)", got)
	}
	traceGUID := derivedGUID("layer:trace")
	chainGUID := derivedGUID("chains:" + traceGUID.String())
	s, _ := catalogfile.Read(path)
	layer, chain := s.Entries[8].Info, s.Entries[0].Info
	if layer.ProtocolChain.ChainLen != 0 || layer.ProviderFlags&wsa.PFL_HIDDEN == 0 || layer.ProviderId != traceGUID || s.Entries[8].Path != "ws2/lsp/trace" {
		t.Errorf("layer entry: %+v", s.Entries[8])
	}
	if chain.ProtocolChain.ChainLen != 2 || chain.ProtocolChain.ChainEntries[0] != 1007 || chain.ProtocolChain.ChainEntries[1] != 1001 ||
		chain.ProviderId != chainGUID || chain.ServiceFlags1&wsa.XP1_IFS_HANDLES == 0 || !strings.Contains(chain.ProtocolName, "trace over") {
		t.Errorf("chain entry: %+v", chain)
	}

	// A second layer over a chain: a chain of three.
	g := "{0D2A4E3C-61F7-4B6A-9C1E-2B7F5A8D9E01}"
	mustCat(t, "install", "--layer", "shaper", "--path", "ws2/lsp/shaper", "--over", "1008", "--guid", g)
	entries := showEntries(mustCat(t, "show"))
	if len(entries) != 11 {
		t.Fatalf("%d entries after two installs", len(entries))
	}
	for _, want := range []string{
		"Entry Type:                         Layered Chain Entry\n",
		"Provider ID:                        {",
		"Provider Path:                      ws2/lsp/shaper\n",
		"Protocol Chain Length:              3\n",
		"Protocol Chain:                     1010 : 1007 : 1001\n",
		"1010  layer: shaper\n",
		"1007  layer: trace\n",
		"1001  base: MSAFD Tcpip [TCP/IP]\n",
	} {
		if !strings.Contains(entries[0], want) {
			t.Errorf("the first entry lacks %q:\n%s", want, entries[0])
		}
	}
	var layerShow string
	for _, e := range entries {
		if strings.Contains(e, "Description:                        shaper\n") {
			layerShow = e
		}
	}
	for _, want := range []string{"Entry Type:                         Layered Service Provider\n", "Protocol Chain Length:              0\n", "PFL_HIDDEN"} {
		if !strings.Contains(layerShow, want) {
			t.Errorf("the shaper layer entry lacks %q:\n%s", want, layerShow)
		}
	}

	// order
	ids := catalogIDs(t, path)
	slices.Reverse(ids)
	var idArg []string
	for _, id := range ids {
		idArg = append(idArg, itoa(id))
	}
	mustCat(t, "order", strings.Join(idArg, ","))
	if got := catalogIDs(t, path); !slices.Equal(got, ids) {
		t.Errorf("order: %v, want %v", got, ids)
	}

	// remove the trace layer: its layer entry and the chains it tops; the
	// shaper chain over a trace chain is reported as dangling.
	code, out, errs := cat(t, "remove", "--layer", "trace")
	if code != 0 {
		t.Fatalf("remove: exit %d: %s", code, errs)
	}
	for _, id := range []string{"1007", "1008", "1009"} {
		if !strings.Contains(out, "removed catalog entry "+id) {
			t.Errorf("remove did not report %s:\n%s", id, out)
		}
	}
	if !strings.Contains(errs, "warning: chain entry 1011") {
		t.Errorf("remove did not warn about the dangling shaper chain:\n%s", errs)
	}
	if got := len(catalogIDs(t, path)); got != 8 {
		t.Errorf("%d entries after remove, want 8", got)
	}
	mustCat(t, "remove", "--guid", g)
	if got := catalogIDs(t, path); len(got) != 6 {
		t.Errorf("entries after removing shaper: %v", got)
	}
	s, _ = catalogfile.Read(path)
	if s.NextID != 1012 {
		t.Errorf("next id %d, want 1012 (ids are not reused)", s.NextID)
	}
	// reset brings the ids back to 1001.
	mustCat(t, "reset")
	if got := catalogIDs(t, path); !slices.Equal(got, []uint32{1001, 1002, 1003, 1004, 1005, 1006}) {
		t.Errorf("after reset: %v", got)
	}
}

func itoa(id uint32) string { return (*idList)(&[]uint32{id}).String() }

// TestCatalogErrors: failures exit 1 with a message naming the problem and
// leave the file alone; bad command lines exit 2 with the usage.
func TestCatalogErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog.json")
	t.Setenv(catalogEnv, path)
	mustCat(t, "reset")
	mustCat(t, "install", "--layer", "trace", "--path", "p", "--over", "1001")
	good, _ := os.ReadFile(path)

	fails := []struct {
		args []string
		want string
	}{
		{[]string{"install", "--layer", "x", "--path", "p", "--over", "4242"}, "there is no catalog entry 4242"},
		{[]string{"install", "--layer", "x", "--path", "p", "--over", "1007"}, "is a layer entry"},
		{[]string{"install", "--layer", "x", "--path", "p", "--over", "1001,1001"}, "twice"},
		{[]string{"install", "--layer", "trace", "--path", "p", "--over", "1002"}, "is already installed"},
		{[]string{"remove", "--guid", "{11111111-2222-3333-4444-555555555555}"}, "there is no provider {11111111-2222-3333-4444-555555555555}"},
		{[]string{"remove", "--layer", "nope"}, `there is no layer entry named "nope"`},
		{[]string{"order", "1001,1002"}, "missing: 1008,1003,1004,1005,1006,1007"},
		{[]string{"order", "1001,1002,1003,1004,1005,1006,1007,1008,9999"}, "there is no catalog entry 9999"},
		{[]string{"order", "1001,1001,1002,1003,1004,1005,1006,1007"}, "catalog id 1001 is given twice"},
	}
	for _, tt := range fails {
		code, out, errs := cat(t, tt.args...)
		if code != 1 || !strings.Contains(errs, tt.want) || out != "" {
			t.Errorf("ws2d catalog %q: exit %d, stdout %q, stderr %q; want 1 and %q", tt.args, code, out, errs, tt.want)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
			t.Fatalf("ws2d catalog %q changed the file", tt.args)
		}
	}

	// A chain of MAX_PROTOCOL_CHAIN entries cannot take one more layer.
	over := "1008"
	for i := range wsa.MAX_PROTOCOL_CHAIN - 2 {
		out := mustCat(t, "install", "--layer", "l"+itoa(uint32(i)), "--path", "p", "--over", over)
		f := strings.Fields(out[strings.Index(out, "chain ")+len("chain "):])[0]
		over = strings.TrimSuffix(f, ":")
	}
	if code, _, errs := cat(t, "install", "--layer", "top", "--path", "p", "--over", over); code != 1 || !strings.Contains(errs, "MAX_PROTOCOL_CHAIN") {
		t.Errorf("an eighth layer: exit %d: %s", code, errs)
	}

	usage := []struct {
		args []string
		want string
	}{
		{nil, "a command is required"},
		{[]string{"frob"}, `unknown command "frob"`},
		{[]string{"--bogus", "show"}, "flag provided but not defined: -bogus"},
		{[]string{"show", "extra"}, `unexpected argument "extra"`},
		{[]string{"install", "--path", "p", "--over", "1001"}, "--layer NAME is required"},
		{[]string{"install", "--layer", "x", "--over", "1001"}, "--path PATH is required"},
		{[]string{"install", "--layer", "x", "--path", "p"}, "--over ID[,ID...] is required"},
		{[]string{"install", "--layer", "x", "--path", "p", "--over", "10a1"}, `"10a1" is not a catalog id`},
		{[]string{"install", "--layer", "x", "--path", "p", "--over", "1001", "--guid", "nope"}, `"nope" is not a GUID`},
		{[]string{"install", "--layer", "x", "--path", "p", "--over", "1001", "--guid", "{11111111-2222-3333-4444-555555555555}", "--chain-guid", "{11111111-2222-3333-4444-555555555555}"}, "must differ"},
		{[]string{"remove"}, "either --guid G or --layer NAME"},
		{[]string{"remove", "--guid", "{11111111-2222-3333-4444-555555555555}", "--layer", "x"}, "either --guid G or --layer NAME"},
		{[]string{"order"}, "the catalog ids are required"},
		{[]string{"order", "1001,x"}, `"x" is not a catalog id`},
		{[]string{"reset", "--force=maybe"}, "invalid boolean value"},
	}
	for _, tt := range usage {
		code, out, errs := cat(t, tt.args...)
		if code != 2 || !strings.Contains(errs, tt.want) || !strings.Contains(errs, "Usage: ws2d catalog") || out != "" {
			t.Errorf("ws2d catalog %q: exit %d, stdout %q, stderr %q; want 2, %q and the usage", tt.args, code, out, errs, tt.want)
		}
	}
	for _, h := range [][]string{{"--help"}, {"-h"}, {"install", "--help"}} {
		code, out, errs := cat(t, h...)
		if code != 0 || out != catalogUsage || errs != "" {
			t.Errorf("ws2d catalog %q: exit %d, stderr %q", h, code, errs)
		}
	}
}

// TestCatalogCorruptFile: every command refuses a corrupt file, exit 1,
// and leaves it alone; reset --force moves it aside and restores the
// defaults.
func TestCatalogCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.json")
	t.Setenv(catalogEnv, path)
	mustCat(t, "reset")
	b, _ := os.ReadFile(path)
	b[len(b)/3] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"show"}, {"reset"}, {"order", "1001,1002,1003,1004,1005,1006"}, {"remove", "--layer", "x"},
		{"install", "--layer", "x", "--path", "p", "--over", "1001"},
	} {
		code, _, errs := cat(t, args...)
		if code != 1 || !strings.Contains(errs, "corrupt") || !strings.Contains(errs, "was not changed") || !strings.Contains(errs, "reset --force") {
			t.Errorf("%q on a corrupt file: exit %d: %s", args, code, errs)
		}
		if now, _ := os.ReadFile(path); !bytes.Equal(now, b) {
			t.Fatalf("%q changed the corrupt file", args)
		}
	}
	code, out, errs := cat(t, "reset", "--force")
	if code != 0 || !strings.Contains(errs, "moved the refused file") || !strings.Contains(out, "default catalog restored") {
		t.Fatalf("reset --force: exit %d: %s %s", code, out, errs)
	}
	moved, _ := filepath.Glob(path + ".bad-*")
	if len(moved) != 1 {
		t.Fatalf("quarantined files: %v", moved)
	}
	if kept, _ := os.ReadFile(moved[0]); !bytes.Equal(kept, b) {
		t.Error("the quarantined bytes changed")
	}
	if got := catalogIDs(t, path); len(got) != 6 {
		t.Errorf("after reset --force: %v", got)
	}
	// reset --force on a file that is fine, or missing, is a plain reset.
	mustCat(t, "reset", "--force")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if out := mustCat(t, "reset", "--force"); !strings.Contains(out, "default catalog restored") {
		t.Errorf("reset --force of a missing file: %s", out)
	}
	if moved, _ := filepath.Glob(path + ".bad-*"); len(moved) != 1 {
		t.Errorf("quarantined files: %v", moved)
	}
}

// TestCatalogUsageListsEveryFlag keeps catalogUsage in step with the flags.
func TestCatalogUsageListsEveryFlag(t *testing.T) {
	for _, cmd := range []string{"show", "install", "remove", "order", "reset"} {
		if code, _, _ := cat(t, cmd, "--help"); code != 0 {
			t.Errorf("%s --help: exit %d", cmd, code)
		}
	}
	for _, f := range []string{"--file PATH", "--layer NAME", "--path PATH", "--over ID[,ID...]", "--guid G", "--chain-guid G", "--force", "--help"} {
		if !strings.Contains(catalogUsage, f) {
			t.Errorf("catalog usage does not mention %s", f)
		}
	}
	if !strings.Contains(usageText, "ws2d catalog") || !strings.Contains(usageText, "--catalog PATH") {
		t.Error("ws2d's usage does not mention the catalog command and --catalog")
	}
	fs := newFlagSet(&flagVars{}, io.Discard)
	if fs.Lookup("catalog") == nil {
		t.Error("--catalog is not defined")
	}
}

func TestParseCatalogFlag(t *testing.T) {
	cfg, err := parseFlags([]string{"--tun", "t0", "--addr", "192.0.2.1/24", "--catalog", "/x/c.json"}, io.Discard, io.Discard)
	if err != nil || cfg.catalog != "/x/c.json" {
		t.Fatalf("--catalog: %+v, %v", cfg, err)
	}
}

func TestDerivedGUID(t *testing.T) {
	a, b := derivedGUID("layer:trace"), derivedGUID("layer:trace")
	if a != b || a == derivedGUID("layer:filter") {
		t.Error("derived GUIDs are not a function of the name")
	}
	s := a.String()
	if s[15] != '5' || !strings.ContainsRune("89AB", rune(s[20])) {
		t.Errorf("%s is not a version-5 RFC 4122 UUID", s)
	}
}

// TestCatalogBinaryPermissions runs the built command as an unprivileged
// user on a file it may read but not write: show works, changes fail with
// exit 1 and a message naming the file, which stays as it was.
func TestCatalogBinaryPermissions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := testutil.BuildOnce(t, ".", binEnv)
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir's are 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "catalog.json")
	t.Setenv(catalogEnv, path)
	mustCat(t, "reset")
	good, _ := os.ReadFile(path)

	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534} // nobody: root ignores permissions
	} else if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	} else {
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	runAs := func(args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"catalog", "--file", path}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		cmd.Run()
		if cmd.ProcessState == nil {
			t.Fatalf("%q did not run", args)
		}
		return cmd.ProcessState.ExitCode(), o.String(), e.String()
	}
	if code, out, errs := runAs("show"); code != 0 || !strings.Contains(out, "MSAFD Tcpip [TCP/IP]") {
		t.Errorf("show as an unprivileged user: exit %d: %s", code, errs)
	}
	for _, args := range [][]string{{"order", "1006,1005,1004,1003,1002,1001"}, {"reset"}, {"install", "--layer", "x", "--path", "p", "--over", "1001"}} {
		code, _, errs := runAs(args...)
		if code != 1 || !strings.Contains(errs, "permission denied") || !strings.Contains(errs, path) {
			t.Errorf("%q without write permission: exit %d: %s", args, code, errs)
		}
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
		t.Error("the file changed")
	}
	// A file that cannot be read at all.
	unreadable := filepath.Join(dir, "secret.json")
	if err := os.WriteFile(unreadable, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "catalog", "--file", unreadable, "show")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var e bytes.Buffer
		cmd.Stderr = &e
		cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(e.String(), "permission denied") {
			t.Errorf("show of an unreadable file: exit %d: %s", code, e.String())
		}
	}
}

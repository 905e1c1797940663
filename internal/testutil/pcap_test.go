package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCheckPcapFile(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	le := append([]byte{0xd4, 0xc3, 0xb2, 0xa1}, make([]byte, 56)...) // 60 bytes
	be := append([]byte{0xa1, 0xb2, 0xc3, 0xd4}, make([]byte, 56)...)
	nano := append([]byte{0x4d, 0x3c, 0xb2, 0xa1}, make([]byte, 56)...)
	bad := append([]byte{0x7f, 'E', 'L', 'F'}, make([]byte, 56)...)
	tests := []struct {
		name   string
		path   string
		minLen int
		ok     bool
	}{
		{"little-endian", file("le", le), 60, true},
		{"big-endian", file("be", be), 40, true},
		{"nanoseconds", file("nano", nano), 40, true},
		{"too short", file("short", le[:59]), 60, false},
		{"header only", file("header", le[:24]), 24 + 16, false},
		{"empty", file("empty", nil), 0, false},
		{"bad magic", file("bad", bad), 40, false},
		{"missing", filepath.Join(dir, "missing"), 40, false},
	}
	for _, tt := range tests {
		var f FakeTB
		CheckPcapFile(&f, tt.path, tt.minLen)
		if f.Failed() == tt.ok {
			t.Errorf("%s: failed=%v, want %v: %s", tt.name, f.Failed(), !tt.ok, f.Failures())
		}
	}
}

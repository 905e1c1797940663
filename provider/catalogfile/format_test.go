package catalogfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

var (
	guidBase  = wsa.MustParseGUID("{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}")
	guidBase6 = wsa.MustParseGUID("{F9EAB0C0-26D4-11D0-BBBF-00AA006C34E4}")
	guidLayer = wsa.MustParseGUID("{0D2A4E3C-61F7-4B6A-9C1E-2B7F5A8D9E01}")
	guidChain = wsa.MustParseGUID("{7B9C1D2E-3F40-4152-8364-758697A8B9CA}")
)

// richState is a catalog exercising every field of every entry kind: base
// entries with every field set to distinct values, a hidden layer
// (ChainLen 0), chains of length 2, 3 and MAX_PROTOCOL_CHAIN, a chain over
// an entry that is gone, names with non-ASCII text, JSON metacharacters and
// the longest name there can be, ids out of order, and a next id well past
// the largest.
func richState() provider.State {
	full := func(id uint32, guid wsa.GUID, name string, k uint32) wsa.ProtocolInfo {
		return wsa.ProtocolInfo{
			ServiceFlags1: 0x20066 | k, ServiceFlags2: 0x80000001 + k, ServiceFlags3: 0xDEADBEEF ^ k, ServiceFlags4: 0xFFFFFFFF - k,
			ProviderFlags: wsa.PFL_MATCHES_PROTOCOL_ZERO | k&3, ProviderId: guid, CatalogEntryId: id,
			ProtocolChain: wsa.ProtocolChain{ChainLen: 1, ChainEntries: [7]uint32{id}},
			Version:       2 + int32(k), AddressFamily: wsa.AF_INET6, MaxSockAddr: 28 + int32(k), MinSockAddr: -5 - int32(k),
			SocketType: wsa.SOCK_STREAM, Protocol: wsa.IPPROTO_TCP, ProtocolMaxOffset: 255 - int32(k),
			NetworkByteOrder: wsa.LITTLEENDIAN, SecurityScheme: -2147483648 + int32(k),
			MessageSize: 0xFFFFFFFF - k, ProviderReserved: 0x12345678 + k, ProtocolName: name,
		}
	}
	longName := strings.Repeat("𝄞", 127) + "x" // 255 UTF-16 units: 127 surrogate pairs + 1
	e := []provider.Entry{
		{Path: "ws2/netstack", Info: full(1004, guidBase, "MSAFD Tcpip [TCP/IP]", 0)},
		{Path: "ws2/netstack", Info: full(1001, guidBase6, "Ünïcødé 网络 🌐 \"quoted\" \\ <b>&amp; \t tab", 1)},
		{Path: `C:\Windows\system32\mswsock.dll`, Info: full(1002, guidBase6, longName, 2)},
	}
	layer := full(1010, guidLayer, "trace layer", 3)
	layer.ProtocolChain = wsa.ProtocolChain{ChainLen: 0}
	layer.ProviderFlags = wsa.PFL_HIDDEN
	c2 := full(1011, guidChain, "trace over MSAFD Tcpip [TCP/IP]", 4)
	c2.ProtocolChain = wsa.ProtocolChain{ChainLen: 2, ChainEntries: [7]uint32{1010, 1004}}
	c3 := full(1012, guidChain, "trace over trace over x", 5)
	c3.ProtocolChain = wsa.ProtocolChain{ChainLen: 3, ChainEntries: [7]uint32{1010, 1010, 1001}}
	c7 := full(1013, guidChain, "deep", 6)
	c7.ProtocolChain = wsa.ProtocolChain{ChainLen: 7, ChainEntries: [7]uint32{1010, 1010, 1010, 1010, 1010, 1010, 1002}}
	dangling := full(1014, guidChain, "over a removed entry", 7)
	dangling.ProtocolChain = wsa.ProtocolChain{ChainLen: 2, ChainEntries: [7]uint32{1010, 999}}
	e = append(e,
		provider.Entry{Path: "ws2/lsp/trace", Info: layer},
		provider.Entry{Path: "ws2/lsp/trace", Info: c2},
		provider.Entry{Path: "ws2/lsp/trace", Info: c3},
		provider.Entry{Path: "ws2/lsp/trace", Info: c7},
		provider.Entry{Path: "ws2/lsp/trace", Info: dangling},
	)
	return provider.State{Entries: e, NextID: 2000}
}

func mustMarshal(t testing.TB, s Snapshot) []byte {
	t.Helper()
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, s := range []Snapshot{
		{Serial: 0, State: provider.State{NextID: provider.FirstCatalogEntryID}},
		{Serial: 1<<64 - 1, State: provider.State{NextID: 1<<32 - 1}},
		{Serial: 42, State: richState()},
	} {
		b := mustMarshal(t, s)
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal: %v\n%s", err, b)
		}
		if got.Serial != s.Serial || got.NextID != s.NextID || len(got.Entries) != len(s.Entries) {
			t.Fatalf("got serial %d next %d entries %d, want %d %d %d", got.Serial, got.NextID, len(got.Entries), s.Serial, s.NextID, len(s.Entries))
		}
		for i := range s.Entries {
			if !reflect.DeepEqual(got.Entries[i], s.Entries[i]) {
				t.Errorf("entry %d:\n got %+v\nwant %+v", i, got.Entries[i], s.Entries[i])
			}
		}
		if again := mustMarshal(t, got); !bytes.Equal(again, b) {
			t.Error("re-marshalled form differs")
		}
	}
}

// TestMarshalForm pins the layout of the file (its beginning, one entry's
// chain line, a name with non-ASCII text kept as UTF-8, the trailer).
func TestMarshalForm(t *testing.T) {
	b := string(mustMarshal(t, Snapshot{Serial: 7, State: richState()}))
	for _, want := range []string{
		"{\n  \"format\": \"ws2-protocol-catalog\",\n  \"version\": 1,\n  \"Serial_Access_Num\": 7,\n  \"Next_Catalog_Entry_ID\": 2000,\n  \"Num_Catalog_Entries\": 8,\n  \"Catalog_Entries\": [\n    {\n      \"ProviderPath\": \"ws2/netstack\",\n      \"dwServiceFlags1\": \"0x00020066\",",
		`"ProviderId": "{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}",`,
		`"ProtocolChain": {"ChainLen": 2, "ChainEntries": [1010, 1004, 0, 0, 0, 0, 0]},`,
		`"szProtocol": "Ünïcødé 网络 🌐 \"quoted\" \\ <b>&amp; \t tab"`,
		`"ProviderPath": "C:\\Windows\\system32\\mswsock.dll",`,
		"  ],\n  \"sha256\": \"",
	} {
		if !strings.Contains(b, want) {
			t.Errorf("file lacks %q", want)
		}
	}
	if !strings.HasSuffix(b, "\"\n}\n") {
		t.Error("file does not end with the trailer")
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	bad := []func(*provider.State){
		func(s *provider.State) { s.Entries[0].Info.ProtocolName = "bad \xff utf-8" },
		func(s *provider.State) { s.Entries[0].Info.ProtocolName = "nul\x00inside" },
		func(s *provider.State) { s.Entries[0].Path = "bad \xfe" },
		func(s *provider.State) { s.Entries[1].Info.CatalogEntryId = s.Entries[0].Info.CatalogEntryId },
		func(s *provider.State) { s.NextID = 1004 },
		func(s *provider.State) { s.Entries[0].Path = "" },
		func(s *provider.State) { s.Entries[0].Info.CatalogEntryId = 0 },
		func(s *provider.State) { s.Entries[0].Info.ProtocolChain.ChainLen = 8 },
		func(s *provider.State) { s.Entries[0].Info.ProtocolName = strings.Repeat("x", 256) },
	}
	for i, mut := range bad {
		s := richState()
		mut(&s)
		if _, err := Marshal(Snapshot{State: s}); !errors.Is(err, wsa.WSAEINVAL) {
			t.Errorf("case %d: Marshal = %v, want WSAEINVAL", i, err)
		}
	}
}

// reseal recomputes the checksum of a file whose body was changed, so the
// change reaches the checks behind it.
func reseal(b []byte) []byte {
	body := b[:len(b)-trailerLen]
	sum := sha256.Sum256(body)
	out := append([]byte{}, body...)
	out = append(out, trailerHead...)
	out = append(out, hex.EncodeToString(sum[:])...)
	return append(out, trailerTail...)
}

func TestUnmarshalRefuses(t *testing.T) {
	good := mustMarshal(t, Snapshot{Serial: 3, State: richState()})
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in the file", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"whitespace", []byte("\n"), ErrCorrupt},
		{"not JSON", []byte("127.0.0.1 localhost\n"), ErrCorrupt},
		{"checksum mismatch", replace(`"iVersion": 2,`, `"iVersion": 3,`), ErrCorrupt},
		{"bad checksum hex", append(append([]byte{}, good[:len(good)-len(trailerTail)-1]...), append([]byte("g"), trailerTail...)...), ErrCorrupt},
		{"wrong magic", reseal(replace(`"format": "ws2-protocol-catalog"`, `"format": "ws2-namespace-catalog"`)), ErrNotCatalog},
		{"unknown version", reseal(replace(`"version": 1,`, `"version": 2,`)), ErrVersion},
		{"version zero", reseal(replace(`"version": 1,`, `"version": 0,`)), ErrVersion},
		{"version not a number", reseal(replace(`"version": 1,`, `"version": "1",`)), ErrCorrupt},
		{"count mismatch", reseal(replace(`"Num_Catalog_Entries": 8,`, `"Num_Catalog_Entries": 7,`)), ErrCorrupt},
		{"duplicate id", reseal(replace(`"dwCatalogEntryId": 1001,`, `"dwCatalogEntryId": 1004,`)), ErrCorrupt},
		{"id past next", reseal(replace(`"Next_Catalog_Entry_ID": 2000,`, `"Next_Catalog_Entry_ID": 1005,`)), ErrCorrupt},
		{"bad GUID", reseal(replace(`"{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}"`, `"{E70F1AA0-AB8B-11CF-8CA3-00805F48A19Z}"`)), ErrCorrupt},
		{"lower-case GUID", reseal(replace(`"{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}"`, `"{e70f1aa0-ab8b-11cf-8ca3-00805f48a192}"`)), ErrCorrupt},
		{"short chain", reseal(replace(`[1010, 1004, 0, 0, 0, 0, 0]`, `[1010, 1004, 0, 0, 0, 0]`)), ErrCorrupt},
		{"chain too long", reseal(replace(`"ChainLen": 2,`, `"ChainLen": 8,`)), ErrCorrupt},
		{"flags not hex", reseal(replace(`"dwServiceFlags1": "0x00020066"`, `"dwServiceFlags1": 131174`)), ErrCorrupt},
		{"flags lower case", reseal(replace(`"dwServiceFlags3": "0xDEADBEEF"`, `"dwServiceFlags3": "0xdeadbeef"`)), ErrCorrupt},
		{"unknown member", reseal(replace(`"iVersion": 2,`, `"iVersion": 2, "extra": 1,`)), ErrCorrupt},
		{"key case", reseal(replace(`"iVersion": 2,`, `"IVERSION": 2,`)), ErrCorrupt},
		{"duplicate key", reseal(replace(`"iVersion": 2,`, `"iVersion": 9, "iVersion": 2,`)), ErrCorrupt},
		{"reindented", reseal(replace("\n      \"iVersion\"", "\n        \"iVersion\"")), ErrCorrupt},
		{"int overflow", reseal(replace(`"iVersion": 2,`, `"iVersion": 4294967298,`)), ErrCorrupt},
		{"escaped name", reseal(replace(`"szProtocol": "MSAFD Tcpip [TCP/IP]"`, `"szProtocol": "MSAFD Tcpip [TCP\/IP]"`)), ErrCorrupt},
		{"empty path", reseal(replace(`"ProviderPath": "ws2/netstack"`, `"ProviderPath": ""`)), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unmarshal = %v, want %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("error %v is not an *Error with a reason", err)
			}
		})
	}
}

// TestUnmarshalEveryBitFlip flips every bit of a valid file in turn: each
// damaged file is refused as corrupt.
func TestUnmarshalEveryBitFlip(t *testing.T) {
	good := mustMarshal(t, Snapshot{Serial: 9, State: provider.State{Entries: richState().Entries[:2], NextID: 1005}})
	b := append([]byte{}, good...)
	for i := range b {
		for bit := range 8 {
			b[i] ^= 1 << bit
			if _, err := Unmarshal(b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d bit %d flipped: %v, want ErrCorrupt", i, bit, err)
			}
			b[i] ^= 1 << bit
		}
	}
}

// TestUnmarshalEveryPrefix truncates a valid file at every length.
func TestUnmarshalEveryPrefix(t *testing.T) {
	good := mustMarshal(t, Snapshot{Serial: 9, State: richState()})
	for n := range len(good) {
		if _, err := Unmarshal(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix of %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
	// Extra bytes after the trailer are damage too.
	if _, err := Unmarshal(append(append([]byte{}, good...), '\n')); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing newline: %v, want ErrCorrupt", err)
	}
}

func TestErrorText(t *testing.T) {
	err := &Error{Path: "/x/catalog.json", Err: ErrCorrupt, Reason: "checksum mismatch"}
	if got, want := err.Error(), "catalog file /x/catalog.json: corrupt: checksum mismatch"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func FuzzLoadCatalog(f *testing.F) {
	good := mustMarshal(f, Snapshot{Serial: 3, State: richState()})
	f.Add(good)
	f.Add(mustMarshal(f, Snapshot{State: provider.State{NextID: 1001}}))
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte("{}"))
	f.Add(reseal(bytes.Replace(good, []byte(`"version": 1,`), []byte(`"version": 2,`), 1)))
	f.Add(reseal(bytes.Replace(good, []byte(`"iVersion": 2,`), []byte(`"iVersion": 2, "x": [1, {"y": null}],`), 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Unmarshal(b)
		if err == nil {
			// Also resealed damage must never panic; it is checked below.
			again, err := Marshal(s)
			if err != nil {
				t.Fatalf("accepted file does not marshal: %v", err)
			}
			if !bytes.Equal(again, b) {
				t.Fatalf("accepted file re-marshals differently")
			}
			s2, err := Unmarshal(again)
			if err != nil || !reflect.DeepEqual(s2, s) {
				t.Fatalf("re-marshalled file reloads as %+v, %v", s2, err)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("refusal %v is not an *Error", err)
		}
		// Let the fuzzer past the checksum: the body with a fresh trailer
		// exercises the JSON checks.
		if len(b) >= trailerLen {
			if s, err := Unmarshal(reseal(b)); err == nil {
				if again, err := Marshal(s); err != nil || !bytes.Equal(again, reseal(b)) {
					t.Fatalf("accepted resealed file re-marshals differently (%v)", err)
				}
			}
		}
	})
}

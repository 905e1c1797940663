package catalogfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// Format is the value of the "format" member: the file's magic.
const Format = "ws2-protocol-catalog"

// Version is the format version this package writes and reads.
const Version = 1

// The errors a refused file carries (wrapped in an *Error with the path
// and the reason). A refused file is never written to.
var (
	// ErrCorrupt: empty, truncated, damaged (checksum mismatch), not in the
	// canonical form, or holding a catalog that cannot be (duplicate ids,
	// malformed entries).
	ErrCorrupt = errors.New("corrupt")
	// ErrVersion: a well-formed catalog file of a format version this
	// program does not know.
	ErrVersion = errors.New("unsupported format version")
	// ErrNotCatalog: a well-formed file (valid checksum) whose format is
	// not Format.
	ErrNotCatalog = errors.New("not a ws2 protocol catalog")
)

// Error is a refused catalog file: Err is ErrCorrupt, ErrVersion or
// ErrNotCatalog, Reason says what is wrong. errors.Is(err, ErrCorrupt) etc.
// work on it.
type Error struct {
	Path   string // "" when the bytes did not come from a file
	Err    error
	Reason string
}

func (e *Error) Error() string {
	s := "catalog file"
	if e.Path != "" {
		s += " " + e.Path
	}
	return s + ": " + e.Err.Error() + ": " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

func corrupt(format string, a ...any) error {
	return &Error{Err: ErrCorrupt, Reason: fmt.Sprintf(format, a...)}
}

// Snapshot is what a catalog file holds: the catalog's content and the
// file's Serial_Access_Num, which every write bumps.
type Snapshot struct {
	Serial uint64
	provider.State
}

// The checksum trailer ends every file: the last member of the top-level
// object is "sha256", the SHA-256 of every byte before the trailer, in
// lower-case hex.
const (
	trailerHead = "  \"sha256\": \""
	trailerTail = "\"\n}\n"
	trailerLen  = len(trailerHead) + 2*sha256.Size + len(trailerTail)
)

// Marshal returns the file form of s (see the package doc). A state that
// CheckState refuses, or a protocol name that is not valid UTF-8 or holds a
// NUL (it could not be a WSAPROTOCOL_INFOW's szProtocol), is WSAEINVAL.
func Marshal(s Snapshot) ([]byte, error) {
	if err := provider.CheckState(s.State); err != nil {
		return nil, fmt.Errorf("catalogfile: %w: invalid catalog", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"format\": %s,\n  \"version\": %d,\n", quote(Format), Version)
	fmt.Fprintf(&b, "  \"Serial_Access_Num\": %d,\n  \"Next_Catalog_Entry_ID\": %d,\n  \"Num_Catalog_Entries\": %d,\n",
		s.Serial, s.NextID, len(s.Entries))
	if len(s.Entries) == 0 {
		b.WriteString("  \"Catalog_Entries\": [],\n")
	} else {
		b.WriteString("  \"Catalog_Entries\": [\n")
		for i, e := range s.Entries {
			if !utf8.ValidString(e.Info.ProtocolName) || strings.ContainsRune(e.Info.ProtocolName, 0) {
				return nil, fmt.Errorf("catalogfile: %w: entry %d: protocol name is not valid UTF-8 or holds a NUL", wsa.WSAEINVAL, e.Info.CatalogEntryId)
			}
			if !utf8.ValidString(e.Path) {
				return nil, fmt.Errorf("catalogfile: %w: entry %d: provider path is not valid UTF-8", wsa.WSAEINVAL, e.Info.CatalogEntryId)
			}
			writeEntry(&b, &e)
			if i < len(s.Entries)-1 {
				b.WriteString("    },\n")
			} else {
				b.WriteString("    }\n")
			}
		}
		b.WriteString("  ],\n")
	}
	sum := sha256.Sum256(b.Bytes())
	b.WriteString(trailerHead)
	b.WriteString(hex.EncodeToString(sum[:]))
	b.WriteString(trailerTail)
	return b.Bytes(), nil
}

func writeEntry(b *bytes.Buffer, e *provider.Entry) {
	p := &e.Info
	ch := p.ProtocolChain.ChainEntries
	fmt.Fprintf(b, "    {\n")
	fmt.Fprintf(b, "      \"ProviderPath\": %s,\n", quote(e.Path))
	fmt.Fprintf(b, "      \"dwServiceFlags1\": \"0x%08X\",\n", p.ServiceFlags1)
	fmt.Fprintf(b, "      \"dwServiceFlags2\": \"0x%08X\",\n", p.ServiceFlags2)
	fmt.Fprintf(b, "      \"dwServiceFlags3\": \"0x%08X\",\n", p.ServiceFlags3)
	fmt.Fprintf(b, "      \"dwServiceFlags4\": \"0x%08X\",\n", p.ServiceFlags4)
	fmt.Fprintf(b, "      \"dwProviderFlags\": \"0x%08X\",\n", p.ProviderFlags)
	fmt.Fprintf(b, "      \"ProviderId\": %s,\n", quote(p.ProviderId.String()))
	fmt.Fprintf(b, "      \"dwCatalogEntryId\": %d,\n", p.CatalogEntryId)
	fmt.Fprintf(b, "      \"ProtocolChain\": {\"ChainLen\": %d, \"ChainEntries\": [%d, %d, %d, %d, %d, %d, %d]},\n",
		p.ProtocolChain.ChainLen, ch[0], ch[1], ch[2], ch[3], ch[4], ch[5], ch[6])
	fmt.Fprintf(b, "      \"iVersion\": %d,\n", p.Version)
	fmt.Fprintf(b, "      \"iAddressFamily\": %d,\n", p.AddressFamily)
	fmt.Fprintf(b, "      \"iMaxSockAddr\": %d,\n", p.MaxSockAddr)
	fmt.Fprintf(b, "      \"iMinSockAddr\": %d,\n", p.MinSockAddr)
	fmt.Fprintf(b, "      \"iSocketType\": %d,\n", p.SocketType)
	fmt.Fprintf(b, "      \"iProtocol\": %d,\n", p.Protocol)
	fmt.Fprintf(b, "      \"iProtocolMaxOffset\": %d,\n", p.ProtocolMaxOffset)
	fmt.Fprintf(b, "      \"iNetworkByteOrder\": %d,\n", p.NetworkByteOrder)
	fmt.Fprintf(b, "      \"iSecurityScheme\": %d,\n", p.SecurityScheme)
	fmt.Fprintf(b, "      \"dwMessageSize\": %d,\n", p.MessageSize)
	fmt.Fprintf(b, "      \"dwProviderReserved\": %d,\n", p.ProviderReserved)
	fmt.Fprintf(b, "      \"szProtocol\": %s\n", quote(p.ProtocolName))
}

// quote is a JSON string without HTML escaping, so names read as written.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// The structures Unmarshal decodes into. Marshal writes the same members
// in the same order by hand, so that the form stays compact and fixed.
type fileHeader struct {
	Format  string `json:"format"`
	Version int64  `json:"version"`
}

type fileDoc struct {
	Format  string      `json:"format"`
	Version int64       `json:"version"`
	Serial  uint64      `json:"Serial_Access_Num"`
	NextID  uint32      `json:"Next_Catalog_Entry_ID"`
	Num     int         `json:"Num_Catalog_Entries"`
	Entries []fileEntry `json:"Catalog_Entries"`
	SHA256  string      `json:"sha256"`
}

type fileEntry struct {
	ProviderPath       string `json:"ProviderPath"`
	ServiceFlags1      hex32  `json:"dwServiceFlags1"`
	ServiceFlags2      hex32  `json:"dwServiceFlags2"`
	ServiceFlags3      hex32  `json:"dwServiceFlags3"`
	ServiceFlags4      hex32  `json:"dwServiceFlags4"`
	ProviderFlags      hex32  `json:"dwProviderFlags"`
	ProviderID         string `json:"ProviderId"`
	CatalogEntryID     uint32 `json:"dwCatalogEntryId"`
	ProtocolChain      chain  `json:"ProtocolChain"`
	Version            int32  `json:"iVersion"`
	AddressFamily      int32  `json:"iAddressFamily"`
	MaxSockAddr        int32  `json:"iMaxSockAddr"`
	MinSockAddr        int32  `json:"iMinSockAddr"`
	SocketType         int32  `json:"iSocketType"`
	Protocol           int32  `json:"iProtocol"`
	ProtocolMaxOffset  int32  `json:"iProtocolMaxOffset"`
	NetworkByteOrder   int32  `json:"iNetworkByteOrder"`
	SecurityScheme     int32  `json:"iSecurityScheme"`
	MessageSize        uint32 `json:"dwMessageSize"`
	ProviderReserved   uint32 `json:"dwProviderReserved"`
	ProtocolNameString string `json:"szProtocol"`
}

type chain struct {
	ChainLen     int32    `json:"ChainLen"`
	ChainEntries []uint32 `json:"ChainEntries"`
}

// hex32 is a DWORD of flags written "0x%08X".
type hex32 uint32

func (h *hex32) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if len(s) != 10 || !strings.HasPrefix(s, "0x") {
		return fmt.Errorf("flags %q are not 0xXXXXXXXX", s)
	}
	v, err := strconv.ParseUint(s[2:], 16, 32)
	if err != nil {
		return fmt.Errorf("flags %q are not 0xXXXXXXXX", s)
	}
	*h = hex32(v)
	return nil
}

// Unmarshal reads the file form. It refuses (with an *Error) anything Marshal
// would not have written: an empty or truncated file, a checksum mismatch,
// a wrong format (ErrNotCatalog) or version (ErrVersion), a catalog that
// CheckState refuses, and any other difference from the canonical form. So
// whatever it accepts, Marshal writes back byte for byte.
func Unmarshal(b []byte) (Snapshot, error) {
	if len(b) == 0 {
		return Snapshot{}, corrupt("the file is empty")
	}
	if len(b) < trailerLen || !bytes.HasSuffix(b, []byte(trailerTail)) ||
		!bytes.Equal(b[len(b)-trailerLen:][:len(trailerHead)], []byte(trailerHead)) {
		return Snapshot{}, corrupt("no checksum trailer: truncated, damaged, or not a ws2 catalog file")
	}
	body := b[:len(b)-trailerLen]
	hexSum := b[len(b)-trailerLen+len(trailerHead) : len(b)-len(trailerTail)]
	var want [sha256.Size]byte
	if n, err := hex.Decode(want[:], hexSum); err != nil || n != sha256.Size {
		return Snapshot{}, corrupt("malformed checksum")
	}
	if sha256.Sum256(body) != want {
		return Snapshot{}, corrupt("checksum mismatch: the file was damaged or edited by hand")
	}
	var h fileHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return Snapshot{}, corrupt("invalid JSON: %v", err)
	}
	if h.Format != Format {
		return Snapshot{}, &Error{Err: ErrNotCatalog, Reason: fmt.Sprintf("format %q, want %q", h.Format, Format)}
	}
	if h.Version != Version {
		return Snapshot{}, &Error{Err: ErrVersion, Reason: fmt.Sprintf("version %d; this program reads version %d", h.Version, Version)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d fileDoc
	if err := dec.Decode(&d); err != nil {
		return Snapshot{}, corrupt("invalid content: %v", err)
	}
	if d.Num != len(d.Entries) {
		return Snapshot{}, corrupt("Num_Catalog_Entries is %d but %d entries follow", d.Num, len(d.Entries))
	}
	s := Snapshot{Serial: d.Serial, State: provider.State{NextID: d.NextID, Entries: make([]provider.Entry, 0, len(d.Entries))}}
	for i, fe := range d.Entries {
		e, err := fe.entry()
		if err != nil {
			return Snapshot{}, corrupt("entry %d: %v", i+1, err)
		}
		s.Entries = append(s.Entries, e)
	}
	if err := provider.CheckState(s.State); err != nil {
		return Snapshot{}, corrupt("the catalog is not valid (duplicate or out-of-range catalog ids, empty paths, malformed entries)")
	}
	again, err := Marshal(s)
	if err != nil {
		return Snapshot{}, corrupt("%v", err)
	}
	if !bytes.Equal(again, b) {
		return Snapshot{}, corrupt("not in the canonical form")
	}
	return s, nil
}

func (fe *fileEntry) entry() (provider.Entry, error) {
	id, err := wsa.ParseGUID(fe.ProviderID)
	if err != nil {
		return provider.Entry{}, fmt.Errorf("ProviderId %q is not a GUID", fe.ProviderID)
	}
	if len(fe.ProtocolChain.ChainEntries) != wsa.MAX_PROTOCOL_CHAIN {
		return provider.Entry{}, fmt.Errorf("ChainEntries has %d ids, want %d", len(fe.ProtocolChain.ChainEntries), wsa.MAX_PROTOCOL_CHAIN)
	}
	p := wsa.ProtocolInfo{
		ServiceFlags1:     uint32(fe.ServiceFlags1),
		ServiceFlags2:     uint32(fe.ServiceFlags2),
		ServiceFlags3:     uint32(fe.ServiceFlags3),
		ServiceFlags4:     uint32(fe.ServiceFlags4),
		ProviderFlags:     uint32(fe.ProviderFlags),
		ProviderId:        id,
		CatalogEntryId:    fe.CatalogEntryID,
		ProtocolChain:     wsa.ProtocolChain{ChainLen: fe.ProtocolChain.ChainLen},
		Version:           fe.Version,
		AddressFamily:     fe.AddressFamily,
		MaxSockAddr:       fe.MaxSockAddr,
		MinSockAddr:       fe.MinSockAddr,
		SocketType:        fe.SocketType,
		Protocol:          fe.Protocol,
		ProtocolMaxOffset: fe.ProtocolMaxOffset,
		NetworkByteOrder:  fe.NetworkByteOrder,
		SecurityScheme:    fe.SecurityScheme,
		MessageSize:       fe.MessageSize,
		ProviderReserved:  fe.ProviderReserved,
		ProtocolName:      fe.ProtocolNameString,
	}
	copy(p.ProtocolChain.ChainEntries[:], fe.ProtocolChain.ChainEntries)
	return provider.Entry{Info: p, Path: fe.ProviderPath}, nil
}

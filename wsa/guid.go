package wsa

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// GUID is a Windows GUID. Its binary layout is Data1 (LE u32), Data2 and
// Data3 (LE u16), Data4 (8 bytes).
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// String formats the GUID as Windows does: {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}.
func (g GUID) String() string {
	return fmt.Sprintf("{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
		g.Data1, g.Data2, g.Data3, g.Data4[0], g.Data4[1],
		g.Data4[2], g.Data4[3], g.Data4[4], g.Data4[5], g.Data4[6], g.Data4[7])
}

// ParseGUID parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", with or without
// braces, in either case. A malformed string is WSAEINVAL.
func ParseGUID(s string) (GUID, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return GUID{}, WSAEINVAL
	}
	raw, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36])
	if err != nil {
		return GUID{}, WSAEINVAL
	}
	var g GUID
	g.Data1 = binary.BigEndian.Uint32(raw[0:])
	g.Data2 = binary.BigEndian.Uint16(raw[4:])
	g.Data3 = binary.BigEndian.Uint16(raw[6:])
	copy(g.Data4[:], raw[8:])
	return g, nil
}

// MustParseGUID is ParseGUID for constants; it panics on a malformed string
// and is meant for package-level variables only.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic("wsa: bad GUID " + s)
	}
	return g
}

// SizeofGUID is the size of the binary form.
const SizeofGUID = 16

// Marshal writes the 16-byte Windows layout into b (WSAEFAULT if short).
func (g GUID) Marshal(b []byte) error {
	if len(b) < SizeofGUID {
		return WSAEFAULT
	}
	binary.LittleEndian.PutUint32(b[0:], g.Data1)
	binary.LittleEndian.PutUint16(b[4:], g.Data2)
	binary.LittleEndian.PutUint16(b[6:], g.Data3)
	copy(b[8:16], g.Data4[:])
	return nil
}

// UnmarshalGUID reads the 16-byte Windows layout (WSAEFAULT if short).
func UnmarshalGUID(b []byte) (GUID, error) {
	if len(b) < SizeofGUID {
		return GUID{}, WSAEFAULT
	}
	var g GUID
	g.Data1 = binary.LittleEndian.Uint32(b[0:])
	g.Data2 = binary.LittleEndian.Uint16(b[4:])
	g.Data3 = binary.LittleEndian.Uint16(b[6:])
	copy(g.Data4[:], b[8:16])
	return g, nil
}

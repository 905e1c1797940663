package testutil

import (
	"encoding/binary"
	"os"
	"testing"
)

// CheckPcapFile fails t unless the file at path holds at least minLen
// bytes and starts with a pcap magic number (either byte order,
// microsecond or nanosecond timestamps). A capture of at least one packet
// is 24 bytes of file header, 16 of record header and the packet.
func CheckPcapFile(t testing.TB, path string, minLen int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pcap: %v", err)
		return
	}
	if len(b) < max(minLen, 4) {
		t.Fatalf("pcap: %d bytes, want a header and packets (at least %d bytes)", len(b), minLen)
		return
	}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
	default:
		t.Fatalf("pcap: bad magic % x", b[:4])
	}
}

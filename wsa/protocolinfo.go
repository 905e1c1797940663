package wsa

// MAX_PROTOCOL_CHAIN is the most entries a protocol chain can hold.
const MAX_PROTOCOL_CHAIN = 7

// Chain lengths with a name.
const (
	LAYERED_PROTOCOL = 0 // a layer entry: never selected by socket()
	BASE_PROTOCOL    = 1 // a base provider entry
)

// WSAPROTOCOL_LEN is the most characters of a protocol name (plus the NUL).
const WSAPROTOCOL_LEN = 255

// ProtocolChain is WSAPROTOCOLCHAIN. ChainLen 0 is a layered entry, 1 a base
// entry, more a chain whose ChainEntries[0] is the top layer's catalog id and
// ChainEntries[ChainLen-1] the base entry's.
type ProtocolChain struct {
	ChainLen     int32
	ChainEntries [MAX_PROTOCOL_CHAIN]uint32
}

// ProtocolInfo is WSAPROTOCOL_INFOW, every field, in order. ProtocolName is
// szProtocol (at most WSAPROTOCOL_LEN UTF-16 units). The binary form (628
// bytes, SizeofProtocolInfo) is what getsockopt(SO_PROTOCOL_INFOW) returns.
type ProtocolInfo struct {
	ServiceFlags1     uint32 // XP1_*
	ServiceFlags2     uint32
	ServiceFlags3     uint32
	ServiceFlags4     uint32
	ProviderFlags     uint32 // PFL_*
	ProviderId        GUID
	CatalogEntryId    uint32
	ProtocolChain     ProtocolChain
	Version           int32
	AddressFamily     int32
	MaxSockAddr       int32
	MinSockAddr       int32
	SocketType        int32
	Protocol          int32
	ProtocolMaxOffset int32
	NetworkByteOrder  int32 // BIGENDIAN or LITTLEENDIAN
	SecurityScheme    int32
	MessageSize       uint32
	ProviderReserved  uint32
	ProtocolName      string // szProtocol
}

// SizeofProtocolInfo is sizeof(WSAPROTOCOL_INFOW).
const SizeofProtocolInfo = 628

// Byte orders of ProtocolInfo.NetworkByteOrder.
const (
	BIGENDIAN    = 0
	LITTLEENDIAN = 1
)

// SECURITY_PROTOCOL_NONE is the only security scheme.
const SECURITY_PROTOCOL_NONE = 0

// IsLayered reports a layer entry (ChainLen 0).
func (p *ProtocolInfo) IsLayered() bool { return p.ProtocolChain.ChainLen == LAYERED_PROTOCOL }

// IsBase reports a base provider entry (ChainLen 1).
func (p *ProtocolInfo) IsBase() bool { return p.ProtocolChain.ChainLen == BASE_PROTOCOL }

// IsChain reports a protocol chain entry (ChainLen > 1).
func (p *ProtocolInfo) IsChain() bool { return p.ProtocolChain.ChainLen > BASE_PROTOCOL }

// MatchesProtocol reports whether protocol p is in the entry's range
// [Protocol, Protocol+ProtocolMaxOffset] (WSAEnumProtocols' filter rule).
func (p *ProtocolInfo) MatchesProtocol(proto int32) bool {
	return p.Protocol <= proto && int64(proto) <= int64(p.Protocol)+int64(p.ProtocolMaxOffset)
}

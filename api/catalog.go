package api

import (
	"unicode/utf16"

	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/wsa"
)

// WSAEnumProtocols is WSAEnumProtocolsW: it fills buf with the catalog
// entries matching protocols, in catalog order, without the PFL_HIDDEN ones,
// and returns how many it wrote.
//
// protocols is the C zero-terminated filter: the values before the first 0
// (or all of them) are the filter, and an entry matches when one of them is
// in [Protocol, Protocol+ProtocolMaxOffset]; an empty filter (nil, empty, or
// starting with 0) selects every entry.
//
// *bufferLength is the C in/out length in bytes of WSAPROTOCOL_INFOW
// (wsa.SizeofProtocolInfo, 628, each). The room is the smaller of
// len(buf)*628 and *bufferLength; when the matching entries need more,
// nothing is written, *bufferLength is set to the bytes needed and the error
// is WSAENOBUFS. A nil bufferLength is WSAEFAULT.
func (s *Session) WSAEnumProtocols(protocols []int32, buf []wsa.ProtocolInfo, bufferLength *uint32) (int32, error) {
	inst, err := s.started()
	if err != nil {
		return 0, err
	}
	if bufferLength == nil {
		return 0, wsa.WSAEFAULT
	}
	for i, p := range protocols {
		if p == 0 {
			protocols = protocols[:i]
			break
		}
	}
	infos := inst.catalog.WSAEnumProtocols(protocols)
	need := uint64(len(infos)) * wsa.SizeofProtocolInfo
	room := min(uint64(len(buf))*wsa.SizeofProtocolInfo, uint64(*bufferLength))
	if need > room {
		*bufferLength = uint32(min(need, 1<<32-1))
		return 0, wsa.WSAENOBUFS
	}
	copy(buf, infos)
	return int32(len(infos)), nil
}

// addressEntry picks the catalog entry whose provider converts addresses
// (spec §2.10): info's entry if given, else the first non-layered entry of
// family af. Neither is WSAEINVAL.
func (inst *instance) addressEntry(af int32, info *wsa.ProtocolInfo) (provider.Entry, error) {
	if info != nil {
		e, ok := inst.catalog.ByID(info.CatalogEntryId)
		if !ok || e.Info.IsLayered() {
			return provider.Entry{}, wsa.WSAEINVAL
		}
		return e, nil
	}
	for _, e := range inst.catalog.Entries() {
		if !e.Info.IsLayered() && e.Info.AddressFamily == af {
			return e, nil
		}
	}
	return provider.Entry{}, wsa.WSAEINVAL
}

// WSAStringToAddress is WSAStringToAddressW: the provider of info's catalog
// entry, or of the first catalog entry of family af, parses addr (spec
// §2.10; a string that does not parse is WSAEINVAL, as is a family no entry
// serves). *addrLen is the C in/out length in bytes: when it is smaller than
// the address (16 for sockaddr_in, 28 for sockaddr_in6) it is set to that
// size and the error is WSAEFAULT; on success it is set to the size. A nil
// addrLen is WSAEFAULT.
func (s *Session) WSAStringToAddress(addr string, af int32, info *wsa.ProtocolInfo, addrLen *int32) (wsa.Sockaddr, error) {
	inst, err := s.enter()
	if err != nil {
		return nil, err
	}
	defer inst.gate.leave()
	if addrLen == nil {
		return nil, wsa.WSAEFAULT
	}
	e, err := inst.addressEntry(af, info)
	if err != nil {
		return nil, err
	}
	p, err := inst.load(&e)
	if err != nil {
		return nil, err
	}
	pi := e.Info
	sa, err := addrResult(p.procs.WSPStringToAddress(addr, af, &pi))
	if err != nil {
		return nil, err
	}
	need := sa.Len()
	if *addrLen < need {
		*addrLen = need
		return nil, wsa.WSAEFAULT
	}
	*addrLen = need
	return sa, nil
}

// WSAAddressToString is WSAAddressToStringW: the provider of info's catalog
// entry, or of the first catalog entry of addr's family, formats addr (spec
// §2.10). *outLen is the C in/out length in characters including the NUL:
// when it is too small it is set to the length needed and the error is
// WSAEFAULT; on success it is set to the length written. A nil addr or
// outLen is WSAEFAULT.
func (s *Session) WSAAddressToString(addr wsa.Sockaddr, info *wsa.ProtocolInfo, outLen *uint32) (string, error) {
	inst, err := s.enter()
	if err != nil {
		return "", err
	}
	defer inst.gate.leave()
	if err := checkSockaddr(addr, false); err != nil {
		return "", err
	}
	if outLen == nil {
		return "", wsa.WSAEFAULT
	}
	e, err := inst.addressEntry(addr.Family(), info)
	if err != nil {
		return "", err
	}
	p, err := inst.load(&e)
	if err != nil {
		return "", err
	}
	pi := e.Info
	str, err := p.procs.WSPAddressToString(addr, &pi)
	if err != nil {
		return "", providerErr(err)
	}
	need := uint32(len(utf16.Encode([]rune(str)))) + 1
	if *outLen < need {
		*outLen = need
		return "", wsa.WSAEFAULT
	}
	*outLen = need
	return str, nil
}

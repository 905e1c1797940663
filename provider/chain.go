package provider

import (
	"slices"
	"unicode/utf16"

	"github.com/ws2go/ws2/wsa"
)

// Protocol chains (spec §3.8). A layered provider is installed as one layer
// entry (ChainLen 0, LAYERED_PROTOCOL, usually PFL_HIDDEN), which no socket
// selects, and one chain entry per catalog entry it sits on: a copy of that
// entry whose ProtocolChain is {layer id, the entries below…} down to a base
// entry (ChainLen 1). ChainEntries[0] is the top layer, ChainEntries[ChainLen-1]
// the base. The chain entries carry the layer's provider path, so the api
// starts the top layer for a socket of the chain (with the chain entry as its
// protocol information); each layer starts the next (see Layer).

// InstallLayer installs a layered provider the standard way (spec §3.8, the
// SDK sample's recipe):
//
//  1. WSCInstallProvider(layerGUID, path, {one layer entry}): a copy of the
//     first entry of over with ChainLen 0, no chain, PFL_HIDDEN, named name;
//  2. the catalog id L it was given is looked up (WSCEnumProtocols);
//  3. for each entry B of over (a base entry or a chain), a copy of B with the
//     chain {L, B's chain…} ({L, B} for a base), named "name over [B's
//     name]" (cut to WSAPROTOCOL_LEN), is installed under chainGUID with the
//     same path;
//  4. WSCWriteProviderOrder puts the new chain entries first, in the order of
//     over, so that socket() picks them before the entries they sit on.
//
// The chain entries keep B's flags, XP1_IFS_HANDLES included: the layers of
// this module are IFS layers, which hand out the lower provider's handles
// (see PassThrough).
//
// Errors: a nil catalog, an empty path or name, an empty over, a repeated
// id, an id that is not installed or is a layer entry, and a chain that
// would exceed MAX_PROTOCOL_CHAIN (7) entries are WSAEINVAL; so are a layer
// or chain GUID already installed. On failure nothing stays installed (an
// error of the last step, the reordering, leaves the entries installed in
// catalog order after one retry and is returned).
func InstallLayer(cat *Catalog, layerGUID, chainGUID wsa.GUID, path, name string, over []uint32) error {
	if cat == nil || path == "" || name == "" || len(over) == 0 || layerGUID == chainGUID {
		return wsa.WSAEINVAL
	}
	below := make([]wsa.ProtocolInfo, 0, len(over))
	for i, id := range over {
		if slices.Contains(over[:i], id) {
			return wsa.WSAEINVAL
		}
		e, ok := cat.ByID(id)
		if !ok || e.Info.IsLayered() {
			return wsa.WSAEINVAL
		}
		if chainLen(&e.Info)+1 > wsa.MAX_PROTOCOL_CHAIN {
			return wsa.WSAEINVAL
		}
		below = append(below, e.Info)
	}

	layer := below[0]
	layer.ProtocolChain = wsa.ProtocolChain{ChainLen: wsa.LAYERED_PROTOCOL}
	layer.ProviderFlags |= wsa.PFL_HIDDEN
	layer.ProtocolName = cutName(name)
	if err := cat.WSCInstallProvider(layerGUID, path, []wsa.ProtocolInfo{layer}); err != nil {
		return err
	}
	layerID, ok := LayerEntryID(cat, layerGUID)
	if !ok { // removed meanwhile by another writer
		return wsa.WSAEINVAL
	}

	chains := make([]wsa.ProtocolInfo, len(below))
	for i, b := range below {
		c := b
		c.ProtocolChain = wsa.ProtocolChain{ChainLen: int32(chainLen(&b) + 1)}
		c.ProtocolChain.ChainEntries[0] = layerID
		if b.IsBase() {
			c.ProtocolChain.ChainEntries[1] = b.CatalogEntryId
		} else {
			copy(c.ProtocolChain.ChainEntries[1:], b.ProtocolChain.ChainEntries[:b.ProtocolChain.ChainLen])
		}
		c.ProtocolName = cutName(name + " over [" + b.ProtocolName + "]")
		chains[i] = c
	}
	if err := cat.WSCInstallProvider(chainGUID, path, chains); err != nil {
		_ = cat.WSCDeinstallProvider(layerGUID)
		return err
	}

	// Chains first. Another writer may change the catalog between the
	// enumeration and the write (WSAEINVAL): try once more.
	var err error
	for range 2 {
		all := cat.WSCEnumProtocols(nil)
		order := make([]uint32, 0, len(all))
		for _, p := range all {
			if p.ProviderId == chainGUID {
				order = append(order, p.CatalogEntryId)
			}
		}
		for _, p := range all {
			if p.ProviderId != chainGUID {
				order = append(order, p.CatalogEntryId)
			}
		}
		if err = cat.WSCWriteProviderOrder(order); err == nil {
			return nil
		}
	}
	return err
}

// RemoveLayer removes what InstallLayer installed: the chain entries of
// chainGUID, then the layer entry of layerGUID. Chains other layers built on
// top of these chains stay, as in Windows (selecting one fails). It returns
// the first error (WSAEINVAL for a GUID not installed) after trying both.
func RemoveLayer(cat *Catalog, layerGUID, chainGUID wsa.GUID) error {
	if cat == nil {
		return wsa.WSAEINVAL
	}
	err1 := cat.WSCDeinstallProvider(chainGUID)
	err2 := cat.WSCDeinstallProvider(layerGUID)
	if err1 != nil {
		return err1
	}
	return err2
}

// LayerEntryID returns the catalog id of the layer entry (ChainLen 0) of
// provider id layerGUID: the id protocol chains name the layer by.
func LayerEntryID(cat *Catalog, layerGUID wsa.GUID) (uint32, bool) {
	for _, e := range cat.Entries() {
		if e.Info.ProviderId == layerGUID && e.Info.IsLayered() {
			return e.Info.CatalogEntryId, true
		}
	}
	return 0, false
}

// ChainPosition returns the index of catalog id layerID in the protocol
// chain of info, or -1 if info is not a chain (ChainLen 2 to
// MAX_PROTOCOL_CHAIN) or does not hold it.
func ChainPosition(info *wsa.ProtocolInfo, layerID uint32) int {
	n := info.ProtocolChain.ChainLen
	if n < 2 || n > wsa.MAX_PROTOCOL_CHAIN {
		return -1
	}
	for i, id := range info.ProtocolChain.ChainEntries[:n] {
		if id == layerID {
			return i
		}
	}
	return -1
}

// chainLen is the number of catalog entries a socket of p goes through: 1
// for a base entry, ChainLen for a chain.
func chainLen(p *wsa.ProtocolInfo) int {
	if p.IsBase() {
		return 1
	}
	return int(p.ProtocolChain.ChainLen)
}

// cutName cuts a protocol name to WSAPROTOCOL_LEN UTF-16 units.
func cutName(s string) string {
	u := utf16.Encode([]rune(s))
	if len(u) <= wsa.WSAPROTOCOL_LEN {
		return s
	}
	u = u[:wsa.WSAPROTOCOL_LEN]
	if utf16.IsSurrogate(rune(u[len(u)-1])) {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}

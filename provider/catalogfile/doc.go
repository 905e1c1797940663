// Package catalogfile keeps a protocol catalog (provider.Catalog) in a file:
// the analog of Windows' Protocol_Catalog9 registry key (spec §3.6), which
// ws2_32 loads at start, every WSC* function rewrites, and ws2_32 watches for
// changes.
//
// # The file
//
// The file is JSON, written in one fixed canonical form:
//
//	{
//	  "format": "ws2-protocol-catalog",
//	  "version": 1,
//	  "Serial_Access_Num": 3,
//	  "Next_Catalog_Entry_ID": 1005,
//	  "Num_Catalog_Entries": 4,
//	  "Catalog_Entries": [
//	    {
//	      "ProviderPath": "ws2/netstack",
//	      "dwServiceFlags1": "0x00020066",
//	      "dwServiceFlags2": "0x00000000",
//	      … every other WSAPROTOCOL_INFOW field, in the structure's order,
//	      under its Windows name …
//	      "ProtocolChain": {"ChainLen": 1, "ChainEntries": [1001, 0, 0, 0, 0, 0, 0]},
//	      …
//	      "szProtocol": "MSAFD Tcpip [TCP/IP]"
//	    },
//	    …
//	  ],
//	  "sha256": "…"
//	}
//
// The entries are in catalog order (enumeration order and selection
// priority); each is a PackedCatalogItem: the provider path and every field
// of WSAPROTOCOL_INFOW, flags in hex, the provider GUID in Windows' string
// form, the chain with all seven slots. Layers (ChainLen 0), chains and
// hidden entries are entries like any other. Next_Catalog_Entry_ID is kept,
// so ids are never reused while the file lives; Serial_Access_Num is bumped
// by every write.
//
// Why JSON and not the 628-byte binary WSAPROTOCOL_INFOW (wsa.Marshal) that
// Windows packs into the registry: the catalog is administered data, and a
// text form with the Windows field names can be read, diffed and reviewed
// with ordinary tools (`ws2d catalog show` prints it the netsh way). What
// the binary form gives — a fixed layout, no ambiguity — the canonical form
// gives too: the file is accepted only if it is byte for byte what Marshal
// writes for its content, and it ends with a SHA-256 of everything before
// the "sha256" member. So a bit flip, a truncation at any length, a hand
// edit or a torn write is detected (ErrCorrupt) rather than half-read; the
// file is not meant to be edited by hand (use `ws2d catalog`). The envelope
// (JSON object, "format", "version", the sha256 trailer) is fixed for all
// versions: a well-formed file of another version is ErrVersion, a
// well-formed file of another format ErrNotCatalog. A refused file is never
// written to: changes, Save and Reset fail on it and leave its bytes as they
// are (Quarantine moves it aside on request).
//
// # Writes
//
// Every write is atomic: a temporary file in the same directory, written,
// fsynced, renamed over the catalog file, then the directory fsynced. A
// reader therefore sees the old file or the new one, never a mix, and
// readers take no lock.
//
// # Concurrent writers
//
// A change is never applied to the copy a writer happens to hold, which may
// be stale, but to the file's current content:
//
//  1. take an exclusive flock(2) on PATH.lock (made on first use, never
//     removed; flock locks belong to open file descriptions, so two File
//     values in one process exclude each other as two processes do);
//  2. read and verify the file;
//  3. apply the operation (WSCInstallProvider, …, or a whole Update
//     function) to a scratch catalog holding that content;
//  4. write the result as serial+1 — but only if the file still holds the
//     bytes read in step 2 (compare before the rename: optimistic
//     concurrency for a writer that ignores the lock; on a mismatch the
//     operation is redone on the new content, up to 5 times);
//  5. publish the result to the bound catalog, and unlock.
//
// So updates merge: two processes that each install a provider both find
// theirs in the file, with distinct catalog ids, whatever the interleaving.
//
// # A bound catalog
//
// Open binds a provider.Catalog — the one Sessions use — to a file: the file
// is loaded into it and the File becomes its provider.Store, so every WSC*
// call on the catalog goes through the steps above. Changes made by others
// are loaded when the catalog next changes, at Reload, or, with
// Options.Watch, at once: an inotify watch on the directory reloads the
// file whenever a new version is renamed into place (or the file is written
// in place). Every publication replaces the catalog's content with
// provider.Catalog.SetState, which fires Catalog.Changed — the source of
// WSAProviderConfigChange in package api — so a Session is told of changes
// made by other processes as of its own.
//
// Imports: provider, wsa, golang.org/x/sys/unix and the standard library.
package catalogfile

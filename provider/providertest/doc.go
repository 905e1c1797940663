// Package providertest tests Winsock providers.
//
// [Upcalls] is a complete in-memory provider.UpcallTable (handle table,
// manual-reset events, APC queue, posted messages, completed overlapped
// requests) for providers' unit tests, standing in for the api package.
//
// [Run] is the Winsock-semantics suite every base provider must pass: the
// rules of spec §5 that are provider behaviour (connect states, shutdown and
// reset, datagram truncation, the SO_REUSEADDR/SO_EXCLUSIVEADDRUSE bind
// table, IPV6_V6ONLY and dual stack, linger, MSG_PEEK and MSG_WAITALL,
// option round trips, FIONBIO and FIONREAD, accept with a condition
// function, closesocket while another goroutine is blocked; overlapped I/O
// and the extension functions, observed through Upcalls: pending and
// immediate completions, issue order, cancellation, AcceptEx, ConnectEx,
// DisconnectEx, TransmitFile, TransmitPackets, WSARecvMsg, WSASendMsg),
// table-driven with the exact Winsock errors, over IPv4 and IPv6. A
// provider's tests call Run with a [Harness] that makes its hosts; the
// overlapped cases need Host.Upcalls (they skip without it).
// [ChainHarness] runs the same suite over protocol chains: layered
// providers stacked on a base provider, started as the api starts them.
//
// Imports: provider, wsa, the standard library and testing; never api or a
// concrete provider (providers' tests import this package, not the reverse).
// Upcalls is safe for concurrent use; the suite runs its subtests in
// parallel.
package providertest

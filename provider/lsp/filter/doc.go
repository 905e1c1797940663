// Package filter is a layered service provider that allows or denies
// traffic by direction, protocol, remote address prefix and port, with
// rules from a file (the grammar is Parse's): a small firewall above the
// base provider, in the place Windows firewalls sat before WFP.
//
// Outbound: a denied connect (WSAConnect), ConnectEx, sendto (WSASendTo)
// or WSASendMsg fails at once with WSAEACCES and nothing is sent, as
// Windows does for a send the firewall blocks. The address checked is the
// one the call names; sends on a connected socket were checked at connect.
//
// Inbound connections are refused before the application sees them. accept
// and WSAAccept go through a condition function of the layer's own, which
// answers CF_REJECT for a denied peer (the base resets the connection) and
// asks the application's condition function, if any, about the others; the
// call then accepts the next connection (a non-blocking one fails
// WSAEWOULDBLOCK when no other is queued: FD_ACCEPT, select and WSAPoll,
// the base's, may announce a connection the filter then refuses).
// AcceptEx is intercepted
// (provider.PassThrough.Intercept): a completion for a denied peer is held
// back, the connection is shut down and, once it has closed, the accept
// socket is reused (DisconnectEx with TF_REUSE_SOCKET) for the next
// connection, so the application's AcceptEx completes only for an allowed
// one. Limits: the denied peer sees its connection accepted and then closed
// (the base completed the handshake before anyone could ask); if it does
// not close within Config.RejectTimeout, the AcceptEx completes with
// WSAECONNRESET instead (as for a client that reset before the accept), and
// the application recycles the socket as it does then. An AcceptEx so
// intercepted always pends (WSA_IO_PENDING), even when a connection was
// queued.
//
// Inbound datagrams from a denied source are dropped before the
// application sees them: recv, recvfrom (WSARecv, WSARecvFrom) and
// WSARecvMsg on datagram sockets receive the next datagram instead
// (overlapped ones are intercepted and re-issued). Readiness is the base's:
// select, WSAPoll and FD_READ may report a datagram the filter then drops,
// so a blocking receive can then wait, and a non-blocking one fail
// WSAEWOULDBLOCK.
//
// The filter intercepts completions, so the sockets of its chains live
// apart from the sockets made directly on the base provider: one select or
// WSAPoll call, or one AcceptEx, must not mix the two (see
// provider.PassThrough.Intercept). Where no rule could deny (for a
// direction and protocol) the layer only forwards.
//
// Rules are read at New from Config.RulesFile (or given as Config.Rules)
// and again on demand with Reload; SetRules replaces them. A new rule set
// applies from the next call of every socket. Stats counts denials.
//
// Use: New, then Register (for a catalog that already holds the layer's
// entries) or Install (Register, then provider.InstallLayer over chosen
// entries). The layer stacks with the other layers of provider/lsp in any
// order.
//
// Imports: provider, wsa and the standard library.
package filter

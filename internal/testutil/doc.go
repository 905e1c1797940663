// Package testutil holds test support shared by the tests of several
// packages of this module: a goroutine leak check, a locked buffer, a
// retrying dialer, a one-time build of a command for tests that run it
// (also from the children that netns.Enter starts), IPv6 DAD switches for a
// test's network namespace, a pcap file check, random payloads, and a fake
// testing.TB for testing helpers like these.
//
// Only tests import it; production code never does.
//
// Layering: it may import the standard library, golang.org/x/sys and
// internal/netns, and nothing else of this module: no api, provider, stack
// or tun, so that the tests of any package can use it without a cycle.
// Tests that need one of those packages keep their helpers for it at home.
package testutil

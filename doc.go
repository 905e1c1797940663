// Package ws2 assembles Winsock 2 instances: a userspace TCP/IP stack, a
// protocol catalog with the netstack base provider installed, and an
// api.Session over them, in one call.
//
// It is the convenience layer above the architecture of DESIGN.md: programs
// that want more control build the same pieces themselves from packages
// stack, provider, provider/netstack and api.
package ws2

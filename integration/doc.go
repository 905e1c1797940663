// Package integration holds ws2's end-to-end tests: whole paths from the
// Winsock API down to packets and back, with real clients.
//
// What it tests:
//
//   - The ws2d binary on a real TUN device (TestWs2dEcho): it is built once,
//     started with IPv4 and IPv6 addresses on both sides of the TUN, and
//     real kernel-side clients (socat, and Go's net package) talk to its
//     echo service over TCP (1 MiB of random data, compared by SHA-256) and
//     UDP (datagrams from 1 byte to beyond the MTU); then SIGTERM must stop
//     it with exit status 0 and remove the device.
//   - A userspace host made in-process with ws2.NewTUN reaching kernel
//     services through the same kind of device (TestTUNOutbound).
//   - ICMP echo across a TUN both ways (TestRawPingTUN, raw_linux_test.go):
//     raw ICMP and ICMPv6 sockets of a ws2 host ping the kernel's side
//     through the api, and the kernel's ping(8) (iputils-ping) pings the
//     host, whose stack answers.
//   - Two userspace hosts joined by an in-memory link (ws2.NewPipe), one
//     echoing for the other through the api package alone (TestPipeEcho).
//     This one needs no privileges.
//   - Overlapped completion rules that need the api and the netstack
//     provider together (TestOverlapped…, overlapped_test.go, loopback, no
//     privileges): an OVERLAPPED reissued as soon as its completion is seen
//     (event, HasOverlappedIoCompleted, completion port, completion
//     routine), and a datagram truncated by an overlapped receive, at once
//     or pending, delivered with WSAEMSGSIZE / ERROR_MORE_DATA.
//   - No busy waiting (TestIdle…, idle_test.go): 10,000 idle sockets (5,000
//     loopback pairs) registered with WSAEventSelect, in a blocked WSAPoll,
//     and with pending zero-byte overlapped receives on a completion port;
//     the process's CPU time over a 2 s idle interval must stay under 5% of
//     one CPU (a ratio of CPU time to wall time). Skipped with -short.
//
// How it isolates itself: every test that needs a TUN device calls
// internal/netns.Enter, which re-runs that test alone in a new network and
// mount namespace (unshare --net --mount). The device, its addresses and
// routes, and all traffic exist only in that namespace, which vanishes with
// the test; nothing is configured in the machine's own namespace and no
// packet is sent outside it. The IPv6 DAD setting is changed in the test's
// namespace only. Without root, /dev/net/tun, unshare(1), socat or ping these
// tests skip, or fail when WS2_REQUIRE_TUN=1 (as CI sets it).
//
// Every step has a timeout; waiting is done with bounded retry loops, never
// with fixed sleeps; processes and hosts are stopped in t.Cleanup.
package integration

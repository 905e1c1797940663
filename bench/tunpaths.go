package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/ws2go/ws2/internal/netns"
)

// TUN path names: the api over netstack on a TUN device whose kernel side
// sits in a network namespace the suite creates, with a kernel program (Go's
// net) on that side; and the same kernel program against a kernel peer
// across a veth pair between two namespaces (the baseline).
const (
	// PathTUNWater: the TUN opened through songgao/water (tun.Config
	// without Offload): one IP packet per read and write, the kernel
	// segments and checksums in software.
	PathTUNWater = "tun-water"
	// PathTUNOffload: the same with tun.Config{Offload: true}
	// (IFF_VNET_HDR, TSO/GRO): the fast TUN path.
	PathTUNOffload = "tun-offload"
	// PathVeth: kernel to kernel over a veth pair between two namespaces
	// (baseline of the TUN paths).
	PathVeth = "veth"
)

// Directions of the TUN paths: which side dials. On veth both sides are the
// kernel; "the ws2 side" is then the peer namespace, so its rows have the
// same shape as the TUN rows they are compared with.
const (
	// DirK2W: a kernel client against a server on ws2.
	DirK2W = "k2w"
	// DirW2K: a client on ws2 against a kernel server.
	DirW2K = "w2k"
)

// TUNPaths lists the TUN-family paths, in the order they run.
func TUNPaths() []string {
	ps := []string{PathTUNWater}
	if offloadBuilt {
		ps = append(ps, PathTUNOffload)
	}
	return append(ps, PathVeth)
}

// TUNUnavailable tells why the TUN paths cannot run here ("" if they can):
// they need root (CAP_SYS_ADMIN to create network namespaces, CAP_NET_ADMIN
// inside them) and /dev/net/tun. The answer is probed once and cached.
func TUNUnavailable() string { return tunUnavailable() }

// RequireTUN reports whether WS2_REQUIRE_TUN=1 is set: the TUN benchmarks
// then fail instead of skipping when TUNUnavailable is not empty.
func RequireTUN() bool { return os.Getenv(netns.RequireEnv) == "1" }

// withTUNEnv is withEnv for the TUN paths: it skips (or fails, with
// WS2_REQUIRE_TUN=1) when namespaces or TUN devices are unavailable.
func withTUNEnv(path, dir string, mtu uint32, f func(b *testing.B, env Env)) func(b *testing.B) {
	return func(b *testing.B) {
		if reason := TUNUnavailable(); reason != "" {
			if RequireTUN() && FailureHook != nil {
				FailureHook(reason)
			}
			netns.Require(b, "bench: "+reason)
			return
		}
		env, err := NewTUNEnv(path, dir, mtu)
		if err != nil {
			fatalf(b, "%v", err)
		}
		defer func() {
			if err := env.Close(); err != nil {
				errorf(b, "%v", err)
			}
		}()
		f(b, env)
	}
}

// tunMTUs are the link MTUs of the TUN paths' bulk workload: 1500, and the
// largest a TUN device takes (65535) in full mode.
func tunMTUs() []uint32 {
	if small() {
		return []uint32{1500}
	}
	return []uint32{1500, 65535}
}

// tunCases returns the TUN-family benchmarks: each workload, both
// directions, every TUN path and veth in the same shape.
func tunCases() []Case {
	var cs []Case
	add := func(workload string, metrics []string, mtu uint32, ps []Param, f func(b *testing.B, env Env)) {
		maxN := 0
		if workload == "ConnSetup" {
			maxN = ConnSetupMaxN
		}
		for _, dir := range []string{DirK2W, DirW2K} {
			for _, path := range TUNPaths() {
				cs = append(cs, Case{
					Workload: workload, Path: path,
					Params:  mtuParams(mtu, append([]Param{{"dir", dir}}, ps...)...),
					Metrics: metrics,
					TUN:     true,
					MaxN:    maxN,
					Run:     withTUNEnv(path, dir, mtu, f),
				})
			}
		}
	}
	for _, streams := range []int{1, 4} {
		for _, mtu := range tunMTUs() {
			add("TCPBulk", []string{"Gbit/s"}, mtu, []Param{{"streams", fmt.Sprint(streams)}},
				func(b *testing.B, env Env) { BulkTCP(b, env, streams) })
		}
	}
	for _, size := range []int{1, 1024} {
		add("Latency", []string{"p50-µs", "p99-µs"}, 1500, []Param{{"size", fmt.Sprint(size)}},
			func(b *testing.B, env Env) { Latency(b, env, size) })
	}
	add("ConnSetup", []string{"conns/s"}, 1500, nil, ConnSetup)
	for _, size := range []int{64, 1400} {
		add("UDP", []string{"dgrams/s", "loss-%"}, 1500, []Param{{"size", fmt.Sprint(size)}},
			func(b *testing.B, env Env) { UDP(b, env, size) })
	}
	return cs
}

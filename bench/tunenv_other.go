//go:build !linux

package bench

import (
	"errors"
	"runtime"
)

const tunIfName = "ws2b0"

func tunUnavailable() string {
	return "network namespaces and TUN devices need Linux, not " + runtime.GOOS
}

// NewTUNEnv fails: the TUN paths need Linux.
func NewTUNEnv(path, dir string, mtu uint32) (Env, error) {
	return nil, errors.New("bench: " + tunUnavailable())
}

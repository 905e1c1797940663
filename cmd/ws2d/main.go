package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ws2go/ws2"
	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/tun"
)

// The echo service runs on the Winsock API alone.
var _ Winsock = (*api.Session)(nil)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the host could not be brought up or stopped cleanly
	exitUsage = 2 // bad command line
)

// stopTimeout bounds a clean stop; past it ws2d gives up and exits 1.
const stopTimeout = 15 * time.Second

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, sigs))
}

// run is ws2d: it parses args, brings the host up, serves until a value
// arrives on sigs, stops, and returns the exit status.
func run(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	if len(args) > 0 && args[0] == "catalog" {
		return runCatalog(args[1:], stdout, stderr)
	}
	cfg, err := parseFlags(args, stdout, stderr)
	switch {
	case errors.Is(err, errHelp):
		return exitOK
	case err != nil:
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	return serve(cfg, log, sigs, nil)
}

// serve runs ws2d with a parsed configuration. If ready is not nil it is
// closed once the services are up (for tests).
func serve(cfg *config, log *slog.Logger, sigs <-chan os.Signal, ready chan<- struct{}) int {
	tc := ws2.TUNConfig{
		Name:        cfg.tun,
		MTU:         cfg.mtu,
		Addrs:       cfg.addrs,
		KernelAddrs: cfg.kernelAddrs,
		Offload:     cfg.tunOffload,
	}
	var pcap *pcapFile
	if cfg.pcap != "" {
		p, err := createPcap(cfg.pcap)
		if err != nil {
			log.Error("cannot create the pcap file", "err", err)
			return exitError
		}
		pcap = p
		tc.Pcap = p
	}
	closePcap := func() int {
		if pcap == nil {
			return exitOK
		}
		if err := pcap.Close(); err != nil {
			log.Error("pcap file", "err", err)
			return exitError
		}
		return exitOK
	}

	host, err := ws2.NewTUN(tc)
	if err != nil {
		msg := "cannot bring the host up"
		if hint := openHint(err); hint != "" {
			msg += ": " + hint
		}
		log.Error(msg, "device", cfg.tun, "err", err)
		closePcap()
		return exitError
	}

	stopCatalog, err := useCatalogFile(cfg.catalog, cfg.filterRules, host.Catalog, log)
	if err != nil {
		log.Error("cannot load the catalog file", "path", cfg.catalog, "err", err)
		host.Close()
		closePcap()
		return exitError
	}

	var binds []netip.AddrPort
	v4, v6 := cfg.families()
	if v4 {
		binds = append(binds, netip.AddrPortFrom(netip.IPv4Unspecified(), cfg.echoPort))
	}
	if v6 {
		binds = append(binds, netip.AddrPortFrom(netip.IPv6Unspecified(), cfg.echoPort))
	}
	echo, err := StartEcho(host.Session, binds, log)
	if err != nil {
		log.Error("cannot start the echo service", "err", err)
		host.Close()
		stopCatalog()
		closePcap()
		return exitError
	}
	attrs := []any{
		"device", cfg.tun,
		"addrs", prefixes(cfg.addrs),
		"kernel_addrs", prefixes(cfg.kernelAddrs),
		"mtu", cfg.mtu,
		"echo", fmt.Sprintf("tcp/%d,udp/%d", cfg.echoPort, cfg.echoPort),
	}
	if cfg.tunOffload {
		attrs = append(attrs, "offload", host.TUN.Offload())
		if err := host.TUN.OffloadError(); err != nil {
			log.Warn("TUN offload refused; using the plain driver", "device", cfg.tun, "err", err)
		}
	}
	if cfg.pcap != "" {
		attrs = append(attrs, "pcap", cfg.pcap)
	}
	if cfg.catalog != "" {
		attrs = append(attrs, "catalog", cfg.catalog)
	}
	log.Info("ws2d up", attrs...)
	if ready != nil {
		close(ready)
	}

	sig := <-sigs
	log.Info("stopping", "signal", sig)
	done := make(chan int, 1)
	go func() {
		code := exitOK
		if err := echo.Close(); err != nil {
			log.Error("stopping the echo service", "err", err)
			code = exitError
		}
		// WSACleanup, then the stack, then the device (which the kernel
		// deletes with its addresses and routes).
		if err := host.Close(); err != nil {
			log.Error("stopping the host", "err", err)
			code = exitError
		}
		stopCatalog()
		if c := closePcap(); c != exitOK {
			code = c
		}
		done <- code
	}()
	select {
	case code := <-done:
		if code == exitOK {
			log.Info("stopped")
		}
		return code
	case <-time.After(stopTimeout):
		log.Error("clean stop timed out", "after", stopTimeout)
		return exitError
	}
}

// openHint says what is missing when the TUN device cannot be opened.
func openHint(err error) string {
	switch {
	case errors.Is(err, tun.ErrPermission):
		return "needs CAP_NET_ADMIN (run as root)"
	case errors.Is(err, tun.ErrNoDevice):
		return "/dev/net/tun missing: modprobe tun"
	case errors.Is(err, tun.ErrBusy):
		return "the interface name is taken by another device: choose another --tun"
	case errors.Is(err, tun.ErrBadName):
		return "choose another --tun name"
	}
	return ""
}

func prefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Command protoindep is a protocol-independent Winsock program, the point of
// Winsock 2: it never names a protocol. It enumerates the catalog with
// WSAEnumProtocols, picks the first entry whose attributes it needs — a
// reliable, ordered stream (XP1_GUARANTEED_DELIVERY and XP1_GUARANTEED_ORDER,
// neither XP1_MESSAGE_ORIENTED nor XP1_CONNECTIONLESS), then a
// message-oriented, connectionless one — makes its sockets with
// WSASocket(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO,
// &info, 0, 0), and runs an echo exchange over each on the loopback address
// of the entry's family.
//
// Run (Exchange) uses the api alone; the program builds the catalog:
//
//	go run ./examples/protoindep                      # netstack: the userspace stack
//	go run ./examples/protoindep -catalog host        # the host kernel's sockets
//	go run ./examples/protoindep -catalog chain -v    # trace over netstack, the trace on stderr
//	go run ./examples/protoindep -catalog hostchain   # trace over host
//	go run ./examples/protoindep -catalog both        # netstack's entries, then the host's
//	go run ./examples/protoindep -catalog hostfirst   # the same, host's first (WSCWriteProviderOrder)
//
// The exchange is the same over each; only the names of the entries it
// picked differ.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/ws2go/ws2/api"
	"github.com/ws2go/ws2/provider"
	"github.com/ws2go/ws2/provider/host"
	"github.com/ws2go/ws2/provider/lsp/trace"
	"github.com/ws2go/ws2/provider/netstack"
	"github.com/ws2go/ws2/stack"
	"github.com/ws2go/ws2/wsa"
)

func main() {
	name := flag.String("catalog", "netstack", "the catalog: netstack, host, chain (trace over netstack), hostchain (trace over host), both (netstack then host) or hostfirst (host then netstack)")
	verbose := flag.Bool("v", false, "log the trace layer's records to stderr")
	flag.Parse()
	var traceTo io.Writer
	if *verbose {
		traceTo = os.Stderr
	}
	cat, closeCat, err := NewCatalog(*name, traceTo)
	if err != nil {
		log.Fatal(err)
	}
	defer closeCat()
	s, err := api.WSAStartup(wsa.WINSOCK_VERSION, cat)
	if err != nil {
		log.Fatal(err)
	}
	defer s.WSACleanup()
	if err := Run(os.Stdout, s); err != nil {
		log.Fatal(err)
	}
}

// Catalogs are the catalogs NewCatalog builds.
var Catalogs = []string{"netstack", "host", "chain", "hostchain", "both", "hostfirst"}

// NewCatalog builds a catalog: netstack (on a fresh loopback stack), host,
// or either with the trace layer over all its entries (chain, hostchain),
// or both base providers in one catalog, netstack's entries first (both) or
// the host's first (hostfirst),
// its records going to traceTo (nil: discarded). The function returned
// releases what the catalog runs on.
func NewCatalog(name string, traceTo io.Writer) (*provider.Catalog, func(), error) {
	cat := provider.NewCatalog(provider.NewRegistry())
	done := func() {}
	switch name {
	case "netstack", "chain":
		st, err := stack.NewLoopback()
		if err != nil {
			return nil, nil, err
		}
		done = st.Close
		if err := netstack.Install(cat, netstack.DefaultPath, st); err != nil {
			st.Close()
			return nil, nil, err
		}
	case "host", "hostchain":
		if err := host.Install(cat, host.DefaultPath); err != nil {
			return nil, nil, err
		}
	case "both", "hostfirst":
		st, err := stack.NewLoopback()
		if err != nil {
			return nil, nil, err
		}
		done = st.Close
		err = netstack.Install(cat, netstack.DefaultPath, st)
		if err == nil {
			err = host.Install(cat, host.DefaultPath)
		}
		if err == nil && name == "hostfirst" {
			// WSCWriteProviderOrder: the host's entries before netstack's.
			var hostIDs, rest []uint32
			for _, p := range cat.WSCEnumProtocols(nil) {
				if strings.HasPrefix(p.ProtocolName, "ws2 Host") {
					hostIDs = append(hostIDs, p.CatalogEntryId)
				} else {
					rest = append(rest, p.CatalogEntryId)
				}
			}
			err = cat.WSCWriteProviderOrder(append(hostIDs, rest...))
		}
		if err != nil {
			st.Close()
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("unknown catalog %q (want one of %v)", name, Catalogs)
	}
	if name == "chain" || name == "hostchain" {
		var ids []uint32
		for _, p := range cat.WSCEnumProtocols(nil) {
			ids = append(ids, p.CatalogEntryId)
		}
		var h slog.Handler = slog.DiscardHandler
		if traceTo != nil {
			h = slog.NewTextHandler(traceTo, nil)
		}
		if _, err := trace.Install(cat, trace.Config{Handler: h}, ids); err != nil {
			done()
			return nil, nil, err
		}
	}
	return cat, done, nil
}

// Run enumerates the protocols of s, picks a reliable stream and a
// connectionless message protocol by their attributes, and runs an echo
// exchange over each, reporting to w.
func Run(w io.Writer, s *api.Session) error {
	protos, err := enumProtocols(s)
	if err != nil {
		return err
	}
	stream, ok := pick(protos, func(f uint32) bool {
		return f&(wsa.XP1_GUARANTEED_DELIVERY|wsa.XP1_GUARANTEED_ORDER) == wsa.XP1_GUARANTEED_DELIVERY|wsa.XP1_GUARANTEED_ORDER &&
			f&(wsa.XP1_MESSAGE_ORIENTED|wsa.XP1_CONNECTIONLESS) == 0
	})
	if !ok {
		return errors.New("no reliable, ordered stream protocol in the catalog")
	}
	dgram, ok := pick(protos, func(f uint32) bool {
		return f&(wsa.XP1_MESSAGE_ORIENTED|wsa.XP1_CONNECTIONLESS) == wsa.XP1_MESSAGE_ORIENTED|wsa.XP1_CONNECTIONLESS
	})
	if !ok {
		return errors.New("no connectionless message protocol in the catalog")
	}
	msg := []byte("hello, protocol independence")
	n, err := streamEcho(s, &stream, msg)
	if err != nil {
		return fmt.Errorf("stream over %q: %w", stream.ProtocolName, err)
	}
	report(w, "stream", &stream, n)
	n, err = datagramEcho(s, &dgram, msg)
	if err != nil {
		return fmt.Errorf("datagram over %q: %w", dgram.ProtocolName, err)
	}
	report(w, "datagram", &dgram, n)
	return nil
}

func report(w io.Writer, kind string, p *wsa.ProtocolInfo, n int) {
	fmt.Fprintf(w, "%s: %q (af %d, type %d, protocol %d, chain length %d): %d bytes echoed\n",
		kind, p.ProtocolName, p.AddressFamily, p.SocketType, p.Protocol, p.ProtocolChain.ChainLen, n)
}

// enumProtocols is the two-call WSAEnumProtocols idiom: ask for the size,
// then fill.
func enumProtocols(s *api.Session) ([]wsa.ProtocolInfo, error) {
	var size uint32
	if _, err := s.WSAEnumProtocols(nil, nil, &size); !errors.Is(err, wsa.WSAENOBUFS) {
		return nil, fmt.Errorf("WSAEnumProtocols: %v", err)
	}
	buf := make([]wsa.ProtocolInfo, size/wsa.SizeofProtocolInfo)
	n, err := s.WSAEnumProtocols(nil, buf, &size)
	if err != nil {
		return nil, fmt.Errorf("WSAEnumProtocols: %w", err)
	}
	return buf[:n], nil
}

// pick returns the first entry, in catalog order, of an IP family whose
// service flags satisfy want.
func pick(protos []wsa.ProtocolInfo, want func(flags uint32) bool) (wsa.ProtocolInfo, bool) {
	for _, p := range protos {
		if (p.AddressFamily == wsa.AF_INET || p.AddressFamily == wsa.AF_INET6) && want(p.ServiceFlags1) {
			return p, true
		}
	}
	return wsa.ProtocolInfo{}, false
}

// loopback is the loopback address of p's family, port 0.
func loopback(p *wsa.ProtocolInfo) wsa.Sockaddr {
	if p.AddressFamily == wsa.AF_INET6 {
		return &wsa.SockaddrInet6{Addr: [16]byte{15: 1}}
	}
	return &wsa.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
}

// socket is WSASocket with every parameter from the protocol info.
func socket(s *api.Session, p *wsa.ProtocolInfo) (wsa.Socket, error) {
	return s.WSASocket(wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, wsa.FROM_PROTOCOL_INFO, p, 0, 0)
}

func streamEcho(s *api.Session, p *wsa.ProtocolInfo, msg []byte) (int, error) {
	l, err := socket(s, p)
	if err != nil {
		return 0, err
	}
	defer s.Closesocket(l)
	if err := s.Bind(l, loopback(p)); err != nil {
		return 0, err
	}
	if err := s.Listen(l, wsa.SOMAXCONN); err != nil {
		return 0, err
	}
	addr, err := s.Getsockname(l)
	if err != nil {
		return 0, err
	}
	c, err := socket(s, p)
	if err != nil {
		return 0, err
	}
	defer s.Closesocket(c)
	if err := s.Connect(c, addr); err != nil {
		return 0, err
	}
	a, _, err := s.Accept(l)
	if err != nil {
		return 0, err
	}
	defer s.Closesocket(a)
	if _, err := s.Send(c, msg, 0); err != nil {
		return 0, err
	}
	if err := s.Shutdown(c, wsa.SD_SEND); err != nil {
		return 0, err
	}
	// The server echoes until the client's FIN, then closes.
	buf := make([]byte, 256)
	for {
		n, err := s.Recv(a, buf, 0)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			break
		}
		if _, err := s.Send(a, buf[:n], 0); err != nil {
			return 0, err
		}
	}
	if err := s.Shutdown(a, wsa.SD_SEND); err != nil {
		return 0, err
	}
	var got []byte
	for {
		n, err := s.Recv(c, buf, 0)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, msg) {
		return 0, fmt.Errorf("echo %q, want %q", got, msg)
	}
	return len(got), nil
}

func datagramEcho(s *api.Session, p *wsa.ProtocolInfo, msg []byte) (int, error) {
	srv, err := socket(s, p)
	if err != nil {
		return 0, err
	}
	defer s.Closesocket(srv)
	if err := s.Bind(srv, loopback(p)); err != nil {
		return 0, err
	}
	addr, err := s.Getsockname(srv)
	if err != nil {
		return 0, err
	}
	c, err := socket(s, p)
	if err != nil {
		return 0, err
	}
	defer s.Closesocket(c)
	if _, err := s.Sendto(c, msg, 0, addr); err != nil {
		return 0, err
	}
	buf := make([]byte, 256)
	n, from, err := s.Recvfrom(srv, buf, 0)
	if err != nil {
		return 0, err
	}
	if _, err := s.Sendto(srv, buf[:n], 0, from); err != nil {
		return 0, err
	}
	n, _, err = s.Recvfrom(c, buf, 0)
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(buf[:n], msg) {
		return 0, fmt.Errorf("echo %q, want %q", buf[:n], msg)
	}
	return int(n), nil
}

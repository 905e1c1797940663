package wsnet_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	ws2 "github.com/ws2go/ws2"
	"github.com/ws2go/ws2/wsnet"
)

// serveHTTP runs an http.Server on a wsnet listener of srv and returns a
// client whose transport dials through cli.
func serveHTTP(t *testing.T, srv, cli *ws2.Host, addr string, h http.Handler) (*http.Client, string) {
	t.Helper()
	ln, err := wsnet.Listen(srv.Session, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
	d := &wsnet.Dialer{Session: cli.Session}
	tr := &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: false}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, "http://" + ln.Addr().String()
}

// TestHTTP serves a 1 MiB body and a POST echo over the userspace stack:
// on one loopback host, and between the two hosts of a pipe.
func TestHTTP(t *testing.T) {
	body := make([]byte, 1<<20)
	rand.Read(body)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /blob", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })

	lo := loopback(t)
	a, b, err := ws2.NewPipe(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })

	for _, tc := range []struct {
		name     string
		srv, cli *ws2.Host
		addr     string
	}{
		{"loopback", lo, lo, "127.0.0.1:0"},
		{"pipe-ipv6", b, a, "[2001:db8::2]:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, base := serveHTTP(t, tc.srv, tc.cli, tc.addr, mux)
			for i := range 3 { // the second and third reuse the connection
				resp, err := client.Get(base + "/blob")
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, body) {
					t.Fatalf("GET %d: status %d, %d bytes, %v", i, resp.StatusCode, len(got), err)
				}
			}
			resp, err := client.Post(base+"/echo", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("POST echo: %d bytes, %v", len(got), err)
			}
		})
	}
}

// TestHTTPDialTimeout: the client's own timeout cancels a dial that
// cannot complete.
func TestHTTPDialTimeout(t *testing.T) {
	a, b, err := ws2.NewPipe(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	d := &wsnet.Dialer{Session: a.Session}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 200 * time.Millisecond}
	_, err = client.Get("http://198.18.0.99/")
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("GET of an unreachable host: %v", err)
	}
}

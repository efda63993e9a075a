// Reference client for the proxy and real-server tests: an HTTPS GET with net/http's default
// transport, so the proxy comes from HTTPS_PROXY/NO_PROXY (ProxyFromEnvironment), the roots from
// the system pool, HTTP/2 when the server picks h2 (the default transport attempts it) and
// redirects followed, exactly as Ollama's registry client does. Prints Go's error text, or "ok";
// with a second argument "detail", "ok PROTO STATUS FINAL-HOST" (e.g. "ok HTTP/2.0 200 blobs.test:443").
// HTTPSGET_RESOLVE="name=address,..." points names at addresses (curl's --resolve, for loopback
// tests); the transport is otherwise the default one, cloned, as Ollama's own tests hook
// makeRequest (server/images.go: &http.Client{CheckRedirect: ...} on http.DefaultTransport, which
// attempts HTTP/2; so does a clone).
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: httpsget https://HOST:PORT/ [detail]")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	if spec := os.Getenv("HTTPSGET_RESOLVE"); spec != "" {
		to := map[string]string{}
		for _, pair := range strings.Split(spec, ",") {
			if name, addr, ok := strings.Cut(pair, "="); ok {
				to[name] = addr
			}
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		t.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(address); err == nil {
				if addr, ok := to[host]; ok {
					address = net.JoinHostPort(addr, port)
				}
			}
			return dialer.DialContext(ctx, network, address)
		}
		client.Transport = t
	}
	resp, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Print(err.Error())
		os.Exit(1)
	}
	resp.Body.Close()
	if len(os.Args) == 3 {
		fmt.Printf("ok %s %d %s", resp.Proto, resp.StatusCode, resp.Request.URL.Host)
		return
	}
	fmt.Print("ok")
}

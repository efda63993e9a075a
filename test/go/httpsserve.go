// Reference server for the tests: Go's own net/http TLS server, as most HTTPS services written in
// Go run (HTTP/2 by default: ALPN h2, http/1.1). It serves one of
//   - ollama:   an Ollama-like API (/, /api/version, /api/tags)
//   - registry: the pull path, a registry answering the manifest and a 307 from the blob URL to a
//               blob store on another name (second listener, own certificate), as registry.ollama.ai
//               does to Cloudflare R2 (mirrors test/helpers/registry.ts).
// Flags: -h1 turns HTTP/2 off; -close makes every answer end its connection (Connection: close,
// which Go's HTTP/2 server turns into a GOAWAY). It prints "main PORT" (and "blobs PORT"), then
// "ready", and logs each request as "seen <listener> <proto> <method> <uri> <range>" on stdout.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
)

const manifestType = "application/vnd.docker.distribution.manifest.v2+json"

var (
	mode     = flag.String("mode", "ollama", "ollama or registry")
	certFile = flag.String("cert", "", "certificate chain (PEM) of the main listener")
	keyFile  = flag.String("key", "", "its key")
	blobCert = flag.String("blob-cert", "", "registry mode: the blob store's certificate chain")
	blobKey  = flag.String("blob-key", "", "registry mode: its key")
	blobHost = flag.String("blob-host", "blobs.test", "registry mode: the blob store's name in redirects")
	h1Only   = flag.Bool("h1", false, "HTTP/1.1 only (no h2 in ALPN)")
	closeAll = flag.Bool("close", false, "every answer ends its connection")
	version  = flag.String("version", "0.40.1", "ollama mode: the version /api/version reports")
)

var out sync.Mutex

func say(format string, args ...any) {
	out.Lock()
	defer out.Unlock()
	fmt.Printf(format+"\n", args...)
}

func serve(name, cert, key string, h http.Handler) int {
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		say("seen %s %s %s %s %s", name, r.Proto, r.Method, r.URL.RequestURI(), r.Header.Get("Range"))
		if *closeAll {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: logged, TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}}
	if *h1Only {
		// A non-nil, empty map: net/http does not configure HTTP/2.
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && err != http.ErrServerClosed {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func send(w http.ResponseWriter, r *http.Request, status int, ctype, body string) {
	if ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}

func ollama() http.Handler {
	tags := `{"models":[{"name":"tiny:latest","model":"tiny:latest","modified_at":"2025-05-01T10:00:00.000000000Z","size":1234567,"digest":"` +
		strings.Repeat("a", 64) + `","details":{"format":"gguf","family":"llama","parameter_size":"1M","quantization_level":"Q4_0"}}]}`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			send(w, r, 200, "text/plain; charset=utf-8", "Ollama is running")
		case r.URL.Path == "/api/version" && r.Method == http.MethodGet:
			send(w, r, 200, "application/json; charset=utf-8", `{"version":"`+*version+`"}`)
		case r.URL.Path == "/api/tags" && r.Method == http.MethodGet:
			send(w, r, 200, "application/json; charset=utf-8", tags)
		default:
			send(w, r, 404, "text/plain", "404 page not found")
		}
	})
}

func registry(blobPort *int) http.Handler {
	small := "sha256:" + strings.Repeat("a", 64)
	big := "sha256:" + strings.Repeat("b", 64)
	manifest := `{"schemaVersion":2,"mediaType":"` + manifestType + `","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:` +
		strings.Repeat("c", 64) + `","size":485},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"` + big +
		`","size":45949216},{"mediaType":"application/vnd.ollama.image.license","digest":"` + small + `","size":11357}]}`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/library/tiny/manifests/latest" {
			send(w, r, 200, manifestType, manifest)
			return
		}
		if d, ok := strings.CutPrefix(r.URL.Path, "/v2/library/tiny/blobs/sha256:"); ok && len(d) == 64 {
			w.Header().Set("Location", fmt.Sprintf("https://%s:%d/ollama/docker/registry/v2/blobs/sha256/%s/%s/data?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=KEYID%%2F20261122&X-Amz-Signature=SECRETSIGNATURE", *blobHost, *blobPort, d[:2], d))
			send(w, r, 307, "", "")
			return
		}
		send(w, r, 404, "text/plain", "404 page not found")
	})
}

func blobs() http.Handler {
	const size = 11357
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == "bytes=0-0" {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-0/%d", size))
			send(w, r, 206, "application/octet-stream", "x")
			return
		}
		// A whole body would be a download: the doctor must never ask for one.
		send(w, r, 200, "application/octet-stream", strings.Repeat("\x00", size))
	})
}

func main() {
	flag.Parse()
	switch *mode {
	case "ollama":
		say("main %d", serve("main", *certFile, *keyFile, ollama()))
	case "registry":
		var blobPort int
		port := serve("main", *certFile, *keyFile, registry(&blobPort))
		blobPort = serve("blobs", *blobCert, *blobKey, blobs())
		say("main %d", port)
		say("blobs %d", blobPort)
	default:
		fmt.Fprintln(os.Stderr, "unknown -mode")
		os.Exit(2)
	}
	say("ready")
	// Until the test closes our stdin (or kills us).
	buf := make([]byte, 1)
	for {
		if _, err := os.Stdin.Read(buf); err != nil {
			os.Exit(0)
		}
	}
}

// Reference server for the client-certificate tests: a plain net/http TLS server (HTTP/2 on, as
// Go's default) with one tls.ClientAuthType, so the doctor is held against what a real Go server
// (Skipper, Traefik, a Go backend) does with each policy. It prints "listening ADDR" once, then
// one line per connection: "handshake peer=<subject or none>" when the handshake completed, or
// "error ..." (net/http's TLS handshake error) when it refused. Each HTTP answer says whether a
// client certificate arrived: "client-cert: <subject>" or "client-cert: none".
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

var modes = map[string]tls.ClientAuthType{
	"NoClientCert":               tls.NoClientCert,
	"RequestClientCert":          tls.RequestClientCert,
	"RequireAnyClientCert":       tls.RequireAnyClientCert,
	"VerifyClientCertIfGiven":    tls.VerifyClientCertIfGiven,
	"RequireAndVerifyClientCert": tls.RequireAndVerifyClientCert,
}

type stdoutWriter struct{}

func (stdoutWriter) Write(p []byte) (int, error) { return os.Stdout.Write(p) }

func main() {
	certFile := flag.String("cert", "", "server certificate chain (PEM)")
	keyFile := flag.String("key", "", "server key (PEM)")
	clientCA := flag.String("client-ca", "", "CA file for client certificates (also the names sent in the CertificateRequest)")
	mode := flag.String("mode", "NoClientCert", "tls.ClientAuthType name")
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	maxVersion := flag.String("max-version", "1.3", "1.2 or 1.3")
	flag.Parse()

	auth, ok := modes[*mode]
	if !ok {
		fmt.Fprintln(os.Stderr, "unknown -mode", *mode)
		os.Exit(2)
	}
	pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	config := &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: auth, MaxVersion: tls.VersionTLS13}
	if *maxVersion == "1.2" {
		config.MaxVersion = tls.VersionTLS12
	}
	if *clientCA != "" {
		pem, err := os.ReadFile(*clientCA)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		config.ClientCAs = pool
	}
	config.VerifyConnection = func(cs tls.ConnectionState) error {
		peer := "none"
		if len(cs.PeerCertificates) > 0 {
			peer = cs.PeerCertificates[0].Subject.String()
		}
		fmt.Printf("handshake peer=%s\n", peer)
		return nil
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	server := &http.Server{
		TLSConfig: config,
		ErrorLog:  log.New(stdoutWriter{}, "error ", 0),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			peer := "none"
			if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
				peer = r.TLS.PeerCertificates[0].Subject.String()
			}
			fmt.Fprintf(w, "client-cert: %s\n", peer)
		}),
	}
	if err := server.ServeTLS(ln, "", ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

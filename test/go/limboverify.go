// Reference verifier for the x509-limbo conformance test: for each SERVER testcase it does what
// crypto/tls's verifyServerCertificate does for a client (Go's own verifier, as on Linux), and
// prints one JSON line per testcase with crypto/tls's error text. Standard library only.
//
// usage: limboverify LIMBO.json NOW-RFC3339   (NOW is used when a testcase has no validation_time)
package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"time"
)

type peerName struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

type testcase struct {
	ID                      string    `json:"id"`
	ValidationKind          string    `json:"validation_kind"`
	TrustedCerts            []string  `json:"trusted_certs"`
	UntrustedIntermediates  []string  `json:"untrusted_intermediates"`
	PeerCertificate         string    `json:"peer_certificate"`
	ValidationTime          *string   `json:"validation_time"`
	ExpectedPeerName        *peerName `json:"expected_peer_name"`
}

type result struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func der(p string) []byte {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil
	}
	return block.Bytes
}

// The largest RSA key crypto/tls accepts from a server (handshake_client.go checkKeySize).
const maxRSAKeySize = 8192

func verify(tc testcase, now time.Time) error {
	roots := x509.NewCertPool()
	for _, p := range tc.TrustedCerts {
		// AppendCertsFromPEM drops what does not parse, as the system pool loader does.
		roots.AppendCertsFromPEM([]byte(p))
	}
	// What the server sends: the leaf, then the intermediates.
	presented := append([]string{tc.PeerCertificate}, tc.UntrustedIntermediates...)
	certs := make([]*x509.Certificate, len(presented))
	for i, p := range presented {
		cert, err := x509.ParseCertificate(der(p))
		if err != nil {
			return fmt.Errorf("tls: failed to parse certificate from server: %w", err)
		}
		if cert.PublicKeyAlgorithm == x509.RSA {
			if n := cert.PublicKey.(*rsa.PublicKey).N.BitLen(); n > maxRSAKeySize {
				return fmt.Errorf("tls: server sent certificate containing RSA key larger than %d bits", maxRSAKeySize)
			}
		}
		certs[i] = cert
	}
	opts := x509.VerifyOptions{Roots: roots, CurrentTime: now, Intermediates: x509.NewCertPool()}
	if tc.ExpectedPeerName != nil {
		opts.DNSName = tc.ExpectedPeerName.Value
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return &tlsVerificationError{err}
	}
	switch certs[0].PublicKey.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return fmt.Errorf("tls: server's certificate contains an unsupported type of public key: %T", certs[0].PublicKey)
	}
	return nil
}

// crypto/tls's CertificateVerificationError text.
type tlsVerificationError struct{ err error }

func (e *tlsVerificationError) Error() string {
	return fmt.Sprintf("tls: failed to verify certificate: %s", e.err)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: limboverify LIMBO.json NOW-RFC3339")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var suite struct {
		Testcases []testcase `json:"testcases"`
	}
	if err := json.Unmarshal(raw, &suite); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defaultNow, err := time.Parse(time.RFC3339, os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	for _, tc := range suite.Testcases {
		if tc.ValidationKind != "SERVER" {
			continue
		}
		now := defaultNow
		if tc.ValidationTime != nil {
			if now, err = time.Parse(time.RFC3339, *tc.ValidationTime); err != nil {
				fmt.Fprintln(os.Stderr, tc.ID, err)
				os.Exit(2)
			}
		}
		// crypto/tls's clock is time.Now(): the local zone, which Go's expiry text prints.
		err := verify(tc, now.Local())
		r := result{ID: tc.ID, OK: err == nil}
		if err != nil {
			r.Error = err.Error()
		}
		out.Encode(r)
	}
}

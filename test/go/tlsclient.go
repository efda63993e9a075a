// Reference client for the tests: dials like Ollama's Go runtime (crypto/tls with the system
// roots, which SSL_CERT_FILE / SSL_CERT_DIR control on Linux) and prints Go's own error text.
package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tlsclient HOST:PORT SERVERNAME")
		os.Exit(2)
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", os.Args[1], &tls.Config{ServerName: os.Args[2]})
	if err != nil {
		fmt.Print(err.Error())
		os.Exit(1)
	}
	conn.Close()
	fmt.Print("ok")
}

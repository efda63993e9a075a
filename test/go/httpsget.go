// Reference client for the proxy tests: an HTTPS GET with net/http's default transport, so the
// proxy comes from HTTPS_PROXY/NO_PROXY (ProxyFromEnvironment) and the roots from the system
// pool, exactly as Ollama's registry client does. Prints Go's error text, or "ok".
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: httpsget https://HOST:PORT/")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Print(err.Error())
		os.Exit(1)
	}
	resp.Body.Close()
	fmt.Print("ok")
}

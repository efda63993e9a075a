// Reference for platform/address.ts: for each host on stdin (one per line), what Go's net.IP
// methods say about it, and whether net/http's ProxyFromEnvironment (x/net/http/httpproxy) would
// send https://host:443/ through HTTPS_PROXY. One JSON line per host. Standard library only.
//
// usage: HTTPS_PROXY=http://proxy.invalid:3128 ipclass < hosts
package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
)

type class struct {
	Host        string `json:"host"`
	IP          bool   `json:"ip"`
	Loopback    bool   `json:"loopback"`
	Private     bool   `json:"private"`
	LinkLocal   bool   `json:"linkLocal"`
	Unspecified bool   `json:"unspecified"`
	Proxied     bool   `json:"proxied"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		h := in.Text()
		c := class{Host: h}
		if ip := net.ParseIP(h); ip != nil {
			c.IP, c.Loopback, c.Private, c.LinkLocal, c.Unspecified = true, ip.IsLoopback(), ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsUnspecified()
		}
		req := &http.Request{URL: &url.URL{Scheme: "https", Host: net.JoinHostPort(h, "443"), Path: "/"}}
		p, err := http.ProxyFromEnvironment(req)
		if err != nil {
			panic(err)
		}
		c.Proxied = p != nil
		if err := out.Encode(c); err != nil {
			panic(err)
		}
	}
}

// Which proxy Ollama uses, by Go's rules (golang.org/x/net/http/httpproxy, which net/http's
// ProxyFromEnvironment uses). The cases follow Go's documented behaviour and its own test table.
import { describe, expect, it } from 'vitest';
import { chooseProxy, parseProxyUrl, redactProxy } from '../../../src/probe/proxy-env.js';

describe('proxy URLs are read as Go reads them', () => {
  it.each([
    ['127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['cache.corp.example.com:1234', 'http://cache.corp.example.com:1234'],
    ['cache.corp.example.com', 'http://cache.corp.example.com'],
    ['localhost', 'http://localhost'], // a single label would parse as a scheme
    ['https://cache.corp.example.com', 'https://cache.corp.example.com'],
    ['socks5://127.0.0.1', 'socks5://127.0.0.1'],
    ['socks5h://user:pass@127.0.0.1:1080', 'socks5h://user:pass@127.0.0.1:1080'],
  ])('%s -> %s', (value, want) => {
    expect(parseProxyUrl(value)!.toString().replace(/\/$/, '')).toBe(want);
  });

  it('never prints a password', () => {
    expect(redactProxy(new URL('http://alice:s3cret@proxy.example:3128'))).toBe('http://alice:***@proxy.example:3128');
  });
});

describe('which variable wins', () => {
  it('HTTPS_PROXY over https_proxy; HTTP_PROXY never for https', () => {
    expect(chooseProxy('example.com', 443, { HTTPS_PROXY: 'upper:1', https_proxy: 'lower:2' }).source).toBe('HTTPS_PROXY');
    expect(chooseProxy('example.com', 443, { https_proxy: 'lower:2' }).source).toBe('https_proxy');
    expect(chooseProxy('example.com', 443, { HTTP_PROXY: 'http.proxy:3128' }).url).toBeUndefined();
  });

  it('NO_PROXY over no_proxy', () => {
    const env = { HTTPS_PROXY: 'proxy:3128', NO_PROXY: 'other.com', no_proxy: 'example.com' };
    expect(chooseProxy('example.com', 443, env).bypass).toBeUndefined();
    expect(chooseProxy('example.com', 443, { HTTPS_PROXY: 'proxy:3128', no_proxy: 'example.com' }).bypass).toBe('no_proxy contains "example.com"');
  });

  it('--proxy replaces the variable, NO_PROXY still applies; --no-proxy goes direct', () => {
    const env = { HTTPS_PROXY: 'http://env.proxy:3128', NO_PROXY: '.internal' };
    expect(chooseProxy('example.com', 443, env, { proxy: 'http://flag.proxy:8080' })).toMatchObject({ source: '--proxy' });
    expect(chooseProxy('svc.internal', 443, env, { proxy: 'http://flag.proxy:8080' }).bypass).toBe('NO_PROXY contains ".internal"');
    expect(chooseProxy('example.com', 443, env, { noProxy: true })).toEqual({});
  });
});

// Go's useProxy, with NO_PROXY = this list; hosts are asked for on port 80 as in Go's table.
const NO_PROXY = 'foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64';

describe('NO_PROXY matching', () => {
  it.each([
    ['localhost', false, 'localhost is never proxied'],
    ['127.0.0.1', false, 'loopback'],
    ['127.0.0.2', false, 'all of 127/8 is loopback'],
    ['::1', false, 'IPv6 loopback'],
    ['::2', true, 'not loopback'],
    ['192.168.1.1', false, 'exact IPv4'],
    ['192.168.1.2', true, 'the entry names another port'],
    ['192.168.1.3', false, 'exact IPv4 and port'],
    ['192.168.1.4', true, 'no entry'],
    ['10.0.0.2', false, 'inside 10.0.0.0/30'],
    ['2001:db8::52:0:1', false, 'exact IPv6'],
    ['2001:db8::52:0:2', true, 'the entry names port 443'],
    ['2001:db8::52:0:3', false, 'exact [IPv6]:port'],
    ['2002:db8:a::123', false, 'inside the IPv6 CIDR'],
    ['fe80::424b:c8be:1643:a1b6', true, 'no entry'],
    ['barbaz.net', true, '.barbaz.net matches subdomains only'],
    ['www.barbaz.net', false, 'subdomain of .barbaz.net'],
    ['foobar.com', false, 'the domain itself'],
    ['www.foobar.com', false, 'and its subdomains'],
    ['foofoobar.com', true, 'a longer name is not a subdomain'],
    ['baz.com', true, 'not a suffix match inside a label'],
    ['localhost.net', true, 'not localhost'],
    ['wildcard.io', true, '*.wildcard.io matches subdomains only'],
    ['nested.wildcard.io', false, 'subdomain of *.wildcard.io'],
    ['awildcard.io', true, 'no partial labels'],
  ])('%s: proxied=%s (%s)', (host, proxied) => {
    const choice = chooseProxy(host, 80, { HTTPS_PROXY: 'http://proxy.example:3128', NO_PROXY });
    expect(choice.url).toBeDefined();
    expect(choice.bypass === undefined).toBe(proxied);
  });

  it('"*" bypasses everything', () => {
    expect(chooseProxy('example.com', 443, { HTTPS_PROXY: 'proxy:1', NO_PROXY: '*' }).bypass).toBe('NO_PROXY contains "*"');
  });

  it('ignores an entry it cannot use (":1"), as Go does', () => {
    expect(chooseProxy('example.com', 80, { HTTPS_PROXY: 'proxy:1', NO_PROXY: ':1' }).bypass).toBeUndefined();
  });

  it('compares internationalised names in punycode on both sides', () => {
    expect(chooseProxy('www.示例.com', 443, { HTTPS_PROXY: 'proxy:1', NO_PROXY: 'xn--fsq092h.com' }).bypass).toBeDefined();
    expect(chooseProxy('www.xn--fsq092h.com', 443, { HTTPS_PROXY: 'proxy:1', NO_PROXY: '示例.com' }).bypass).toBeDefined();
  });
});

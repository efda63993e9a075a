// platform/address.ts against Go: net.ParseIP's IsLoopback/IsPrivate/IsLinkLocalUnicast/
// IsUnspecified, and net/http's ProxyFromEnvironment for the proxy bypass (test/go/ipclass.go).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isPublicBind } from '../../../src/ollama/host.js';
import { isLocalHost, isLoopbackHost, isLoopbackIp, isPrivateIp, isUnspecifiedHost } from '../../../src/platform/address.js';
import { parseIp } from '../../../src/platform/ip.js';
import { chooseProxy } from '../../../src/probe/proxy-env.js';
import { isPublicHostName } from '../../../src/probe/target.js';
import { goClientBinary } from '../../helpers/cli.js';

// Canonical and unusual spellings of every class, and names on both sides of each rule.
const HOSTS = [
  '127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '128.0.0.1', '::2',
  '0.0.0.0', '::', '0:0::0', '::ffff:0.0.0.0',
  '10.0.0.1', '172.16.0.1', '172.31.255.255', '172.15.0.1', '172.32.0.1', '192.168.1.1', '192.169.0.1',
  '169.254.1.1', 'fc00::1', 'fd12:3456::1', 'fbff::1', 'fe80::1', 'febf::1', 'fec0::1', '::ffff:10.0.0.1',
  '1.2.3.4', '100.64.0.1', '2001:db8::1',
  'localhost', 'a.localhost', 'ollama', 'example.com', 'registry.ollama.ai', '10.example.com', '127.example.com',
];

interface GoClass { host: string; ip: boolean; loopback: boolean; private: boolean; linkLocal: boolean; unspecified: boolean; proxied: boolean }

const bin = goClientBinary('ipclass');
const PROXY = 'http://proxy.invalid:3128';

describe.skipIf(!bin)('address classes agree with Go', () => {
  const go: GoClass[] = bin
    ? execFileSync(bin, [], { input: HOSTS.join('\n') + '\n', env: { PATH: process.env.PATH ?? '', HTTPS_PROXY: PROXY }, encoding: 'utf8' })
        .trim().split('\n').map((l) => JSON.parse(l) as GoClass)
    : [];

  it('reads every host', () => expect(go.map((g) => g.host)).toEqual(HOSTS));

  it.each(HOSTS)('%s', (host) => {
    const g = go.find((c) => c.host === host)!;
    const ip = parseIp(host);
    expect(ip !== undefined).toBe(g.ip);
    if (ip) {
      expect(isLoopbackIp(ip)).toBe(g.loopback);
      expect(isPrivateIp(ip)).toBe(g.private || g.linkLocal);
      expect(isUnspecifiedHost(host)).toBe(g.unspecified);
      // Each caller's question, answered from the classes Go gives:
      expect(isPublicBind(host)).toBe(!g.loopback); // exposed: anything but loopback
      expect(isLocalHost(host)).toBe(g.loopback || g.private || g.linkLocal); // no proxy hint
      expect(isPublicHostName(host)).toBe(false); // an address is not a DNS name
    }
    expect(isLoopbackHost(host)).toBe(g.loopback || host === 'localhost');
    // proxy-env: Go bypasses the proxy for exactly "localhost" and loopback addresses.
    expect(chooseProxy(host, 443, { HTTPS_PROXY: PROXY }).bypass === undefined).toBe(g.proxied);
  });
});

describe('names', () => {
  it.each([
    ['localhost', false, true, false],
    ['a.localhost', true, false, false], // *.localhost: exposed to Ollama's listener check, never a public name
    ['ollama', true, true, false], // a single label: local to the proxy hint, not a public name
    ['example.com', true, false, true],
    ['host.internal', true, false, false],
    ['x.home.arpa', true, false, false],
    ['10.example.com', true, false, true], // a name, whatever its first label looks like
  ])('%s', (host, publicBind, local, publicName) => {
    expect(isPublicBind(host)).toBe(publicBind);
    expect(isLocalHost(host)).toBe(local);
    expect(isPublicHostName(host)).toBe(publicName);
  });

  it('an empty bind host is every interface', () => {
    expect(isUnspecifiedHost('')).toBe(true);
    expect(isPublicBind('')).toBe(true);
  });
});

// ipVersion stands in for Node's net.isIP on the doctor's path (platform/ip.ts, and for the length
// of tls.connect in probe/handshake.ts), so it must answer exactly as net.isIP does.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipVersion } from '../../../src/platform/ip.js';
import { rng } from '../../helpers/rng.js';

describe('ipVersion', () => {
  it('answers as net.isIP for addresses, names and near misses', () => {
    const cases = [
      '127.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1.2.3.4 ', ' 1.2.3.4', '1..2.3',
      '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fe80::1%', '2001:db8::8a2e:370:7334', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9',
      ':::', '1::2::3', 'gggg::1', '[::1]', 'localhost', 'registry.ollama.ai', 'scenario.ollama-tls.test', 'a:b', 'abc:def', 'dead:beef', '',
      'host:443', '::1%lo0', 'fe80::1%2', '1.2.3.4%eth0', '::1.2.3.4', '::ffff:1.2.3.256',
    ];
    for (const s of cases) expect(ipVersion(s), s).toBe(net.isIP(s));
  });

  it('answers as net.isIP for 20,000 random strings of address characters', () => {
    const rnd = rng(5);
    // Half from a narrow alphabet, so that many are addresses or nearly.
    const alphabets = ['0123456789abcdefABCDEFgz:.%-_ ', '0129af:.%'];
    let ips = 0;
    for (let n = 0; n < 20_000; n++) {
      let s = '';
      const alphabet = alphabets[n % 2]!;
      const length = 1 + Math.floor(rnd() * 14);
      for (let i = 0; i < length; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const want = net.isIP(s);
      if (want) ips++;
      expect(ipVersion(s), JSON.stringify(s)).toBe(want);
    }
    expect(ips).toBeGreaterThan(20); // some of them are addresses: the comparison is not only of refusals
  });
});

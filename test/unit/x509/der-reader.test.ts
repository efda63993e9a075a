// The DER reader against an independent reference: Node's native certificate parser.
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../../src/platform/ip.js';
import { certificatesFromPem } from '../../../src/x509/load.js';
import { formatName, type Certificate } from '../../../src/x509/certificate.js';
import { loadScenario, SCENARIOS } from '../../helpers/servers.js';

function everyTestCertificate(): Certificate[] {
  const fromFixtures = readdirSync(SCENARIOS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => certificatesFromPem(readFileSync(path.join(SCENARIOS, d.name, 'chain.pem'), 'utf8') + readFileSync(path.join(SCENARIOS, d.name, 'ca.pem'), 'utf8')).certificates);
  return [...fromFixtures, ...certificatesFromPem(tls.rootCertificates.join('\n')).certificates];
}

describe('the DER reader agrees with Node\'s native parser', () => {
  const certs = everyTestCertificate();

  it(`on all ${certs.length} fixture and bundled root certificates`, () => {
    expect(certs.length).toBeGreaterThan(150);
    for (const c of certs) {
      const n = new X509Certificate(c.der);
      const where = `${c.commonName ?? formatName(c.subject)}`;
      expect(c.sha256, where).toBe(n.fingerprint256.replace(/:/g, '').toLowerCase());
      expect(c.serialHex.toUpperCase().replace(/^0+(?=.)/, ''), where).toBe(n.serialNumber.replace(/^0+(?=.)/, ''));
      expect(c.notBefore.getTime(), where).toBe(new Date(n.validFrom).getTime());
      expect(c.notAfter.getTime(), where).toBe(new Date(n.validTo).getTime());
      // Node prints subject attributes one per line, in encoding order.
      const nodeSubject = n.subject.split('\n').map((l) => l.split('=')[0]);
      expect(c.subject.rdns.flat().map((a) => a.type), where).toEqual(nodeSubject);
      const details = n.publicKey.asymmetricKeyDetails ?? {};
      if (c.publicKey.type === 'RSA') expect(c.publicKey.bits, where).toBe(details.modulusLength);
      if (c.publicKey.type === 'EC') expect(c.publicKey.curve, where).toBe({ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[details.namedCurve as string]);
      // Node writes IPv6 SANs uncompressed; compare addresses as bytes.
      const canon = (x: string) => (x.startsWith('IP Address:') ? `IP:${parseIp(x.slice(11))!.toString('hex')}` : x);
      const nodeSan = (n.subjectAltName ?? '').split(', ').filter((x) => x.startsWith('DNS:') || x.startsWith('IP Address:')).map(canon);
      const ours = [...(c.san?.dns ?? []).map((d) => `DNS:${d}`), ...(c.san?.ip ?? []).map((d) => `IP:${parseIp(d)!.toString('hex')}`)];
      expect(ours.sort(), where).toEqual(nodeSan.sort());
      // Node's "ca" needs CA:TRUE and, when key usage is present, keyCertSign.
      expect(c.isCA && (!c.keyUsage || c.keyUsage.has('keyCertSign')), where).toBe(n.ca);
      if (c.selfSigned && c.subjectRaw.equals(c.issuerRaw) && n.checkIssued(n)) expect(c.signedBy(c), where).toBe(true);
    }
  });

  it('finds the facts the fixtures were built with', () => {
    const chain = (name: string) => certificatesFromPem(loadScenario(name).chainPem).certificates;
    expect(chain('sha1-signed')[0]!.signature.name).toBe('sha1WithRSAEncryption');
    expect(chain('sha1-signed')[0]!.signature.goName).toBe('SHA1-RSA');
    expect(chain('rsa-1024')[0]!.publicKey.bits).toBe(1024);
    expect(chain('cn-only')[0]!.san).toBeUndefined();
    expect(chain('wrong-eku')[0]!.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(chain('path-length')[2]!.basicConstraints).toMatchObject({ ca: true, pathLen: 0 });
    expect(chain('valid-ip')[0]!.san!.ip).toEqual(['127.0.0.1', '::1']);
    expect(chain('not-yet-valid')[0]!.notBefore.toISOString()).toBe('2099-01-01T00:00:00.000Z');
  });
});

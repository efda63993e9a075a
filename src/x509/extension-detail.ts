// Extension detail our own decoder does not need for judging (CRL distribution points,
// certificate policies), read with @peculiar/x509. It costs ~150 ms to load, so only `inspect`
// asks for it, and only when it runs.
import type { Certificate } from './certificate.js';

export interface ExtensionDetail {
  /** URIs of the CRL distribution points. */
  crlDistributionPoints: string[];
  /** Certificate policy OIDs. */
  policies: string[];
}

type Peculiar = typeof import('@peculiar/x509');
let loaded: Promise<Peculiar> | undefined;

async function peculiar(): Promise<Peculiar> {
  return (loaded ??= (async () => {
    await import('reflect-metadata');
    return import('@peculiar/x509');
  })());
}

export async function extensionDetail(cert: Certificate): Promise<ExtensionDetail> {
  const x509 = await peculiar();
  const parsed = new x509.X509Certificate(new Uint8Array(cert.der));
  const crl = parsed.getExtension(x509.CRLDistributionPointsExtension);
  const uris: string[] = [];
  for (const dp of crl?.distributionPoints ?? []) {
    for (const name of dp.distributionPoint?.fullName ?? []) if (name.uniformResourceIdentifier) uris.push(name.uniformResourceIdentifier);
  }
  const policies = parsed.getExtension(x509.CertificatePolicyExtension)?.policies ?? [];
  return { crlDistributionPoints: uris, policies: [...policies] };
}

// Who answered an HTTP request in place of the real server: proxies' block pages and captive
// portals. Matched on what such pages carry about themselves: the product's own name in the page
// or in a header it adds. Data, not logic: one row per product.

export interface BlockPageSignature {
  product: string;
  /** Tested against the first part of the body and the header values, case-insensitively. */
  pattern: RegExp;
}

export const BLOCK_PAGE_SIGNATURES: BlockPageSignature[] = [
  // Header names and page texts as these products print them on their default block pages.
  { product: 'Zscaler', pattern: /zscaler/i },
  { product: 'Netskope', pattern: /netskope|goskope/i },
  { product: 'Cisco Umbrella', pattern: /cisco umbrella|opendns|umbrella\.com/i },
  { product: 'Palo Alto Networks', pattern: /palo alto networks|pan-os|paloaltonetworks/i },
  { product: 'Fortinet FortiGate', pattern: /fortiguard|fortigate|fortinet/i },
  { product: 'Symantec / Blue Coat', pattern: /blue ?coat|proxysg|symantec web/i },
  { product: 'Forcepoint / Websense', pattern: /forcepoint|websense/i },
  { product: 'Skyhigh / McAfee Web Gateway', pattern: /skyhigh|mcafee web gateway/i },
  { product: 'Sophos', pattern: /sophos/i },
  { product: 'Check Point', pattern: /check ?point/i },
  { product: 'Cloudflare Gateway', pattern: /cloudflare gateway|gateway\.cloudflare/i },
  { product: 'Barracuda', pattern: /barracuda/i },
  { product: 'SonicWall', pattern: /sonicwall/i },
  { product: 'WatchGuard', pattern: /watchguard/i },
  { product: 'Squid', pattern: /\bsquid\b|ERR_ACCESS_DENIED/i },
];

/** Statuses that say "not the server you asked": blocked, proxy auth, captive portal, legal block. */
export const BLOCKING_STATUS: Record<number, string> = {
  403: 'forbidden',
  407: 'the proxy wants credentials',
  451: 'unavailable for legal reasons (a policy block)',
  511: 'network authentication required (a captive portal: sign in to the network first)',
};

export function matchBlockPage(body: Buffer, headers: [string, string][]): string | undefined {
  const text = `${headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n${body.subarray(0, 16 * 1024).toString('latin1')}`;
  return BLOCK_PAGE_SIGNATURES.find((s) => s.pattern.test(text))?.product;
}

/** An HTML page's <title>, for evidence. */
export function htmlTitle(body: Buffer): string | undefined {
  const m = body.subarray(0, 16 * 1024).toString('utf8').match(/<title[^>]*>([^<]{1,200})<\/title>/i);
  return m?.[1]?.replace(/\s+/g, ' ').trim() || undefined;
}

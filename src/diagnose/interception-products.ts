// Products that intercept TLS by minting certificates under their own CA, recognised by the names
// in those certificates (subject and issuer CN, O and OU of every certificate in the chain).
//
// Every pattern is matched against one attribute value at a time (a CN, an O or an OU), never
// against a whole DN string, and is anchored so that the names of ordinary public CAs (DigiCert,
// Let's Encrypt, Google Trust Services, Sectigo, Symantec, Cloudflare's public CA, ...) cannot match.
// Every source is where the name was seen: the vendor's documentation or source code, or a public
// issue in which a user pasted the certificate chain.
//
// Deliberately absent, because no fixed, attested CA name could be found for them: Palo Alto
// Networks (PAN-OS forward-trust CAs are generated and named by the administrator), Check Point
// (HTTPS Inspection CA named by the administrator), WatchGuard, Websense, Skyhigh and AVG.

export interface InterceptionProduct {
  /** How the product is named to users, e.g. "Zscaler", "Netskope", "Palo Alto Networks (PAN-OS decryption)". */
  name: string;
  kind: 'enterprise-proxy' | 'cloud-security' | 'firewall' | 'antivirus' | 'debugging-proxy' | 'school-filter';
  /** Matched against each CN, O and OU value (not the whole DN string). Anchor or use word boundaries so ordinary public CAs never match. */
  pattern: RegExp;
  /** Where the CA name comes from: a vendor documentation URL, a public issue where the CA name was pasted, or the product's source code. */
  source: string;
}

/** Chromium's own list of known MITM software (the "ssl_error_assistant" MITM interstitial). */
const CHROMIUM_MITM_LIST =
  'https://github.com/mirror/chromium/blob/0158a2db2cab23bccb42786526931f76dcdd6b00/chrome/browser/resources/ssl/ssl_error_assistant/ssl_error_assistant.asciipb';

export const INTERCEPTION_PRODUCTS: InterceptionProduct[] = [
  // ---- Cloud security services -------------------------------------------------------------
  {
    name: 'Zscaler',
    kind: 'cloud-security',
    // CN=Zscaler Root CA, CN=Zscaler Intermediate Root CA (zscaler.net) ..., O=Zscaler Inc.
    // (Zscaler's own public sites use "Zscaler, Inc." with a comma, which does not match.)
    pattern: /^(?:Zscaler Root CA|Zscaler Intermediate Root CA\b.*|Zscaler Inc\.)$/,
    source:
      'https://github.com/sectigo/CTLogs/pull/57 ; https://github.com/microsoft/vscode/issues/207636 ; ' +
      CHROMIUM_MITM_LIST,
  },
  {
    name: 'Netskope',
    kind: 'cloud-security',
    // Root CN=caadmin.netskope.com (O=netSkope Inc), tenant CA CN=ca.<tenant>.goskope.com,
    // newer root O=Netskope Inc.; any *.goskope.com name is Netskope's own domain.
    pattern: /^(?:caadmin\.netskope\.com|(?:[a-z0-9*-]+\.)+goskope\.com|netskope inc\.?)$/i,
    source:
      'https://github.com/golang/go/issues/45569 ; ' +
      'https://github.com/myhelix/docker-netskope-ssl-fix/blob/bbf42b11329c0d10f4af227a159b21573a7ca36a/examples/nscacert_combined.pem',
  },
  {
    name: 'Cisco Umbrella',
    kind: 'cloud-security',
    // CN=Cisco Umbrella Root CA, CN=Cisco Umbrella Primary SubCA, CN=Cisco Umbrella Secondary SubCA <pop>-SG
    pattern: /^Cisco Umbrella (?:Root CA|Primary SubCA|Secondary SubCA\b.*)$/,
    source:
      'https://github.com/ollama/ollama/issues/1798 ; https://github.com/jsdelivr/www.jsdelivr.com/issues/290 ; ' +
      CHROMIUM_MITM_LIST,
  },
  {
    name: 'Cloudflare Gateway (Zero Trust / WARP)',
    kind: 'cloud-security',
    // Must not match Cloudflare's public CA ("Cloudflare Inc ECC CA-3", "Cloudflare, Inc.").
    pattern: /^(?:Cloudflare for Teams ECC Certificate Authority|Gateway CA - Cloudflare Managed G1\b.*)$/,
    source:
      'https://github.com/cloudflare/cloudflare-docs/blob/03e32d9603d88a21319b7a7aa73aac2d0efd014a/products/cloudflare-one/src/content/connections/connect-devices/warp/install-cloudflare-cert.md ; ' +
      'https://github.com/cloudflare/cloudflare-docs/blob/246719dae546097c67dea70aae2b2bdcc2bf2118/src/content/docs/cloudflare-one/connections/connect-devices/user-side-certificates/manual-deployment.mdx',
  },
  {
    name: 'Forcepoint',
    kind: 'cloud-security',
    pattern: /^(?:Forcepoint Cloud CA|Forcepoint LLC)$/,
    source: CHROMIUM_MITM_LIST,
  },

  // ---- Firewalls ---------------------------------------------------------------------------
  {
    name: 'Fortinet FortiGate (SSL deep inspection)',
    kind: 'firewall',
    // Default CA "Fortinet_CA_SSL" (CN is the unit's serial number, e.g. FGT61E4Q..., FGVM...),
    // CN=FortiGate CA, O=Fortinet / O=Fortinet Ltd.
    pattern: /^(?:Fortinet_CA_(?:SSL|Untrusted)|FortiGate CA|Fortinet(?: Ltd\.)?|FG(?:T|VM)?(?=[0-9A-Z]*\d{4})[0-9A-Z]{10,14})$/,
    source:
      'https://docs.fortinet.com/document/fortiproxy/7.4.3/cli-reference/143620 ; ' +
      'https://github.com/centreon/centreon-plugins/pull/5473 ; https://github.com/rrrrrrri/fgt-gadgets/issues/15 ; ' +
      CHROMIUM_MITM_LIST,
  },
  {
    name: 'Sophos (UTM / XG / Web Appliance)',
    kind: 'firewall',
    pattern: /^(?:Sophos SSL CA_[A-Z0-9-]+|Sophos_CA_[A-Z0-9]+|sophosutm Proxy CA|Sophos Web Appliance)$/,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'SonicWall (DPI-SSL)',
    kind: 'firewall',
    pattern: /^HTTPS Management Certificate for SonicWALL\b/i,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'Cyberoam',
    kind: 'firewall',
    pattern: /^Cyberoam Certificate Authority$/,
    source: CHROMIUM_MITM_LIST,
  },

  // ---- Enterprise proxies ------------------------------------------------------------------
  {
    name: 'Blue Coat / Symantec ProxySG',
    kind: 'enterprise-proxy',
    // Only the Blue Coat wording: "Symantec" alone is a public CA brand.
    pattern: /^Blue ?Coat\b/i,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'McAfee Web Gateway (now Skyhigh Secure Web Gateway)',
    kind: 'enterprise-proxy',
    pattern: /^McAfee Web Gateway\b/,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'Trend Micro InterScan Web Security Suite (IWSS)',
    kind: 'enterprise-proxy',
    pattern: /^IWSS\.TREND$/i,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'Squid (ssl-bump)',
    kind: 'enterprise-proxy',
    // Administrators name their ssl-bump CA freely; only "squid" as a word is recognised.
    pattern: /\bsquid\b/i,
    source: 'https://github.com/awuersch/lima_configs/blob/0dbf81ca745145e951459e1c3d0128efc920dfb3/squid/setup_squid.sh',
  },

  // ---- School and family filters -----------------------------------------------------------
  {
    name: 'ContentKeeper',
    kind: 'school-filter',
    pattern: /^(?:ContentKeeper Appliance CA \(\d+\)|ContentKeeper Technologies)$/,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'Smoothwall',
    kind: 'school-filter',
    pattern: /^Smoothwall-default-root-certificate-authority$/i,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'NetSpark',
    kind: 'school-filter',
    // Only the O value: the CN Chromium lists (www.netspark.com) is also NetSpark's own website.
    pattern: /^NetSpark$/,
    source: CHROMIUM_MITM_LIST,
  },

  // ---- Antivirus and endpoint filters ------------------------------------------------------
  {
    name: 'Kaspersky',
    kind: 'antivirus',
    pattern: /^Kaspersky Anti-Virus Personal Root Certificate$/,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'Avast (Web/Mail Shield)',
    kind: 'antivirus',
    // CN=avast! Web/Mail Shield Root, O=avast! Web/Mail Shield (newer builds drop the "!").
    pattern: /^avast!? Web\/Mail Shield(?: Root)?$/i,
    source: CHROMIUM_MITM_LIST + ' ; https://github.com/jedireza/drywall/issues/308',
  },
  {
    name: 'Norton (Web/Mail Shield)',
    kind: 'antivirus',
    // CN=Norton Web/Mail Shield Self-signed Root, O=Norton Web/Mail Shield,
    // OU=generated by Norton Antivirus for self-signed certificates
    pattern: /^(?:Norton Web\/Mail Shield\b.*|generated by Norton Antivirus\b.*)$/,
    source: 'https://github.com/matlab/matlab-mcp-server/issues/100',
  },
  {
    name: 'ESET (SSL/TLS protocol filtering)',
    kind: 'antivirus',
    // Only the CN: ESET's O ("ESET, spol. s r.o.") is also on ESET's own public certificates.
    pattern: /^ESET SSL Filter CA\b/,
    source: 'https://github.com/the-last-byte/ESET-NPM-Breakage-Fix/blob/06dd2b6749fa4ced2e1b31d76b948f5e143d4240/README.md',
  },
  {
    name: 'Bitdefender',
    kind: 'antivirus',
    pattern: /^Bitdefender Personal CA\b/,
    source: CHROMIUM_MITM_LIST,
  },
  {
    name: 'AdGuard (HTTPS filtering)',
    kind: 'antivirus',
    pattern: /^AdGuard (?:Personal|Intermediate) CA$/i,
    source:
      'https://github.com/AdguardTeam/KnowledgeBase/blob/601a79680c33a347e38af5797304132c31913441/docs/adguard-for-android/solving-problems/https-certificate-for-rooted.md',
  },

  // ---- Debugging proxies -------------------------------------------------------------------
  {
    name: 'Charles Proxy',
    kind: 'debugging-proxy',
    // CN=Charles Proxy CA (18 Sep 2024, <host>), O=XK72 Ltd
    pattern: /^(?:Charles Proxy CA\b.*|Charles Proxy Custom Root Certificate\b.*|XK72 Ltd)$/,
    source: 'https://pub.dev/packages/charles_proxy ; https://github.com/leedium/occ-react-component/issues/49',
  },
  {
    name: 'Fiddler',
    kind: 'debugging-proxy',
    pattern: /^(?:DO_NOT_TRUST_FiddlerRoot\b.*|Fiddler[ _]Root[ _]Certificate[ _]Authority)$/,
    source:
      'https://github.com/Lawin0129/LawinServer/issues/116 ; https://github.com/telerik/fiddler-everywhere-docs/pull/359',
  },
  {
    name: 'Burp Suite',
    kind: 'debugging-proxy',
    // C=PortSwigger, O=PortSwigger, OU=PortSwigger CA, CN=PortSwigger CA
    pattern: /^PortSwigger(?: CA)?$/,
    source: 'https://github.com/mitmproxy/mitmproxy/issues/4713',
  },
  {
    name: 'mitmproxy',
    kind: 'debugging-proxy',
    // CN=mitmproxy, O=mitmproxy (both default to the configuration basename "mitmproxy").
    pattern: /^mitmproxy$/,
    source:
      'https://github.com/mitmproxy/mitmproxy/blob/09ef5682cee2344dc3ffddab8af1f3e15294232d/mitmproxy/certs.py ; ' +
      'https://github.com/mitmproxy/mitmproxy/blob/main/mitmproxy/options.py',
  },
  {
    name: 'OWASP ZAP',
    kind: 'debugging-proxy',
    // Root: CN=OWASP Zed Attack Proxy Root CA, O=OWASP Root CA, OU=OWASP ZAP Root CA;
    // minted leaves: OU=Zed Attack Proxy Project.
    pattern: /^(?:(?:OWASP )?(?:Zed Attack Proxy|ZAP) Root CA|OWASP Root CA|Zed Attack Proxy Project)$/,
    source:
      'https://github.com/zaproxy/zap-extensions/blob/2e9f886f4ac98d6532bc380b85977268cb54803e/addOns/network/src/main/java/org/zaproxy/addon/network/internal/cert/CertificateUtils.java',
  },
  {
    name: 'HTTP Toolkit (Mockttp)',
    kind: 'debugging-proxy',
    pattern: /^(?:HTTP Toolkit CA\b.*|Mockttp Testing CA\b.*)$/,
    source:
      'https://github.com/httptoolkit/httptoolkit-server/blob/f29feb46e28c2d69df22ca3d124a547b46101068/src/index.ts ; ' +
      'https://github.com/httptoolkit/mockttp/blob/0d0ac2026d89930f0fe27f134a00539416d1adcc/src/util/certificates.ts',
  },
  {
    name: 'Titanium Web Proxy',
    kind: 'debugging-proxy',
    pattern: /^Titanium Root Certificate Authority$/,
    source:
      'https://github.com/justcoding121/titanium-web-proxy/blob/902504a324425e4e49fc5ba604c2b7fa172e68ce/src/Titanium.Web.Proxy/Certificates/CertificateManager.cs',
  },
  {
    name: "Node's http-mitm-proxy",
    kind: 'debugging-proxy',
    // CN=NodeMITMProxyCA, O=Node MITM Proxy CA
    pattern: /^(?:NodeMITMProxyCA|Node MITM Proxy CA)$/,
    source: 'https://github.com/joeferner/node-http-mitm-proxy/blob/31851ee792ecea53f22fdae6e0c5e3ab8607d581/lib/ca.ts',
  },
];

/**
 * The first product whose pattern matches one of the given attribute values (CN, O, OU of the
 * certificates in a chain, in the order given), or undefined when none does.
 */
export function matchInterceptionProduct(values: string[]): InterceptionProduct | undefined {
  for (const raw of values) {
    const value = raw.trim();
    if (value === '') continue;
    const product = INTERCEPTION_PRODUCTS.find((p) => p.pattern.test(value));
    if (product) return product;
  }
  return undefined;
}

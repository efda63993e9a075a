// The fixes doctor and explain propose, in one place so both say the same thing: how to make a CA
// trusted for each client on each platform, and what a server's operator changes.
import type { ClientPlatform } from '../platform/host.js';
import { addCaByHand, LINUX_FAMILIES } from '../platform/linux-families.js';
import type { Fix } from './finding.js';

export type { ClientPlatform };

/** The one name fixes use for a CA certificate file the user has yet to get (the real name when known). */
export const CA_FILE_PLACEHOLDER = 'corp-ca.pem';

/** Add a CA to the store Ollama reads, then restart Ollama (Go caches its roots for the life of the process). */
export function trustCaFixes(p: ClientPlatform, pem: string): Fix[] {
  switch (p.platform) {
    case 'darwin':
      return [
        { title: 'Trust the CA in the System keychain (Ollama on macOS asks the keychain); ollama-tls shows the plan first', command: `sudo ollama-tls trust --ca ${pem} --scope machine`, side: 'client' },
        { title: 'Or by hand', command: `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${pem}`, side: 'client' },
        { title: 'Quit and reopen the Ollama app so it re-reads the keychain', side: 'client' },
      ];
    case 'win32':
      return [
        { title: 'Trust the CA in the machine Root store, from an elevated prompt (a service running as SYSTEM reads only that store)', command: `ollama-tls trust --ca ${pem} --scope machine`, side: 'client' },
        { title: 'Or by hand', command: `certutil -addstore Root ${pem}`, side: 'client' },
        { title: 'Quit Ollama from the tray and start it again', side: 'client' },
      ];
    default:
      return [
        { title: 'Add the CA to the OS trust store (Go, and so Ollama, reads it; so do curl, git and apt); ollama-tls shows the plan first', command: `sudo ollama-tls trust --ca ${pem}`, side: 'client' },
        // The family's anchor and tool (linux-families.ts); an unknown family gets Debian's, the most common.
        { title: 'Or by hand', command: addCaByHand(LINUX_FAMILIES[p.family && p.family !== 'unknown' ? p.family : 'debian'], pem), side: 'client' },
        p.systemd === false
          ? { title: 'Restart "ollama serve": Go loads its roots once per process', side: 'client' }
          : { title: 'Restart Ollama: Go loads its roots once per process', command: 'sudo systemctl restart ollama', side: 'client' },
      ];
  }
}

/** The one-off alternative for Go on Linux: point Ollama at a bundle file. */
export function sslCertFileFix(bundle: string): Fix {
  return {
    title: 'Or give Ollama a bundle that holds the OS roots plus your CA (Linux): set it in the service and restart',
    command: `sudo systemctl edit ollama   # add: [Service] Environment="SSL_CERT_FILE=${bundle}"`,
    side: 'client',
  };
}

export const INSECURE_FLAG_NOTE: Fix = {
  title: 'Do not reach for `ollama pull --insecure`: it only allows a plain-HTTP registry and never skips certificate checks',
  side: 'client',
};

/** Server-side remedies, shared by doctor (which knows the certificate) and explain (which knows the words). */
export const SERVER_FIX = {
  fullChain: {
    title: 'On the server, send the full chain: the certificate first, then each intermediate (nginx: ssl_certificate points at the full chain)',
    command: 'cat server.crt intermediate.crt > fullchain.pem',
    side: 'server',
  },
  renew: { title: 'Renew the certificate on the server (certbot renew, or let Caddy/Traefik renew automatically)', command: 'sudo certbot renew', side: 'server' },
  currentIntermediate: { title: 'On the server, replace the expired intermediate with the current one from your CA', side: 'server' },
  reissueWithSan: (host: string): Fix => ({
    title: 'Reissue the certificate with the host name as a SAN',
    command: `openssl req -x509 -newkey rsa:2048 -nodes -days 365 -keyout key.pem -out cert.pem -subj "/CN=${host}" -addext "subjectAltName=DNS:${host}"`,
    side: 'server',
  }),
  reissueWithIpSan: (ip: string): Fix => ({ title: 'Or reissue the certificate with the address as an IP SAN', command: `-addext "subjectAltName=IP:${ip}"`, side: 'server' }),
  nameOnCertificate: { title: 'Connect with a name the certificate lists, or reissue the certificate with this name as a SAN', side: 'server' },
  sha256: { title: 'Reissue the certificate with a SHA-256 (or stronger) signature', side: 'server' },
  strongKey: { title: 'Reissue the certificate with an RSA 2048+ or ECDSA P-256 key', side: 'server' },
  serverAuth: { title: 'Reissue the certificate with extendedKeyUsage = serverAuth', side: 'server' },
  properCa: { title: 'Issue the server certificate from a proper CA certificate (basicConstraints CA:TRUE, keyUsage keyCertSign, a path length that allows it)', side: 'server' },
  realCertificate: { title: "Give the server a certificate from a CA (Let's Encrypt, your internal CA, or mkcert for a lab), with the host name as a SAN", side: 'server' },
  tls12: { title: 'Enable TLS 1.2 and 1.3 on the server', command: 'ssl_protocols TLSv1.2 TLSv1.3;   # nginx', side: 'server' },
} satisfies Record<string, Fix | ((arg: string) => Fix)>;

/** Network remedies on the client side. */
export const NETWORK_FIX = {
  resolver: (host: string): Fix => ({ title: 'Check the resolver this machine uses', command: `getent hosts ${host}; cat /etc/resolv.conf`, side: 'client' }),
  proxyForOllama: {
    title: 'If a proxy is required, set it for Ollama',
    command: 'sudo systemctl edit ollama   # [Service] Environment="HTTPS_PROXY=http://proxy.example:3128"',
    side: 'client',
  },
  listening: (host: string, port: number | string): Fix => ({ title: 'Check the port and whether a service is listening there', command: `nc -vz ${host} ${port}`, side: 'client' }),
  clockSync: { title: 'Turn on time synchronisation', command: 'sudo timedatectl set-ntp true', side: 'client' },
  wslClock: { title: 'In WSL, resync from the Windows host clock', command: 'sudo hwclock -s', side: 'client' },
} satisfies Record<string, Fix | ((...args: never[]) => Fix)>;

// How to make a CA trusted on the machine that runs Ollama, per platform, as data. These are the
// hand-run recipes; `ollama-tls trust` automates them (see src/fix/).
import type { LinuxFamily } from '../platform/os-release.js';
import type { Fix } from './finding.js';

export interface ClientPlatform {
  platform: NodeJS.Platform;
  family?: LinuxFamily;
  /** Ollama is installed as a systemd service (the Linux install script does this). */
  systemd?: boolean;
}

const LINUX_ADD_CA: Record<LinuxFamily, (pem: string) => string> = {
  debian: (pem) => `sudo cp ${pem} /usr/local/share/ca-certificates/corp-ca.crt && sudo update-ca-certificates`,
  rhel: (pem) => `sudo cp ${pem} /etc/pki/ca-trust/source/anchors/corp-ca.pem && sudo update-ca-trust extract`,
  suse: (pem) => `sudo cp ${pem} /etc/pki/trust/anchors/corp-ca.pem && sudo update-ca-certificates`,
  arch: (pem) => `sudo trust anchor --store ${pem}`,
  alpine: (pem) => `sudo cp ${pem} /usr/local/share/ca-certificates/corp-ca.crt && sudo update-ca-certificates`,
  unknown: (pem) => `sudo cp ${pem} /usr/local/share/ca-certificates/corp-ca.crt && sudo update-ca-certificates`,
};

/** Add a CA to the store Ollama reads, then restart Ollama (Go caches its roots for the life of the process). */
export function trustCaFixes(p: ClientPlatform, pem: string): Fix[] {
  switch (p.platform) {
    case 'darwin':
      return [
        { title: 'Trust the CA in the System keychain (Ollama on macOS asks the keychain)', command: `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${pem}`, side: 'client' },
        { title: 'Quit and reopen the Ollama app so it re-reads the keychain', side: 'client' },
      ];
    case 'win32':
      return [
        { title: 'Trust the CA in the machine Root store (from an elevated prompt; the Ollama service reads the machine store)', command: `certutil -addstore Root ${pem}`, side: 'client' },
        { title: 'Quit Ollama from the tray and start it again', side: 'client' },
      ];
    default:
      return [
        { title: 'Add the CA to the system store that Go reads', command: LINUX_ADD_CA[p.family ?? 'unknown'](pem), side: 'client' },
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

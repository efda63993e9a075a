// Where each client reads its trusted roots, and how to give it a CA: the answer to "curl works,
// why does npm not?". Data, one row per client the catalogue can name.
import type { ClientId } from './catalogue.js';
import type { Fix } from './finding.js';
import { CA_FILE_PLACEHOLDER, trustCaFixes, type ClientPlatform } from './fixes.js';

export interface ClientTrust {
  /** How the client is named in a sentence. */
  name: string;
  /** Where it reads trust from. */
  reads: string;
  /** How to make it trust a CA (ca.pem: the CA; bundle.pem: OS roots plus the CA). */
  fixes: (p: ClientPlatform) => Fix[];
}

const goFixes = (p: ClientPlatform) => trustCaFixes(p, CA_FILE_PLACEHOLDER);

export const CLIENT_TRUST: Record<ClientId, ClientTrust> = {
  ollama: {
    name: 'Ollama',
    reads: 'the OS trust store, through Go (Linux: the distribution bundle, or SSL_CERT_FILE/SSL_CERT_DIR; macOS: the keychains; Windows: the certificate store), loaded once when "ollama serve" starts',
    fixes: goFixes,
  },
  go: {
    // Any Go program that is not Ollama (skopeo, a registry client, a Go service): Go's trust rules.
    name: 'a Go program',
    reads: 'the OS trust store (Linux: the distribution bundle, or SSL_CERT_FILE/SSL_CERT_DIR; macOS: the keychains; Windows: the certificate store), loaded once per process',
    fixes: goFixes,
  },
  macos: {
    name: 'Go on macOS',
    reads: "the macOS keychains, through Apple's verifier (SSL_CERT_FILE has no effect there)",
    fixes: () => trustCaFixes({ platform: 'darwin' }, CA_FILE_PLACEHOLDER),
  },
  docker: {
    name: 'the Docker daemon',
    reads: '/etc/docker/certs.d/<registry>/ca.crt for a registry, else the OS store of the machine running dockerd (Docker Desktop: the host OS store)',
    fixes: (p) => [
      { title: 'Trust the CA for that registry only', command: `sudo mkdir -p /etc/docker/certs.d/<registry> && sudo cp ${CA_FILE_PLACEHOLDER} /etc/docker/certs.d/<registry>/ca.crt`, side: 'client' },
      ...trustCaFixes(p, CA_FILE_PLACEHOLDER).slice(0, 1),
      { title: 'Restart the daemon (Docker Desktop: quit and reopen it) so it re-reads its roots', command: 'sudo systemctl restart docker', side: 'client' },
    ],
  },
  node: {
    name: 'Node.js',
    reads: 'its own bundled Mozilla roots plus the file named by NODE_EXTRA_CA_CERTS, not the OS store (unless started with --use-system-ca, Node 22.15+/23.8+)',
    fixes: () => [
      { title: 'Give Node the CA (set it where the Node program starts; Node reads it once at start-up)', command: 'export NODE_EXTRA_CA_CERTS=/path/to/ca.pem', side: 'client' },
      { title: 'Or let Node 22.15+/23.8+ use the OS store', command: 'export NODE_OPTIONS=--use-system-ca', side: 'client' },
    ],
  },
  npm: {
    name: 'npm',
    reads: "Node.js's bundled roots plus NODE_EXTRA_CA_CERTS and npm's own cafile setting",
    fixes: () => [
      { title: 'Tell npm about the CA', command: 'npm config set cafile /path/to/ca.pem', side: 'client' },
      { title: 'Or give Node the CA for every tool', command: 'export NODE_EXTRA_CA_CERTS=/path/to/ca.pem', side: 'client' },
    ],
  },
  curl: {
    name: 'curl',
    reads: 'the OS store (its CA bundle), or a bundle given with --cacert or CURL_CA_BUNDLE',
    fixes: (p) => [...trustCaFixes(p, CA_FILE_PLACEHOLDER).slice(0, 1), { title: 'Or for one command', command: `curl --cacert ${CA_FILE_PLACEHOLDER} https://...`, side: 'client' }],
  },
  openssl: {
    name: 'OpenSSL',
    reads: "the OS store (OpenSSL's default file and directory), or -CAfile/-CApath, or SSL_CERT_FILE/SSL_CERT_DIR",
    fixes: (p) => [...trustCaFixes(p, CA_FILE_PLACEHOLDER).slice(0, 1), { title: 'Or point OpenSSL at a bundle', command: 'export SSL_CERT_FILE=/path/to/bundle.pem', side: 'client' }],
  },
  python: {
    name: 'Python',
    reads: "requests and httpx use certifi's bundled roots, not the OS store; the ssl module uses OpenSSL's default paths",
    fixes: () => [
      { title: 'Use the OS store from Python (3.10+): install truststore and call truststore.inject_into_ssl() at start-up', command: 'pip install truststore', side: 'client' },
      { title: 'Or point requests at a bundle that holds the public roots plus your CA', command: 'export REQUESTS_CA_BUNDLE=/path/to/bundle.pem SSL_CERT_FILE=/path/to/bundle.pem', side: 'client' },
    ],
  },
  pip: {
    name: 'pip',
    reads: 'its vendored certifi bundle (pip 24.2+ on Python 3.10+ also the OS store, through truststore)',
    fixes: () => [
      { title: 'Tell pip about a bundle that holds the public roots plus your CA', command: 'pip config set global.cert /path/to/bundle.pem', side: 'client' },
      { title: 'Or upgrade pip so it uses the OS store', command: 'python -m pip install --upgrade pip', side: 'client' },
    ],
  },
  java: {
    name: 'Java',
    reads: "the JDK's cacerts keystore, not the OS store",
    fixes: () => [
      { title: "Import the CA into the JDK's cacerts (Java 9+; run as the JDK's owner)", command: `keytool -importcert -cacerts -alias corp-ca -file ${CA_FILE_PLACEHOLDER} -storepass changeit -noprompt`, side: 'client' },
    ],
  },
  wget: {
    name: 'wget',
    reads: 'the OS store (Debian builds it with GnuTLS, which reads /etc/ssl/certs/ca-certificates.crt), or the file given with --ca-certificate',
    fixes: (p) => [...trustCaFixes(p, 'ca.pem').slice(0, 1), { title: 'Or for one command', command: 'wget --ca-certificate=/path/to/ca.pem https://...', side: 'client' }],
  },
  gnutls: {
    name: 'GnuTLS',
    reads: "the OS store (GnuTLS's system trust, the distribution bundle), or the file given with --x509cafile",
    fixes: (p) => [...trustCaFixes(p, 'ca.pem').slice(0, 1), { title: 'Or for one command', command: 'gnutls-cli --x509cafile /path/to/ca.pem HOST', side: 'client' }],
  },
  apt: {
    name: 'apt',
    reads: "the OS store through GnuTLS (the distribution bundle), or the file in Acquire::https::CAInfo (per host: Acquire::https::HOST::CAInfo)",
    fixes: (p) => [
      ...trustCaFixes(p, 'ca.pem').slice(0, 1),
      { title: 'Or trust the CA for that repository only', command: `echo 'Acquire::https::HOST::CAInfo "/path/to/ca.pem";' | sudo tee /etc/apt/apt.conf.d/99-repo-ca`, side: 'client' },
    ],
  },
  git: {
    name: 'git',
    reads: 'the OS store through OpenSSL or GnuTLS, or the bundle in http.sslCAInfo',
    fixes: (p) => [...trustCaFixes(p, CA_FILE_PLACEHOLDER).slice(0, 1), { title: 'Or give git a bundle', command: 'git config --global http.sslCAInfo /path/to/bundle.pem', side: 'client' }],
  },
};

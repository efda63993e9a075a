// Where trust lives on disk, as data. Go's lists are copied in meaning from
// crypto/x509/root_linux.go; order matters (Go reads the first bundle that exists).

/** Go's certFiles for Linux, in the order Go tries them. */
export const GO_CERT_FILES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian/Ubuntu/Gentoo etc.
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora/RHEL 6
  '/etc/ssl/ca-bundle.pem', // OpenSUSE
  '/etc/pki/tls/cacert.pem', // OpenELEC
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // CentOS/RHEL 7
  '/etc/ssl/cert.pem', // Alpine Linux
];

/** Go's certDirectories for Linux. */
export const GO_CERT_DIRECTORIES = [
  '/etc/ssl/certs', // SLES10/SLES11
  '/etc/pki/tls/certs', // Fedora/RHEL
];

/**
 * OpenSSL's compiled-in defaults per distribution family (OPENSSLDIR/cert.pem and OPENSSLDIR/certs,
 * followed to where the distro points them): what curl, Python and git read.
 */
export const OPENSSL_DEFAULTS: Record<string, { file: string; dir: string }> = {
  debian: { file: '/etc/ssl/certs/ca-certificates.crt', dir: '/etc/ssl/certs' }, // /usr/lib/ssl/cert.pem -> here
  rhel: { file: '/etc/pki/tls/certs/ca-bundle.crt', dir: '/etc/pki/tls/certs' },
  suse: { file: '/etc/ssl/ca-bundle.pem', dir: '/etc/ssl/certs' },
  alpine: { file: '/etc/ssl/cert.pem', dir: '/etc/ssl/certs' },
  arch: { file: '/etc/ssl/cert.pem', dir: '/etc/ssl/certs' },
};

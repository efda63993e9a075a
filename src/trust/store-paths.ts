// Where Go looks for trust on disk, as data (each Linux family's own paths, OpenSSL's defaults
// included, are its row in platform/linux-families.ts). Go's lists are copied in meaning from
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

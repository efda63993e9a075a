// Reading the server's side of a TLS handshake off the wire.
//
// Node's getPeerCertificate(true) reorders the chain by issuance, drops
// certificates that don't chain and appends roots from the local store, so it
// cannot tell "wrong order", "root sent" or "intermediate missing" apart. Here
// we parse the Certificate handshake message exactly as the server sent it.
//
// Pure functions over bytes. References: RFC 5246 (TLS 1.2), RFC 8446 (TLS 1.3).

import {
  TLS13_SUITES,
  decryptRecord,
  deriveTrafficKeys,
  unwrapInnerPlaintext,
  type Tls13Suite,
  type TrafficKeys,
} from './tls-wire-crypto.js';

export { TLS13_SUITES, type Tls13Suite } from './tls-wire-crypto.js';

/** ContentType (RFC 8446 5.1, RFC 5246 6.2.1). */
export const ContentType = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
  heartbeat: 24, // RFC 6520
} as const;

/** HandshakeType (RFC 8446 4, RFC 5246 7.4, RFC 8879 4). */
export const HandshakeType = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  newSessionTicket: 4,
  endOfEarlyData: 5,
  encryptedExtensions: 8,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  clientKeyExchange: 16,
  finished: 20,
  certificateStatus: 22, // RFC 6066 8
  keyUpdate: 24,
  compressedCertificate: 25, // RFC 8879
  messageHash: 254,
} as const;

/** ProtocolVersion values (RFC 8446 4.2.1, RFC 5246 6.2.1). */
export const PROTOCOL_VERSIONS: ReadonlyMap<number, string> = new Map([
  [0x0300, 'SSLv3'],
  [0x0301, 'TLSv1'],
  [0x0302, 'TLSv1.1'],
  [0x0303, 'TLSv1.2'],
  [0x0304, 'TLSv1.3'],
]);

/**
 * The largest Certificate message body Go's crypto/tls reads (common.go maxHandshakeCertificateMsg,
 * 256 KiB; Go 1.21+); above it Go fails with "tls: handshake message of length N bytes exceeds
 * maximum of 262144 bytes". Node.js stops earlier: OpenSSL's max_cert_list, 100 KiB by default
 * (ssl.h SSL_MAX_CERT_LIST_DEFAULT), and Node has no option to raise it.
 */
export const GO_MAX_CERTIFICATE_MESSAGE = 262144;
export const OPENSSL_MAX_CERT_LIST = 102400;

/** Largest TLSCiphertext fragment (RFC 5246 6.2.3: 2^14 + 2048; TLS 1.3 is stricter). */
const MAX_RECORD_LENGTH = 16384 + 2048;
const RECORD_HEADER_LENGTH = 5;
const HANDSHAKE_HEADER_LENGTH = 4;

/* ------------------------------------------------------------------ records */

/** One TLSPlaintext / TLSCiphertext record (RFC 8446 5.1, 5.2). */
export interface TlsRecord {
  type: number;
  version: number;
  /** The 5-byte header, which is also the TLS 1.3 AEAD additional data (RFC 8446 5.2). */
  header: Buffer;
  fragment: Buffer;
}

/**
 * Splits a byte stream into TLS records (RFC 8446 5.1). A trailing incomplete
 * record is returned in `rest`. Throws on a header that cannot be TLS.
 */
export function splitRecords(bytes: Buffer): { records: TlsRecord[]; rest: Buffer } {
  const records: TlsRecord[] = [];
  let offset = 0;
  while (bytes.length - offset >= RECORD_HEADER_LENGTH) {
    const header = bytes.subarray(offset, offset + RECORD_HEADER_LENGTH);
    if (!looksLikeTls(header)) {
      throw new Error(`not a TLS record header at byte ${offset}: ${header.toString('hex')}`);
    }
    const length = header.readUInt16BE(3);
    if (bytes.length - offset - RECORD_HEADER_LENGTH < length) break;
    records.push({
      type: header[0]!,
      version: header.readUInt16BE(1),
      header,
      fragment: bytes.subarray(offset + RECORD_HEADER_LENGTH, offset + RECORD_HEADER_LENGTH + length),
    });
    offset += RECORD_HEADER_LENGTH + length;
  }
  return { records, rest: bytes.subarray(offset) };
}

/**
 * Could these be the first bytes of a TLS record stream (RFC 8446 5.1)?
 * Checks as much of the header as is present: a known content type, a 3.x
 * record version and a plausible length. `HTTP/1.1 400 ...` fails at byte 0.
 */
export function looksLikeTls(firstBytes: Buffer): boolean {
  if (firstBytes.length === 0) return false;
  const type = firstBytes[0]!;
  if (type < ContentType.changeCipherSpec || type > ContentType.heartbeat) return false;
  if (firstBytes.length >= 2 && firstBytes[1] !== 0x03) return false;
  if (firstBytes.length >= 3 && firstBytes[2]! > 0x04) return false;
  if (firstBytes.length >= 5) {
    const length = firstBytes.readUInt16BE(3);
    if (length === 0 && type !== ContentType.applicationData) return false;
    if (length > MAX_RECORD_LENGTH) return false;
  }
  return true;
}

/* ------------------------------------------------------------------- alerts */

/** AlertDescription names (RFC 8446 6, plus the TLS 1.2-era values of RFC 5246 7.2 and the IANA registry). */
export const ALERT_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'close_notify'],
  [10, 'unexpected_message'],
  [20, 'bad_record_mac'],
  [21, 'decryption_failed'],
  [22, 'record_overflow'],
  [30, 'decompression_failure'],
  [40, 'handshake_failure'],
  [41, 'no_certificate'],
  [42, 'bad_certificate'],
  [43, 'unsupported_certificate'],
  [44, 'certificate_revoked'],
  [45, 'certificate_expired'],
  [46, 'certificate_unknown'],
  [47, 'illegal_parameter'],
  [48, 'unknown_ca'],
  [49, 'access_denied'],
  [50, 'decode_error'],
  [51, 'decrypt_error'],
  [60, 'export_restriction'],
  [70, 'protocol_version'],
  [71, 'insufficient_security'],
  [80, 'internal_error'],
  [86, 'inappropriate_fallback'],
  [90, 'user_canceled'],
  [100, 'no_renegotiation'],
  [109, 'missing_extension'],
  [110, 'unsupported_extension'],
  [111, 'certificate_unobtainable'],
  [112, 'unrecognized_name'],
  [113, 'bad_certificate_status_response'],
  [114, 'bad_certificate_hash_value'],
  [115, 'unknown_psk_identity'],
  [116, 'certificate_required'],
  [120, 'no_application_protocol'],
  [121, 'ech_required'],
]);

export interface TlsAlert {
  /** 1 = warning, 2 = fatal (RFC 8446 6). */
  level: number;
  description: number;
  name: string;
}

export function alertName(description: number): string {
  return ALERT_NAMES.get(description) ?? `unknown_alert_${description}`;
}

/** "...SSL alert number 116" in Node/OpenSSL error text. */
export function alertFromText(text: string | undefined): TlsAlert | undefined {
  const m = text ? /alert number (\d+)/i.exec(text) : null;
  if (!m) return undefined;
  const description = Number(m[1]);
  return { level: 2, description, name: alertName(description) };
}

/** Parses an Alert record fragment: struct { AlertLevel level; AlertDescription description; } (RFC 8446 6). */
export function parseAlert(fragment: Buffer): TlsAlert {
  if (fragment.length !== 2) throw new Error(`alert fragment has ${fragment.length} bytes, expected 2`);
  return { level: fragment[0]!, description: fragment[1]!, name: alertName(fragment[1]!) };
}

/* --------------------------------------------------------------- handshakes */

/** struct { HandshakeType msg_type; uint24 length; ... } Handshake (RFC 8446 4). */
export interface HandshakeMessage {
  type: number;
  body: Buffer;
}

/**
 * Reassembles handshake messages from record fragments (RFC 8446 5.1: a
 * message may span records and a record may carry several messages).
 */
export class HandshakeReassembler {
  private buffered: Buffer = Buffer.alloc(0);

  /** Appends a handshake-record fragment and returns every message it completes. */
  push(fragment: Buffer): HandshakeMessage[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, fragment]) : fragment;
    const messages: HandshakeMessage[] = [];
    while (this.buffered.length >= HANDSHAKE_HEADER_LENGTH) {
      const length = readUInt24(this.buffered, 1);
      const end = HANDSHAKE_HEADER_LENGTH + length;
      if (this.buffered.length < end) break;
      messages.push({ type: this.buffered[0]!, body: this.buffered.subarray(HANDSHAKE_HEADER_LENGTH, end) });
      this.buffered = this.buffered.subarray(end);
    }
    return messages;
  }

  /** Bytes of an incomplete message still waiting for the next record. */
  get pending(): number {
    return this.buffered.length;
  }

  /** The type and declared body length of the incomplete message waiting, if its header has arrived. */
  pendingHeader(): { type: number; length: number } | undefined {
    if (this.buffered.length < HANDSHAKE_HEADER_LENGTH) return undefined;
    return { type: this.buffered[0]!, length: readUInt24(this.buffered, 1) };
  }
}

/** SHA-256("HelloRetryRequest"): the ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3). */
export const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

/** The supported_versions extension type (RFC 8446 4.2). */
const EXT_SUPPORTED_VERSIONS = 43;

export interface ServerHello {
  legacyVersion: number;
  random: Buffer;
  cipherSuite: number;
  /** From supported_versions (RFC 8446 4.2.1) if present, otherwise legacy_version. */
  version: number;
  isHelloRetryRequest: boolean;
}

/**
 * Parses a ServerHello body (RFC 8446 4.1.3, RFC 5246 7.4.1.3):
 * legacy_version(2) random(32) legacy_session_id_echo<0..32> cipher_suite(2)
 * legacy_compression_method(1) extensions<6..2^16-1> (optional before TLS 1.3).
 */
export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, 'ServerHello');
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  r.vector8();
  const cipherSuite = r.u16();
  r.u8();
  let version = legacyVersion;
  if (r.remaining > 0) {
    const extensions = new Reader(r.vector16(), 'ServerHello extensions');
    while (extensions.remaining > 0) {
      const type = extensions.u16();
      const data = extensions.vector16();
      if (type === EXT_SUPPORTED_VERSIONS && data.length === 2) version = data.readUInt16BE(0);
    }
  }
  return {
    legacyVersion,
    random,
    cipherSuite,
    version,
    isHelloRetryRequest: random.equals(HELLO_RETRY_REQUEST_RANDOM),
  };
}

/**
 * Parses a Certificate message body into DER certificates, in wire order.
 *  - TLS 1.2 (RFC 5246 7.4.2): ASN.1Cert certificate_list<0..2^24-1>, ASN.1Cert = opaque<1..2^24-1>.
 *  - TLS 1.3 (RFC 8446 4.4.2): opaque certificate_request_context<0..2^8-1>;
 *    CertificateEntry certificate_list<0..2^24-1>, entry = { opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1> }.
 */
export function parseCertificateMessage(body: Buffer, tls13: boolean): Buffer[] {
  const r = new Reader(body, 'Certificate');
  if (tls13) r.vector8(); // certificate_request_context (empty from a server)
  const list = new Reader(r.vector24(), 'certificate_list');
  if (r.remaining !== 0) throw new Error(`Certificate: ${r.remaining} bytes after certificate_list`);
  const certificates: Buffer[] = [];
  while (list.remaining > 0) {
    const der = list.vector24();
    if (der.length === 0) throw new Error('Certificate: empty certificate entry');
    certificates.push(Buffer.from(der)); // copy: don't pin the whole capture
    if (tls13) list.vector16(); // per-certificate extensions (OCSP status, SCTs)
  }
  return certificates;
}

/** The certificate_authorities extension type (RFC 8446 4.2.4). */
const EXT_CERTIFICATE_AUTHORITIES = 47;

export interface CertificateRequest {
  /**
   * DER Names of the CAs the server says it accepts, in the order sent (TLS 1.2: the
   * certificate_authorities list; TLS 1.3: the certificate_authorities extension). Empty: the
   * server named none (any certificate may do, or it checks it in some other way).
   */
  authorities: Buffer[];
}

/**
 * Parses a CertificateRequest body.
 *  - TLS 1.2 (RFC 5246 7.4.4): ClientCertificateType certificate_types<1..2^8-1>;
 *    SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
 *    DistinguishedName certificate_authorities<0..2^16-1>, DistinguishedName = opaque<1..2^16-1>.
 *    (TLS 1.0/1.1 have no signature algorithm list.)
 *  - TLS 1.3 (RFC 8446 4.3.2): opaque certificate_request_context<0..2^8-1>;
 *    Extension extensions<2..2^16-1>; certificate_authorities (4.2.4) holds
 *    DistinguishedName authorities<3..2^16-1>.
 */
export function parseCertificateRequest(body: Buffer, version: number): CertificateRequest {
  const r = new Reader(body, 'CertificateRequest');
  let names: Buffer | undefined;
  if (version >= 0x0304) {
    r.vector8();
    const extensions = new Reader(r.vector16(), 'CertificateRequest extensions');
    while (extensions.remaining > 0) {
      const type = extensions.u16();
      const data = extensions.vector16();
      if (type === EXT_CERTIFICATE_AUTHORITIES) names = new Reader(data, 'certificate_authorities').vector16();
    }
  } else {
    r.vector8();
    if (version >= 0x0303) r.vector16();
    names = r.vector16();
  }
  const authorities: Buffer[] = [];
  if (names) {
    const list = new Reader(names, 'certificate_authorities');
    while (list.remaining > 0) authorities.push(Buffer.from(list.vector16()));
  }
  return { authorities };
}

/* ------------------------------------------------------- the server's flight */

export interface ServerFlight {
  /** The ServerHello that was accepted (after any HelloRetryRequest). */
  serverHello?: ServerHello;
  /** 'TLSv1.2', 'TLSv1.3', ... from the ServerHello. */
  version?: string;
  /** TLS 1.3 suite name, or the hex code point for TLS 1.2 suites (Node's getCipher() has names). */
  cipherSuite?: string;
  helloRetryRequest: boolean;
  /** DER certificates of the server's Certificate message, in wire order; undefined if not seen. */
  certificates?: Buffer[];
  /** Alerts the server sent that we could read (plaintext, or TLS 1.3 handshake-encrypted). */
  alerts: TlsAlert[];
  /** The server asked for a client certificate (mutual TLS). */
  certificateRequest?: CertificateRequest;
  /**
   * The Certificate message's body length as its header declares it, known as soon as the header
   * arrived. Above GO_MAX_CERTIFICATE_MESSAGE the list is refused, as Go refuses it.
   */
  certificateMessageLength?: number;
  /** Why reading stopped early, if it did (undecryptable records, malformed data, ...). */
  problem?: string;
}

export interface ReadServerFlightOptions {
  /** SERVER_HANDSHAKE_TRAFFIC_SECRET (RFC 8446 7.1), needed to read TLS 1.3's encrypted flight. */
  serverHandshakeTrafficSecret?: Buffer;
}

/**
 * Walks the bytes a server sent during the handshake and pulls out the
 * ServerHello, the Certificate message, a CertificateRequest and any alerts.
 *
 * TLS 1.2: everything up to the server's ChangeCipherSpec is plaintext.
 * TLS 1.3: after the ServerHello, handshake messages travel in
 * application_data records protected with the server handshake traffic keys
 * (RFC 8446 7.3), sequence numbers from 0 (RFC 8446 5.3); a HelloRetryRequest
 * (RFC 8446 4.1.4) and middlebox-compatibility ChangeCipherSpec records
 * (RFC 8446 D.4) may come first.
 */
export function readServerFlight(inbound: Buffer, options: ReadServerFlightOptions = {}): ServerFlight {
  const flight: ServerFlight = { helloRetryRequest: false, alerts: [] };
  let records: TlsRecord[];
  try {
    records = splitRecords(inbound).records;
  } catch (err) {
    flight.problem = errorMessage(err);
    return flight;
  }

  const reassembler = new HandshakeReassembler();
  let tls13 = false;
  let keys: TrafficKeys | undefined;
  let seq = 0;
  let done = false;

  const onMessage = (message: HandshakeMessage): void => {
    switch (message.type) {
      case HandshakeType.serverHello: {
        const hello = parseServerHello(message.body);
        if (hello.isHelloRetryRequest) {
          flight.helloRetryRequest = true;
          return;
        }
        flight.serverHello = hello;
        flight.version = PROTOCOL_VERSIONS.get(hello.version) ?? `0x${hello.version.toString(16).padStart(4, '0')}`;
        tls13 = hello.version === 0x0304;
        const suite: Tls13Suite | undefined = TLS13_SUITES.get(hello.cipherSuite);
        flight.cipherSuite = suite?.name ?? `0x${hello.cipherSuite.toString(16).padStart(4, '0')}`;
        if (tls13) {
          if (!suite) throw new Error(`unknown TLS 1.3 cipher suite ${flight.cipherSuite}`);
          if (options.serverHandshakeTrafficSecret) {
            keys = deriveTrafficKeys(suite, options.serverHandshakeTrafficSecret);
          }
        }
        return;
      }
      case HandshakeType.certificate:
        if (flight.certificates) return;
        flight.certificateMessageLength = message.body.length;
        refuseLikeGo(message.body.length);
        flight.certificates = parseCertificateMessage(message.body, tls13);
        return;
      case HandshakeType.certificateRequest:
        if (!flight.serverHello || flight.certificateRequest) return;
        try {
          flight.certificateRequest = parseCertificateRequest(message.body, flight.serverHello.version);
        } catch {
          // Asked for a certificate all the same; a malformed CA list must not cost us the chain.
          flight.certificateRequest = { authorities: [] };
        }
        return;
      case HandshakeType.compressedCertificate:
        throw new Error('server sent a CompressedCertificate (RFC 8879), which is not decoded');
      case HandshakeType.finished:
        done = true; // TLS 1.3: later records use application traffic keys
        return;
      default:
        return;
    }
  };

  try {
    for (const record of records) {
      if (done) break;
      switch (record.type) {
        case ContentType.changeCipherSpec:
          // TLS 1.2 (RFC 5246 7.1): the server's records are encrypted from here on.
          // TLS 1.3: middlebox compatibility, ignore (RFC 8446 D.4); it may
          // also follow a HelloRetryRequest, before the real ServerHello.
          if (flight.serverHello && !tls13) done = true;
          break;
        case ContentType.alert:
          flight.alerts.push(parseAlert(record.fragment));
          break;
        case ContentType.handshake:
          for (const message of reassembler.push(record.fragment)) onMessage(message);
          break;
        case ContentType.applicationData: {
          if (!tls13 || !flight.serverHello) {
            done = true;
            break;
          }
          if (!keys) throw new Error('TLS 1.3 handshake is encrypted and no server handshake traffic secret was logged');
          const inner = unwrapInnerPlaintext(decryptRecord(keys, seq++, record.header, record.fragment));
          if (inner.type === ContentType.handshake) {
            for (const message of reassembler.push(inner.content)) onMessage(message);
          } else if (inner.type === ContentType.alert) {
            flight.alerts.push(parseAlert(inner.content));
          } else {
            done = true;
          }
          break;
        }
        default:
          break;
      }
    }
    // Go judges the length from the header alone, before the rest arrives.
    const waiting = reassembler.pendingHeader();
    if (!flight.certificates && flight.serverHello && waiting?.type === HandshakeType.certificate) {
      flight.certificateMessageLength = waiting.length;
      refuseLikeGo(waiting.length);
      flight.problem = `the Certificate message (${waiting.length} bytes) is incomplete in the captured bytes`;
    }
  } catch (err) {
    flight.problem = errorMessage(err);
  }
  if (!flight.problem && !flight.certificates) {
    flight.problem = flight.serverHello ? 'no Certificate message in the captured bytes' : 'no ServerHello in the captured bytes';
  }
  return flight;
}

/** Pulls SERVER_HANDSHAKE_TRAFFIC_SECRET out of NSS key log lines (the format of Node's `keylog` event). */
export function serverHandshakeSecretFromKeylog(lines: Iterable<string>, clientRandom?: Buffer): Buffer | undefined {
  let found: Buffer | undefined;
  for (const line of lines) {
    const [label, random, secret] = line.trim().split(/\s+/);
    if (label !== 'SERVER_HANDSHAKE_TRAFFIC_SECRET' || !random || !secret) continue;
    if (clientRandom && random.toLowerCase() !== clientRandom.toString('hex')) continue;
    found = Buffer.from(secret, 'hex');
  }
  return found;
}

/* ------------------------------------------------------------------ helpers */

/** Go's limit on the Certificate message (crypto/tls conn.go readHandshake), with Go's words. */
function refuseLikeGo(length: number): void {
  if (length > GO_MAX_CERTIFICATE_MESSAGE) {
    throw new Error(`tls: handshake message of length ${length} bytes exceeds maximum of ${GO_MAX_CERTIFICATE_MESSAGE} bytes`);
  }
}

function readUInt24(buf: Buffer, offset: number): number {
  return (buf[offset]! << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Bounds-checked reader for TLS presentation-language vectors (RFC 8446 3.4). */
class Reader {
  private offset = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  bytes(n: number): Buffer {
    if (n > this.remaining) throw new Error(`${this.what}: truncated (needs ${n} bytes, ${this.remaining} left)`);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(): number {
    return this.bytes(1)[0]!;
  }

  u16(): number {
    return this.bytes(2).readUInt16BE(0);
  }

  vector8(): Buffer {
    return this.bytes(this.u8());
  }

  vector16(): Buffer {
    return this.bytes(this.u16());
  }

  vector24(): Buffer {
    return this.bytes(readUInt24(this.bytes(3), 0));
  }
}

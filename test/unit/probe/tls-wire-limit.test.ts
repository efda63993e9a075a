// The chain reader's size limit is Go's: a Certificate message of up to 256 KiB is read (Go's
// crypto/tls maxHandshakeCertificateMsg), one byte more is refused with Go's words, and the refusal
// comes from the header alone, before the rest has arrived (as Go refuses it).
import { describe, expect, it } from 'vitest';
import { GO_MAX_CERTIFICATE_MESSAGE, OPENSSL_MAX_CERT_LIST, readServerFlight } from '../../../src/probe/tls-wire.js';

const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const handshakeMessage = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type]), u24(body.length), body]);

/** Handshake bytes as TLS 1.2 plaintext records of at most 2^14 bytes (RFC 5246 6.2.1). */
function records(bytes: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 16384) {
    const fragment = bytes.subarray(i, i + 16384);
    out.push(Buffer.from([22, 3, 3, fragment.length >> 8, fragment.length & 0xff]), fragment);
  }
  return Buffer.concat(out);
}

const serverHello = handshakeMessage(2, Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([0]), Buffer.from([0xc0, 0x2f]), Buffer.from([0])]));

/** A TLS 1.2 Certificate message whose body is exactly `size` bytes: entries of up to 60000 bytes of filler. */
function certificateMessage(size: number): { message: Buffer; entries: number } {
  let room = size - 3;
  const entries: Buffer[] = [];
  while (room > 0) {
    const len = Math.min(60000, room - 3);
    entries.push(Buffer.concat([u24(len), Buffer.alloc(len, entries.length + 1)]));
    room -= 3 + len;
  }
  const list = Buffer.concat(entries);
  const body = Buffer.concat([u24(list.length), list]);
  expect(body.length).toBe(size);
  return { message: handshakeMessage(11, body), entries: entries.length };
}

describe('the certificate list limit of the chain reader (tls-wire)', () => {
  it.each([
    ['just under OpenSSL\'s 100 KiB', OPENSSL_MAX_CERT_LIST - 1],
    ['150 KiB: over OpenSSL\'s limit, within Go\'s', 150 * 1024],
    ['exactly Go\'s 256 KiB', GO_MAX_CERTIFICATE_MESSAGE],
  ])('reads %s', (_name, size) => {
    const { message, entries } = certificateMessage(size);
    const flight = readServerFlight(records(Buffer.concat([serverHello, message])));
    expect(flight.problem).toBeUndefined();
    expect(flight.certificateMessageLength).toBe(size);
    expect(flight.certificates).toHaveLength(entries);
  });

  it('refuses one byte over Go\'s limit, with Go\'s error text', () => {
    const size = GO_MAX_CERTIFICATE_MESSAGE + 1;
    const flight = readServerFlight(records(Buffer.concat([serverHello, certificateMessage(size).message])));
    expect(flight.certificates).toBeUndefined();
    expect(flight.certificateMessageLength).toBe(size);
    expect(flight.problem).toBe(`tls: handshake message of length ${size} bytes exceeds maximum of 262144 bytes`);
  });

  it('refuses from the header alone, before the message has arrived (as Go does)', () => {
    const size = 600 * 1024;
    const all = records(Buffer.concat([serverHello, certificateMessage(size).message]));
    const flight = readServerFlight(all.subarray(0, 20_000));
    expect(flight.certificateMessageLength).toBe(size);
    expect(flight.problem).toMatch(/exceeds maximum of 262144 bytes/);
  });

  it('an incomplete message within the limit: its length is known, no chain yet', () => {
    const size = 200 * 1024;
    const all = records(Buffer.concat([serverHello, certificateMessage(size).message]));
    const flight = readServerFlight(all.subarray(0, 120_000));
    expect(flight.certificateMessageLength).toBe(size);
    expect(flight.certificates).toBeUndefined();
    expect(flight.problem).toMatch(/incomplete/);
  });
});

import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTE,
  CODE,
  decryptUserPassword,
  encryptUserPassword,
  hmacMd5,
  isMalformed,
  parsePacket,
  signAccessRequest,
  signReply,
  signServerRequest,
  tlv,
  verifyChap,
  verifyRequestAuthenticator,
  verifyRequestMessageAuthenticator,
  verifyResponse,
  type ParsedPacket,
} from './wire.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const parsed = (packet: Buffer): ParsedPacket => {
  const result = parsePacket(packet);
  if (isMalformed(result)) throw new Error(result.malformed);
  return result;
};

/** RFC 2865 §7.1: user "nemo", password "arctangent", secret "xyzzy5461", and the server's Access-Accept. */
const RFC_SECRET = Buffer.from('xyzzy5461');
const RFC_REQUEST = hex('01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8 01 10 05 06 00 00 00 03');
const RFC_ACCEPT = hex('02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03');

describe('RADIUS wire format (RFC 2865, 2866, 3579, 5176)', () => {
  it('decrypts the RFC 2865 example User-Password and encrypts it back', () => {
    const request = parsed(RFC_REQUEST);
    const cipher = request.attributes.find((attribute) => attribute.type === ATTRIBUTE.USER_PASSWORD)!.value;
    expect(decryptUserPassword(cipher, RFC_SECRET, request.authenticator)?.toString()).toBe('arctangent');
    expect(encryptUserPassword(Buffer.from('arctangent'), RFC_SECRET, request.authenticator)).toEqual(cipher);
  });

  it('verifies the RFC 2865 example Response Authenticator, and refuses it with another secret', () => {
    const request = parsed(RFC_REQUEST);
    expect(verifyResponse(parsed(RFC_ACCEPT), request.authenticator, RFC_SECRET)).toBe(true);
    expect(verifyResponse(parsed(RFC_ACCEPT), request.authenticator, Buffer.from('xyzzy5462'))).toBe(false);
  });

  it('refuses User-Password values that cannot be one (not a multiple of 16, over 128 octets)', () => {
    const authenticator = Buffer.alloc(16);
    expect(decryptUserPassword(Buffer.alloc(15), RFC_SECRET, authenticator)).toBeNull();
    expect(decryptUserPassword(Buffer.alloc(144), RFC_SECRET, authenticator)).toBeNull();
    expect(decryptUserPassword(Buffer.alloc(0), RFC_SECRET, authenticator)).toBeNull();
  });

  it('checks CHAP as MD5(CHAP Identifier | password | challenge)', () => {
    const challenge = Buffer.from('0123456789abcdef');
    const response = createHash('md5').update(Buffer.from([7])).update('secret-pw').update(challenge).digest();
    const chap = Buffer.concat([Buffer.from([7]), response]);
    expect(verifyChap(chap, Buffer.from('secret-pw'), challenge)).toBe(true);
    expect(verifyChap(chap, Buffer.from('secret-px'), challenge)).toBe(false);
    expect(verifyChap(Buffer.concat([Buffer.from([8]), response]), Buffer.from('secret-pw'), challenge)).toBe(false);
    expect(verifyChap(chap.subarray(0, 16), Buffer.from('secret-pw'), challenge)).toBe(false);
  });

  it('signs replies with Message-Authenticator first: HMAC-MD5 with the Request Authenticator, then the Response Authenticator', () => {
    const secret = Buffer.from('s3cret-s3cret');
    const request = parsed(signAccessRequest(42, () => tlv(ATTRIBUTE.USER_NAME, 'alice'), secret));
    expect(verifyRequestMessageAuthenticator(request, secret)).toBe(true);
    const reply = parsed(signReply(CODE.ACCESS_ACCEPT, request, tlv(ATTRIBUTE.REPLY_MESSAGE, 'hi'), secret));
    expect(reply.identifier).toBe(42);
    expect(reply.message_authenticator_offset).toBe(20);
    expect(verifyResponse(reply, request.authenticator, secret)).toBe(true);
    // Independently: the HMAC over the reply with the M-A zeroed and the request authenticator in the header.
    const copy = Buffer.from(reply.packet);
    request.authenticator.copy(copy, 4);
    copy.fill(0, 22, 38);
    expect(createHmac('md5', secret).update(copy).digest()).toEqual(reply.packet.subarray(22, 38));
    const tampered = Buffer.from(reply.packet);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    expect(verifyResponse(parsed(tampered), request.authenticator, secret)).toBe(false);
  });

  it('computes HMAC-MD5 as RFC 2104 does (node:crypto as the reference), for keys shorter and longer than a block', () => {
    for (const key_length of [0, 1, 15, 63, 64, 65, 200]) {
      for (const message_length of [0, 20, 57, 4096]) {
        const key = Buffer.alloc(key_length, key_length + 1);
        const message = Buffer.alloc(message_length);
        for (let i = 0; i < message_length; i += 1) message[i] = (i * 31 + key_length) & 0xff;
        expect(hmacMd5(key, message)).toEqual(createHmac('md5', key).update(message).digest());
      }
    }
  });

  it('signs and verifies with a secret longer than an HMAC block (hashed first)', () => {
    const secret = Buffer.from('a-router-secret-that-is-much-longer-than-sixty-four-octets-0123456789');
    const request = parsed(signAccessRequest(7, () => tlv(ATTRIBUTE.USER_NAME, 'carol'), secret));
    expect(verifyRequestMessageAuthenticator(request, secret)).toBe(true);
    expect(verifyRequestMessageAuthenticator(request, secret.subarray(1))).toBe(false);
    const reply = parsed(signReply(CODE.ACCESS_REJECT, request, Buffer.alloc(0), secret));
    expect(verifyResponse(reply, request.authenticator, secret)).toBe(true);
    const copy = Buffer.from(reply.packet);
    request.authenticator.copy(copy, 4);
    expect(createHash('md5').update(copy).update(secret).digest()).toEqual(reply.authenticator);
  });

  it('signs Disconnect/CoA requests (RFC 5176 §3.5): zero-authenticator HMAC, then the Request Authenticator', () => {
    const secret = Buffer.from('coa-secret');
    const request = parsed(signServerRequest(CODE.DISCONNECT_REQUEST, 9, tlv(ATTRIBUTE.USER_NAME, 'bob'), secret));
    expect(verifyRequestAuthenticator(request, secret)).toBe(true);
    expect(verifyRequestMessageAuthenticator(request, secret)).toBe(true);
    expect(verifyRequestAuthenticator(request, Buffer.from('other'))).toBe(false);
  });

  it('refuses malformed framing: short, Length out of range or past the datagram, attributes that overrun, two Message-Authenticators', () => {
    expect(isMalformed(parsePacket(Buffer.alloc(19)))).toBe(true);
    const header = (length: number) => {
      const packet = Buffer.alloc(Math.max(length, 20));
      packet[0] = 1;
      packet.writeUInt16BE(length, 2);
      return packet;
    };
    expect(isMalformed(parsePacket(header(19)))).toBe(true);
    expect(isMalformed(parsePacket(header(4097)))).toBe(true);
    const short = header(30).subarray(0, 25);
    expect(isMalformed(parsePacket(short))).toBe(true);
    const overrun = Buffer.concat([header(20), Buffer.from([1, 10, 97])]);
    overrun.writeUInt16BE(23, 2);
    expect(isMalformed(parsePacket(overrun))).toBe(true);
    const zero = Buffer.concat([header(20), Buffer.from([1, 0])]);
    zero.writeUInt16BE(22, 2);
    expect(isMalformed(parsePacket(zero))).toBe(true);
    const two = Buffer.concat([header(20), Buffer.from([80, 18, ...Buffer.alloc(16)]), Buffer.from([80, 18, ...Buffer.alloc(16)])]);
    two.writeUInt16BE(two.length, 2);
    expect(isMalformed(parsePacket(two))).toBe(true);
    // Bytes past Length are padding: ignored, not an error.
    const padded = Buffer.concat([header(20), Buffer.from([0xff, 0xff])]);
    expect(isMalformed(parsePacket(padded))).toBe(false);
  });
});

import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * RADIUS on the wire (RFC 2865 §3, RFC 2866 §3, RFC 3579 §3.2, RFC 5176 §3.5): the checks the npm `radius`
 * package gets wrong or does not do. It compares authenticators as UTF-8 strings (lossy and not constant time),
 * appends the Message-Authenticator last and only when the request had one, and throws on malformed input
 * from inside its decoder. Everything here works on the raw bytes, validates lengths before anything reads
 * them, and compares secrets-derived values with `timingSafeEqual`.
 */
export const CODE = {
  ACCESS_REQUEST: 1,
  ACCESS_ACCEPT: 2,
  ACCESS_REJECT: 3,
  ACCOUNTING_REQUEST: 4,
  ACCOUNTING_RESPONSE: 5,
  ACCESS_CHALLENGE: 11,
  STATUS_SERVER: 12,
  DISCONNECT_REQUEST: 40,
  DISCONNECT_ACK: 41,
  DISCONNECT_NAK: 42,
  COA_REQUEST: 43,
  COA_ACK: 44,
  COA_NAK: 45,
} as const;

export const ATTRIBUTE = {
  USER_NAME: 1,
  USER_PASSWORD: 2,
  CHAP_PASSWORD: 3,
  NAS_IP_ADDRESS: 4,
  NAS_PORT: 5,
  SERVICE_TYPE: 6,
  FRAMED_PROTOCOL: 7,
  FRAMED_IP_ADDRESS: 8,
  REPLY_MESSAGE: 18,
  CLASS: 25,
  VENDOR_SPECIFIC: 26,
  CALLED_STATION_ID: 30,
  CALLING_STATION_ID: 31,
  NAS_IDENTIFIER: 32,
  PROXY_STATE: 33,
  ACCT_STATUS_TYPE: 40,
  ACCT_DELAY_TIME: 41,
  ACCT_INPUT_OCTETS: 42,
  ACCT_OUTPUT_OCTETS: 43,
  ACCT_SESSION_ID: 44,
  ACCT_AUTHENTIC: 45,
  ACCT_SESSION_TIME: 46,
  ACCT_TERMINATE_CAUSE: 49,
  ACCT_INPUT_GIGAWORDS: 52,
  ACCT_OUTPUT_GIGAWORDS: 53,
  EVENT_TIMESTAMP: 55,
  CHAP_CHALLENGE: 60,
  NAS_PORT_TYPE: 61,
  CONNECT_INFO: 77,
  MESSAGE_AUTHENTICATOR: 80,
  NAS_PORT_ID: 87,
  FRAMED_INTERFACE_ID: 96,
  FRAMED_IPV6_PREFIX: 97,
  ERROR_CAUSE: 101,
  DELEGATED_IPV6_PREFIX: 123,
  NAS_IPV6_ADDRESS: 95,
  FRAMED_IPV6_ADDRESS: 168,
} as const;

/** RFC 2865 §3: a packet is 20–4096 octets; bytes past the Length field are padding and are ignored. */
export const MIN_PACKET_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;
export const AUTHENTICATOR_LENGTH = 16;
const MESSAGE_AUTHENTICATOR_ATTRIBUTE_LENGTH = 18;

export type RawAttribute = Readonly<{ type: number; value: Buffer }>;

/**
 * One attribute of a parsed packet, its value a view of the packet made when read. An Access-Request carries ten
 * or so attributes and the server reads three or four: a view per attribute up front was the largest single
 * source of garbage per request (15 % of the allocation at 2,000 requests/s, in a sampling heap profile).
 */
class PacketAttribute implements RawAttribute {
  constructor(
    readonly type: number,
    private readonly packet: Buffer,
    private readonly start: number,
    private readonly end: number,
  ) {}

  get value(): Buffer {
    return this.packet.subarray(this.start, this.end);
  }
}

export type ParsedPacket = Readonly<{
  code: number;
  identifier: number;
  /** The packet as the Length field delimits it (a view of the datagram, not a copy). */
  packet: Buffer;
  authenticator: Buffer;
  attributes: readonly RawAttribute[];
  /** Offset in `packet` of the (one) Message-Authenticator attribute, or -1. */
  message_authenticator_offset: number;
}>;

export type Malformed = Readonly<{ malformed: string }>;

/**
 * The header and the attribute list, every length checked against what is there. Refuses what RFC 2865 says to
 * silently discard: a Length outside 20–4096 or past the datagram, an attribute shorter than its own header or
 * running past the packet, and (RFC 3579 §3.2) more than one Message-Authenticator or one of the wrong size.
 */
export function parsePacket(datagram: Buffer): ParsedPacket | Malformed {
  if (datagram.length < MIN_PACKET_LENGTH) return { malformed: 'shorter than a RADIUS header' };
  const length = datagram.readUInt16BE(2);
  if (length < MIN_PACKET_LENGTH || length > MAX_PACKET_LENGTH) return { malformed: `Length ${length} outside 20–4096` };
  if (length > datagram.length) return { malformed: `Length ${length} is more than the ${datagram.length} octets received` };
  const packet = datagram.subarray(0, length);
  const attributes: RawAttribute[] = [];
  let message_authenticator_offset = -1;
  for (let offset = MIN_PACKET_LENGTH; offset < length; ) {
    if (offset + 2 > length) return { malformed: 'attribute header cut off' };
    const type = packet[offset]!;
    const attribute_length = packet[offset + 1]!;
    if (attribute_length < 2) return { malformed: `attribute ${type} has length ${attribute_length}` };
    if (offset + attribute_length > length) return { malformed: `attribute ${type} runs past the packet` };
    if (type === ATTRIBUTE.MESSAGE_AUTHENTICATOR) {
      if (attribute_length !== MESSAGE_AUTHENTICATOR_ATTRIBUTE_LENGTH) return { malformed: 'Message-Authenticator is not 16 octets' };
      if (message_authenticator_offset !== -1) return { malformed: 'more than one Message-Authenticator' };
      message_authenticator_offset = offset;
    }
    attributes.push(new PacketAttribute(type, packet, offset + 2, offset + attribute_length));
    offset += attribute_length;
  }
  return {
    code: packet[0]!,
    identifier: packet[1]!,
    packet,
    authenticator: packet.subarray(4, 4 + AUTHENTICATOR_LENGTH),
    attributes,
    message_authenticator_offset,
  };
}

export const isMalformed = (parsed: ParsedPacket | Malformed): parsed is Malformed => 'malformed' in parsed;

export function firstAttribute(parsed: Pick<ParsedPacket, 'attributes'>, type: number): Buffer | null {
  for (const attribute of parsed.attributes) if (attribute.type === type) return attribute.value;
  return null;
}

/** Equal lengths and equal bytes, in time that does not depend on where they differ. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/**
 * MD5 and HMAC-MD5 without a Hash or Hmac object per call. Each createHash/createHmac is a native object that
 * V8's young-generation collector must finalise through a weak callback, and so is each digest's Buffer; at
 * 2,000 Access-Requests a second (four digests each) that made every scavenge 5–60 ms instead of about one, and
 * those pauses were radius-bridge's p99 (issue 7). `crypto.hash` is one call with no object; its digest comes
 * back as a 16-character latin1 string (an ordinary heap string) and is written where it belongs. The parts are
 * laid out in one scratch buffer first: everything here is synchronous, so the scratch is never shared.
 */
const MD5_LENGTH = 16;
const HMAC_BLOCK = 64;
let scratch = Buffer.allocUnsafeSlow(HMAC_BLOCK + MAX_PACKET_LENGTH + 256);

function scratchOf(length: number): Buffer {
  if (scratch.length < length) scratch = Buffer.allocUnsafeSlow(length);
  return scratch;
}

/** MD5 of `data`, written into `target` at `offset` ('binary' is latin1: one character per octet). */
function md5Into(data: Uint8Array, target: Uint8Array, offset: number): void {
  const digest = hash('md5', data, 'binary');
  for (let i = 0; i < MD5_LENGTH; i += 1) target[offset + i] = digest.charCodeAt(i);
}

/** MD5 of `first` then `second` (a packet then the secret, the secret then a block…), into `target` at `offset`. */
function md5Of2(first: Uint8Array, second: Uint8Array, target: Uint8Array, offset: number): void {
  const length = first.length + second.length;
  const buffer = scratchOf(length);
  buffer.set(first, 0);
  buffer.set(second, first.length);
  md5Into(buffer.subarray(0, length), target, offset);
}

const HMAC_INNER = Buffer.alloc(HMAC_BLOCK + MD5_LENGTH);
const HMAC_KEY = Buffer.alloc(MD5_LENGTH);

/**
 * RFC 2104 HMAC-MD5 of `message`, into `target` at `offset`: MD5((K ^ opad) | MD5((K ^ ipad) | message)), a key
 * over 64 octets first hashed. `prepare` may change the message's copy (zero a Message-Authenticator, put another
 * authenticator in the header) before it is hashed; the message itself is left alone.
 */
function hmacMd5Into(secret: Uint8Array, message: Uint8Array, target: Uint8Array, offset: number, prepare?: (copy: Buffer) => void): void {
  let key = secret;
  if (key.length > HMAC_BLOCK) {
    md5Into(key, HMAC_KEY, 0);
    key = HMAC_KEY;
  }
  const length = HMAC_BLOCK + message.length;
  const buffer = scratchOf(length);
  for (let i = 0; i < HMAC_BLOCK; i += 1) buffer[i] = (i < key.length ? key[i]! : 0) ^ 0x36;
  buffer.set(message, HMAC_BLOCK);
  prepare?.(buffer.subarray(HMAC_BLOCK, length));
  md5Into(buffer.subarray(0, length), HMAC_INNER, HMAC_BLOCK);
  for (let i = 0; i < HMAC_BLOCK; i += 1) HMAC_INNER[i] = (i < key.length ? key[i]! : 0) ^ 0x5c;
  md5Into(HMAC_INNER, target, offset);
}

/** HMAC-MD5 as a new Buffer (for tests and callers that keep it). */
export function hmacMd5(secret: Uint8Array, message: Uint8Array): Buffer {
  const out = Buffer.alloc(MD5_LENGTH);
  hmacMd5Into(secret, message, out, 0);
  return out;
}

/** A digest computed to be compared, then forgotten: one buffer, reused. */
const EXPECTED = Buffer.alloc(MD5_LENGTH);

/** HMAC-MD5 over the packet with the Message-Authenticator's value zeroed and `authenticator` in the header. */
function messageAuthenticatorInto(packet: Buffer, offset: number, secret: Buffer, authenticator: Buffer, target: Buffer): void {
  hmacMd5Into(secret, packet, target, 0, (copy) => {
    copy.set(authenticator, 4);
    copy.fill(0, offset + 2, offset + MESSAGE_AUTHENTICATOR_ATTRIBUTE_LENGTH);
  });
}

const ZERO_AUTHENTICATOR = Buffer.alloc(AUTHENTICATOR_LENGTH);

/**
 * RFC 3579 §3.2 for a request: the HMAC covers the packet with the Message-Authenticator zeroed and, in the
 * header, the Access-Request's (random) authenticator — or, for Accounting-, Disconnect- and CoA-Request
 * (RFC 5176 §3.5), 16 zero octets, since their authenticator is computed over the finished packet.
 */
export function verifyRequestMessageAuthenticator(parsed: ParsedPacket, secret: Buffer): boolean {
  const offset = parsed.message_authenticator_offset;
  if (offset === -1) return false;
  const computed_authenticator = parsed.code === CODE.ACCOUNTING_REQUEST || parsed.code === CODE.DISCONNECT_REQUEST || parsed.code === CODE.COA_REQUEST;
  messageAuthenticatorInto(parsed.packet, offset, secret, computed_authenticator ? ZERO_AUTHENTICATOR : parsed.authenticator, EXPECTED);
  return constantTimeEqual(EXPECTED, parsed.packet.subarray(offset + 2, offset + MESSAGE_AUTHENTICATOR_ATTRIBUTE_LENGTH));
}

/** RFC 2866 §3 / RFC 5176 §3.5: MD5(Code | Identifier | Length | 16 zero octets | Attributes | Secret). */
export function verifyRequestAuthenticator(parsed: ParsedPacket, secret: Buffer): boolean {
  authenticatorInto(parsed.packet, ZERO_AUTHENTICATOR, secret, EXPECTED);
  return constantTimeEqual(EXPECTED, parsed.authenticator);
}

/** MD5(packet with `authenticator` in its header | secret), into `target`. */
function authenticatorInto(packet: Buffer, authenticator: Buffer, secret: Buffer, target: Buffer): void {
  const length = packet.length + secret.length;
  const buffer = scratchOf(length);
  buffer.set(packet, 0);
  buffer.set(authenticator, 4);
  buffer.set(secret, packet.length);
  md5Into(buffer.subarray(0, length), target, 0);
}

/** A reply's Response Authenticator: MD5(Code | Identifier | Length | Request Authenticator | Attributes | Secret). */
export function verifyResponse(response: ParsedPacket, request_authenticator: Buffer, secret: Buffer): boolean {
  authenticatorInto(response.packet, request_authenticator, secret, EXPECTED);
  if (!constantTimeEqual(EXPECTED, response.authenticator)) return false;
  if (response.message_authenticator_offset === -1) return true;
  const offset = response.message_authenticator_offset;
  messageAuthenticatorInto(response.packet, offset, secret, request_authenticator, EXPECTED);
  return constantTimeEqual(EXPECTED, response.packet.subarray(offset + 2, offset + MESSAGE_AUTHENTICATOR_ATTRIBUTE_LENGTH));
}

/** MD5(secret | previous block) for User-Password, used at once. */
const BLOCK_KEY = Buffer.alloc(MD5_LENGTH);

/**
 * RFC 2865 §5.2: User-Password is the password NUL-padded to a multiple of 16 (at most 128 octets), each block
 * XORed with MD5(secret | previous cipher block), the first with the Request Authenticator. The clear text
 * ends at the first NUL, as FreeRADIUS reads it. Null when the attribute cannot be a User-Password.
 */
export function decryptUserPassword(cipher: Buffer, secret: Buffer, authenticator: Buffer): Buffer | null {
  if (cipher.length < 16 || cipher.length > 128 || cipher.length % 16 !== 0) return null;
  const clear = Buffer.allocUnsafe(cipher.length);
  let previous = authenticator;
  for (let block = 0; block < cipher.length; block += 16) {
    md5Of2(secret, previous, BLOCK_KEY, 0);
    for (let i = 0; i < 16; i += 1) clear[block + i] = cipher[block + i]! ^ BLOCK_KEY[i]!;
    previous = cipher.subarray(block, block + 16);
  }
  const end = clear.indexOf(0);
  return end === -1 ? clear : clear.subarray(0, end);
}

/** The inverse, for test clients and the benchmark's load generator. */
export function encryptUserPassword(password: Buffer, secret: Buffer, authenticator: Buffer): Buffer {
  const padded = Buffer.alloc(Math.max(16, Math.ceil(password.length / 16) * 16));
  password.copy(padded);
  const cipher = Buffer.allocUnsafe(padded.length);
  let previous = authenticator;
  for (let block = 0; block < padded.length; block += 16) {
    md5Of2(secret, previous, BLOCK_KEY, 0);
    for (let i = 0; i < 16; i += 1) cipher[block + i] = padded[block + i]! ^ BLOCK_KEY[i]!;
    previous = cipher.subarray(block, block + 16);
  }
  return cipher;
}

/**
 * RFC 1994 / RFC 2865 §2.2: CHAP-Password is one octet of CHAP Identifier then MD5(Identifier | password |
 * challenge); the challenge is CHAP-Challenge when present, else the Request Authenticator.
 */
export function verifyChap(chap_password: Buffer, password: Buffer, challenge: Buffer): boolean {
  if (chap_password.length !== 17) return false;
  const length = 1 + password.length + challenge.length;
  const buffer = scratchOf(length);
  buffer[0] = chap_password[0]!;
  buffer.set(password, 1);
  buffer.set(challenge, 1 + password.length);
  md5Into(buffer.subarray(0, length), EXPECTED, 0);
  return constantTimeEqual(EXPECTED, chap_password.subarray(1));
}

/** Code | Identifier | Length | Authenticator | attributes (already encoded TLVs). */
function assemble(code: number, identifier: number, authenticator: Buffer, attributes: Buffer): Buffer {
  const length = MIN_PACKET_LENGTH + attributes.length;
  if (length > MAX_PACKET_LENGTH) throw new RangeError(`a RADIUS packet of ${length} octets is over 4096`);
  const packet = Buffer.allocUnsafe(length);
  packet[0] = code;
  packet[1] = identifier;
  packet.writeUInt16BE(length, 2);
  authenticator.copy(packet, 4);
  attributes.copy(packet, MIN_PACKET_LENGTH);
  return packet;
}

const EMPTY_MESSAGE_AUTHENTICATOR = Buffer.from([ATTRIBUTE.MESSAGE_AUTHENTICATOR, MESSAGE_AUTHENTICATOR_ATTRIBUTE_LENGTH, ...new Array<number>(16).fill(0)]);

/**
 * A signed reply to a request: Message-Authenticator as the first attribute (what BlastRADIUS-hardened clients
 * check first), then `attributes` (encoded TLVs), then the request's Proxy-State attributes in order (RFC 2865
 * §5.33). The HMAC is computed with the Request Authenticator in the header, then the Response Authenticator.
 */
export function signReply(
  code: number,
  request: Pick<ParsedPacket, 'identifier' | 'authenticator' | 'attributes'>,
  attributes: Buffer,
  secret: Buffer,
  options: Readonly<{ message_authenticator?: boolean }> = {},
): Buffer {
  const with_message_authenticator = options.message_authenticator ?? true;
  const proxy_states: Buffer[] = [];
  for (const attribute of request.attributes) {
    if (attribute.type === ATTRIBUTE.PROXY_STATE) proxy_states.push(Buffer.from([ATTRIBUTE.PROXY_STATE, attribute.value.length + 2]), attribute.value);
  }
  const body = Buffer.concat([...(with_message_authenticator ? [EMPTY_MESSAGE_AUTHENTICATOR] : []), attributes, ...proxy_states]);
  const packet = assemble(code, request.identifier, request.authenticator, body);
  if (with_message_authenticator) hmacMd5Into(secret, packet, packet, MIN_PACKET_LENGTH + 2);
  md5Of2(packet, secret, packet, 4);
  return packet;
}

/**
 * A request the server sends (Disconnect-Request, CoA-Request; RFC 5176 §3.5): Message-Authenticator first,
 * computed over the packet with a zero authenticator, then the Request Authenticator over the whole packet.
 */
export function signServerRequest(code: number, identifier: number, attributes: Buffer, secret: Buffer): Buffer {
  const packet = assemble(code, identifier, ZERO_AUTHENTICATOR, Buffer.concat([EMPTY_MESSAGE_AUTHENTICATOR, attributes]));
  hmacMd5Into(secret, packet, packet, MIN_PACKET_LENGTH + 2);
  md5Of2(packet, secret, packet, 4);
  return packet;
}

/**
 * An Access-Request (or Status-Server) as a router sends it, for tests and the load generator: random
 * authenticator, Message-Authenticator first. `attributes` gets the authenticator (User-Password depends on it).
 */
export function signAccessRequest(
  identifier: number,
  attributes: (authenticator: Buffer) => Buffer,
  secret: Buffer,
  authenticator: Buffer = randomBytes(16),
  code: number = CODE.ACCESS_REQUEST,
): Buffer {
  const packet = assemble(code, identifier, authenticator, Buffer.concat([EMPTY_MESSAGE_AUTHENTICATOR, attributes(authenticator)]));
  hmacMd5Into(secret, packet, packet, MIN_PACKET_LENGTH + 2);
  return packet;
}

/** An Accounting-Request as a router sends it (RFC 2866 §3 Request Authenticator; no Message-Authenticator). */
export function signAccountingRequest(identifier: number, attributes: Buffer, secret: Buffer): Buffer {
  const packet = assemble(CODE.ACCOUNTING_REQUEST, identifier, ZERO_AUTHENTICATOR, attributes);
  md5Of2(packet, secret, packet, 4);
  return packet;
}

/** One attribute as a TLV; values over 253 octets cannot be one attribute. */
export function tlv(type: number, value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > 253) throw new RangeError(`attribute ${type} value of ${bytes.length} octets is over 253`);
  return Buffer.concat([Buffer.from([type, bytes.length + 2]), bytes]);
}

export const integerValue = (value: number): Buffer => {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
};

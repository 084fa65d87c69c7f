import { createHmac, randomBytes } from 'node:crypto';
import { encodeAttributes, type ReplyAttribute } from '../../../radius-bridge/attribute-codec.js';
import { ATTRIBUTE, CODE, encryptUserPassword, signAccessRequest, signAccountingRequest, tlv } from '../../../radius-bridge/wire.js';

/**
 * Packets as a router builds them, for tests that need what radclient cannot do: a chosen source address,
 * no Message-Authenticator, a Proxy-State, the same packet twice.
 */
export type AccessRequestOptions = Readonly<{
  user: string;
  password?: string;
  secret: string;
  identifier?: number;
  attributes?: readonly ReplyAttribute[];
  /** Default true: Message-Authenticator first, as RouterOS 7.15+ sends it. */
  message_authenticator?: boolean;
  proxy_state?: Buffer;
  authenticator?: Buffer;
}>;

export function accessRequest(options: AccessRequestOptions): Buffer {
  const secret = Buffer.from(options.secret);
  const identifier = options.identifier ?? Math.floor(Math.random() * 256);
  const body = (authenticator: Buffer): Buffer =>
    Buffer.concat([
      tlv(ATTRIBUTE.USER_NAME, options.user),
      ...(options.password === undefined ? [] : [tlv(ATTRIBUTE.USER_PASSWORD, encryptUserPassword(Buffer.from(options.password), secret, authenticator))]),
      tlv(ATTRIBUTE.NAS_IP_ADDRESS, Buffer.from([127, 0, 0, 1])),
      encodeAttributes(options.attributes ?? []),
      ...(options.proxy_state === undefined ? [] : [tlv(ATTRIBUTE.PROXY_STATE, options.proxy_state)]),
    ]);
  const authenticator = options.authenticator ?? randomBytes(16);
  if (options.message_authenticator ?? true) return signAccessRequest(identifier, body, secret, authenticator);
  const attributes = body(authenticator);
  const packet = Buffer.alloc(20 + attributes.length);
  packet[0] = CODE.ACCESS_REQUEST;
  packet[1] = identifier;
  packet.writeUInt16BE(packet.length, 2);
  authenticator.copy(packet, 4);
  attributes.copy(packet, 20);
  return packet;
}

export function accountingRequest(options: Readonly<{ secret: string; identifier?: number; attributes: readonly ReplyAttribute[] }>): Buffer {
  return signAccountingRequest(options.identifier ?? Math.floor(Math.random() * 256), encodeAttributes(options.attributes), Buffer.from(options.secret));
}

/** Recomputes a Message-Authenticator in place (for building deliberately odd but signed packets). */
export function resign(packet: Buffer, secret: string, offset: number): Buffer {
  packet.fill(0, offset + 2, offset + 18);
  createHmac('md5', secret).update(packet).digest().copy(packet, offset + 2);
  return packet;
}

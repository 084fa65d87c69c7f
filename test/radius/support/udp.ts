import dgram from 'node:dgram';
import { isMalformed, parsePacket, verifyResponse, type ParsedPacket } from '../../../radius-bridge/wire.js';

/** A UDP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Sends one datagram from `source` and waits up to `timeout_ms` for one answer (null when none comes). */
export async function exchange(packet: Buffer, port: number, options: Readonly<{ source?: string; source_port?: number; timeout_ms?: number }> = {}): Promise<Buffer | null> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(options.source_port ?? 0, options.source ?? '127.0.0.1', () => resolve()));
  try {
    return await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), options.timeout_ms ?? 1_000);
      socket.once('message', (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      socket.send(packet, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

export type MessageAuthenticatorCheck = Readonly<{ present: boolean; first: boolean; valid: boolean }>;

/** The BlastRADIUS checks radclient 3.2.1 cannot make (it has no -b): Message-Authenticator present, first, valid. */
export function checkReplySignature(request: Buffer, reply: Buffer, secret: string): MessageAuthenticatorCheck {
  const parsed = parsePacket(reply);
  if (isMalformed(parsed)) return { present: false, first: false, valid: false };
  const present = parsed.message_authenticator_offset !== -1;
  return {
    present,
    first: parsed.message_authenticator_offset === 20,
    valid: present && verifyResponse(parsed as ParsedPacket, request.subarray(4, 20), Buffer.from(secret)),
  };
}

import dgram from 'node:dgram';
import { decodeAttributes } from '../../../radius-bridge/attribute-codec.js';
import { CODE, isMalformed, parsePacket, signReply, verifyRequestAuthenticator, verifyRequestMessageAuthenticator, type ParsedPacket } from '../../../radius-bridge/wire.js';

/**
 * A router's RFC 5176 listener (RouterOS `/radius incoming`): receives Disconnect-Request and CoA-Request,
 * verifies each with the shared secret (Request Authenticator and Message-Authenticator, as a router does),
 * records it, and answers ACK — or NAK, or nothing, as the test asks.
 */
export type ReceivedRequest = Readonly<{
  kind: 'disconnect' | 'coa';
  attributes: ReadonlyMap<string, readonly string[]>;
  authenticator_valid: boolean;
  message_authenticator_valid: boolean;
}>;

export class TestNas {
  readonly received: ReceivedRequest[] = [];
  /** `nak-coa`: refuses CoA (as RouterOS does for what it cannot change in place) and acknowledges Disconnect. */
  mode: 'ack' | 'nak' | 'nak-coa' | 'silent' = 'ack';
  #socket: dgram.Socket | null = null;
  #waiters: (() => void)[] = [];
  port = 0;

  constructor(private readonly secret: string) {}

  async start(): Promise<number> {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (message, remote) => this.#onRequest(message, remote));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    this.#socket = socket;
    this.port = socket.address().port;
    return this.port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#socket === null ? resolve() : this.#socket.close(() => resolve())));
  }

  /** Resolves with the first request received after `after` requests, or rejects after timeout_ms. */
  async next(after: number, timeout_ms: number): Promise<ReceivedRequest> {
    const deadline = Date.now() + timeout_ms;
    while (this.received.length <= after) {
      if (Date.now() > deadline) throw new Error(`the test NAS received no request within ${timeout_ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[after]!;
  }

  #onRequest(message: Buffer, remote: dgram.RemoteInfo): void {
    const parsed = parsePacket(message);
    if (isMalformed(parsed) || (parsed.code !== CODE.DISCONNECT_REQUEST && parsed.code !== CODE.COA_REQUEST)) return;
    const secret = Buffer.from(this.secret);
    const kind = parsed.code === CODE.DISCONNECT_REQUEST ? 'disconnect' : 'coa';
    this.received.push({
      kind,
      attributes: decodeAttributes(parsed.packet),
      authenticator_valid: verifyRequestAuthenticator(parsed as ParsedPacket, secret),
      message_authenticator_valid: verifyRequestMessageAuthenticator(parsed as ParsedPacket, secret),
    });
    for (const wake of this.#waiters.splice(0)) wake();
    if (this.mode === 'silent') return;
    const ack = kind === 'disconnect' ? CODE.DISCONNECT_ACK : CODE.COA_ACK;
    const nak = kind === 'disconnect' ? CODE.DISCONNECT_NAK : CODE.COA_NAK;
    const refuse = this.mode === 'nak' || (this.mode === 'nak-coa' && kind === 'coa');
    // NAK with Error-Cause 503 Session-Context-Not-Found, as RouterOS does for a session it does not have.
    const body = refuse ? Buffer.from([101, 6, 0, 0, 0x01, 0xf7]) : Buffer.alloc(0);
    this.#socket?.send(signReply(refuse ? nak : ack, parsed, body, secret), remote.port, remote.address);
  }
}

import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { ATTRIBUTE, CODE, firstAttribute, isMalformed, parsePacket, signServerRequest, verifyResponse } from './wire.js';

/**
 * Sends Disconnect-Request and CoA-Request (RFC 5176) to routers and waits for the answer: ACK, NAK (with its
 * Error-Cause) or, after `attempts` sends of the same packet `timeout_ms` apart, timeout. Every request carries
 * a Message-Authenticator; an answer counts only if its Response Authenticator (and Message-Authenticator, when
 * present) verify with the router's secret, compared in constant time. The 8-bit Identifier allows 256
 * requests in flight per router; more wait their turn, up to `max_waiting` per router.
 */
export type NasRequestKind = 'disconnect' | 'coa';
export type NasTarget = Readonly<{ address: string; port: number; secret: string }>;
export type NasRequestOutcome = Readonly<{
  outcome: 'ack' | 'nak' | 'timeout';
  attempts: number;
  /** RFC 5176 Error-Cause of a NAK (e.g. 503 Session-Context-Not-Found), or null. */
  error_cause: number | null;
}>;

export class NasBusy extends Error {
  readonly code = 'RADIUS_NAS_BUSY';
}

type InFlight = { resolve: (outcome: NasRequestOutcome) => void; request: Buffer; secret: Buffer; kind: NasRequestKind; attempts: number; timer: NodeJS.Timeout };

export class NasClient {
  #socket4: dgram.Socket | null = null;
  #socket6: dgram.Socket | null = null;
  readonly #in_flight = new Map<string, InFlight>();
  readonly #next_id = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();
  ignored_answers = 0;

  constructor(private readonly options: Readonly<{ timeout_ms: number; attempts: number; max_waiting?: number; logger?: Logger }>) {}

  async start(): Promise<void> {
    this.#socket4 = await this.#open('udp4');
  }

  async close(): Promise<void> {
    for (const entry of this.#in_flight.values()) {
      clearTimeout(entry.timer);
      entry.resolve({ outcome: 'timeout', attempts: entry.attempts, error_cause: null });
    }
    this.#in_flight.clear();
    const close = (socket: dgram.Socket | null) => new Promise<void>((resolve) => (socket === null ? resolve() : socket.close(() => resolve())));
    await Promise.all([close(this.#socket4), close(this.#socket6)]);
    this.#socket4 = null;
    this.#socket6 = null;
  }

  #open(type: 'udp4' | 'udp6'): Promise<dgram.Socket> {
    const socket = dgram.createSocket(type);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        socket.on('error', (error) => this.options.logger?.warn({ err: error }, 'radius CoA: socket error'));
        socket.on('message', (message, remote) => this.#onAnswer(message, remote));
        resolve(socket);
      });
    });
  }

  async send(kind: NasRequestKind, target: NasTarget, attributes: Buffer): Promise<NasRequestOutcome> {
    const socket = target.address.includes(':') ? (this.#socket6 ??= await this.#open('udp6')) : this.#socket4;
    if (socket === null) throw new Error('the CoA client is not started');
    const destination = `${target.address}|${target.port}`;
    const identifier = await this.#identifier(destination);
    const secret = Buffer.from(target.secret, 'utf8');
    const request = signServerRequest(kind === 'disconnect' ? CODE.DISCONNECT_REQUEST : CODE.COA_REQUEST, identifier, attributes, secret);
    const key = `${destination}|${identifier}`;
    return new Promise<NasRequestOutcome>((resolve) => {
      const entry: InFlight = {
        resolve: (outcome) => {
          clearTimeout(entry.timer);
          this.#in_flight.delete(key);
          this.#release(destination);
          resolve(outcome);
        },
        request,
        secret,
        kind,
        attempts: 0,
        timer: setTimeout(() => undefined, 0),
      };
      const attempt = (): void => {
        if (entry.attempts >= this.options.attempts) return entry.resolve({ outcome: 'timeout', attempts: entry.attempts, error_cause: null });
        entry.attempts += 1;
        // The same packet each time (same Identifier and authenticator), so the router can spot a repeat.
        socket.send(request, target.port, target.address, (error) => {
          if (error) this.options.logger?.warn({ err: error, to: destination }, 'radius CoA: send failed');
        });
        entry.timer = setTimeout(attempt, this.options.timeout_ms);
      };
      this.#in_flight.set(key, entry);
      attempt();
    });
  }

  #onAnswer(message: Buffer, remote: dgram.RemoteInfo): void {
    const parsed = parsePacket(message);
    if (isMalformed(parsed)) {
      this.ignored_answers += 1;
      return;
    }
    const address = remote.address.startsWith('::ffff:') ? remote.address.slice(7) : remote.address;
    const entry = this.#in_flight.get(`${address}|${remote.port}|${parsed.identifier}`);
    if (entry === undefined || !verifyResponse(parsed, entry.request.subarray(4, 20), entry.secret)) {
      this.ignored_answers += 1;
      return;
    }
    const ack = entry.kind === 'disconnect' ? CODE.DISCONNECT_ACK : CODE.COA_ACK;
    const nak = entry.kind === 'disconnect' ? CODE.DISCONNECT_NAK : CODE.COA_NAK;
    if (parsed.code !== ack && parsed.code !== nak) {
      this.ignored_answers += 1;
      return;
    }
    const cause = firstAttribute(parsed, ATTRIBUTE.ERROR_CAUSE);
    entry.resolve({ outcome: parsed.code === ack ? 'ack' : 'nak', attempts: entry.attempts, error_cause: cause !== null && cause.length === 4 ? cause.readUInt32BE(0) : null });
  }

  /** A free Identifier for this router, waiting when all 256 are in flight. */
  async #identifier(destination: string): Promise<number> {
    for (;;) {
      const start = this.#next_id.get(destination) ?? 0;
      for (let i = 0; i < 256; i += 1) {
        const id = (start + i) % 256;
        if (!this.#in_flight.has(`${destination}|${id}`)) {
          this.#next_id.set(destination, (id + 1) % 256);
          return id;
        }
      }
      const queue = this.#waiting.get(destination) ?? [];
      if (queue.length >= (this.options.max_waiting ?? 10_000)) throw new NasBusy(`${destination} has 256 requests in flight and ${queue.length} waiting`);
      await new Promise<void>((resolve) => {
        queue.push(resolve);
        this.#waiting.set(destination, queue);
      });
    }
  }

  #release(destination: string): void {
    const queue = this.#waiting.get(destination);
    const next = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.#waiting.delete(destination);
    next?.();
  }
}

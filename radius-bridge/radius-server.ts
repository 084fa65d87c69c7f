import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { LoopHealth, type LoopHealthSnapshot } from './loop-health.js';
import { normaliseIpAddress } from '../domain/customers/identifiers.js';
import { accountingRecord, type AccountingRecord } from './accounting-record.js';
import { AccountingQueueFull, type AccountingOutcome, type AccountingWriter } from './accounting-writer.js';
import { attributeReader, encodeReplyAttributes, UnencodableAttribute } from './attribute-codec.js';
import { authorize, type Decision } from './authorize.js';
import type { OpenSessions } from './open-sessions.js';
import type { PostAuthLog } from './postauth-log.js';
import type { Nas, RadiusModel } from './radius-model.js';
import { ReplyCache } from './reply-cache.js';
import {
  ATTRIBUTE,
  CODE,
  decryptUserPassword,
  firstAttribute,
  isMalformed,
  parsePacket,
  signReply,
  verifyRequestAuthenticator,
  verifyRequestMessageAuthenticator,
  type ParsedPacket,
} from './wire.js';

/**
 * The RADIUS server: Access-Request (and Status-Server) on the auth port, Accounting-Request on the accounting
 * port, answered from the in-memory RadiusModel and the open-session index, accounting written in batches.
 *
 * What is dropped without a word (RFC 2865 §3 "silently discard"), and counted in `stats.dropped`: packets
 * that do not parse, codes that do not belong on the port, sources that are no registered router, requests
 * whose Message-Authenticator or Request Authenticator does not verify with the router's secret, and
 * Access-Requests without a Message-Authenticator from a router that requires one (the default; BlastRADIUS,
 * CVE-2024-3596) or that carry Proxy-State without one. Every reply to an Access-Request carries a
 * Message-Authenticator as its first attribute. A retransmission is answered from the reply cache.
 * Nothing a packet contains can throw out of the handler: a bug is counted as `internal_error` and logged.
 */
export type DropReason =
  | 'malformed'
  | 'unexpected_code'
  | 'unknown_client'
  | 'ambiguous_client'
  | 'bad_authenticator'
  | 'missing_message_authenticator'
  | 'proxy_state_without_message_authenticator'
  | 'undecodable'
  | 'duplicate_in_flight'
  | 'accounting_queue_full'
  | 'accounting_failed'
  | 'internal_error';

export type RadiusStats = {
  received: number;
  access_accepts: number;
  access_rejects: number;
  accounting_responses: number;
  status_server: number;
  duplicates_answered: number;
  dropped: Record<DropReason, number>;
  /** Event-loop delay and GC pauses since the server started (computed when read; see loop-health.ts). */
  readonly loop: LoopHealthSnapshot;
};

export type RadiusServerOptions = Readonly<{
  host: string;
  auth_port: number;
  acct_port: number;
  /** SO_RCVBUF for both sockets; the kernel caps it at net.core.rmem_max. */
  receive_buffer_bytes?: number;
  reply_cache_ms?: number;
  reply_cache_entries?: number;
  logger?: Logger;
  now_ms?: () => number;
}>;

export type RadiusServerParts = Readonly<{
  model: RadiusModel;
  sessions: OpenSessions;
  accounting: AccountingWriter;
  postauth?: PostAuthLog | null;
}>;

export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

export class RadiusPortUnavailable extends Error {
  readonly code = 'RADIUS_PORT_UNAVAILABLE';
  constructor(host: string, port: number, reason: string) {
    super(
      `cannot listen on UDP ${host}:${port} (${reason === 'EACCES' ? 'not allowed' : 'in use'}); ` +
        'set RADIUS_AUTH_PORT / RADIUS_ACCT_PORT (or RADIUS_HOST) to free ones, or stop what holds it (a FreeRADIUS?)',
    );
    this.name = 'RadiusPortUnavailable';
  }
}
const LOG_EVERY_MS = 60_000;

/** The counters with `loop` read from the health monitor whenever they are read (JSON and logs included). */
function withLoop(health: LoopHealth, counters: Omit<RadiusStats, 'loop'>): RadiusStats {
  return Object.defineProperty(counters, 'loop', { enumerable: true, get: () => health.snapshot() }) as RadiusStats;
}

export class RadiusServer {
  readonly #health = new LoopHealth();
  readonly stats: RadiusStats = withLoop(this.#health, {
    received: 0,
    access_accepts: 0,
    access_rejects: 0,
    accounting_responses: 0,
    status_server: 0,
    duplicates_answered: 0,
    dropped: {
      malformed: 0,
      unexpected_code: 0,
      unknown_client: 0,
      ambiguous_client: 0,
      bad_authenticator: 0,
      missing_message_authenticator: 0,
      proxy_state_without_message_authenticator: 0,
      undecodable: 0,
      duplicate_in_flight: 0,
      accounting_queue_full: 0,
      accounting_failed: 0,
      internal_error: 0,
    },
  });
  readonly #parts: RadiusServerParts;
  readonly #options: RadiusServerOptions;
  readonly #cache: ReplyCache;
  readonly #secrets = new Map<string, Buffer>();
  readonly #last_logged = new Map<string, number>();
  #tenant_addresses: { version: number; by_tenant: Map<string, ReadonlySet<string>> } = { version: -1, by_tenant: new Map() };
  #auth: dgram.Socket | null = null;
  #acct: dgram.Socket | null = null;
  #pending_accounting = new Set<Promise<unknown>>();
  receive_buffer_bytes = 0;

  constructor(parts: RadiusServerParts, options: RadiusServerOptions) {
    this.#parts = parts;
    this.#options = options;
    this.#cache = new ReplyCache(options.reply_cache_ms ?? 5_000, options.reply_cache_entries ?? 200_000);
  }

  get #now_ms(): number {
    return this.#options.now_ms?.() ?? Date.now();
  }

  get #log(): Logger | undefined {
    return this.#options.logger;
  }

  /** Binds both ports; resolves with the ports bound (0 in the options means any free port). */
  async start(): Promise<Readonly<{ auth_port: number; acct_port: number }>> {
    this.#health.start();
    this.#auth = await this.#bind(this.#options.auth_port, (message, remote) => this.#onAuth(message, remote));
    this.#acct = await this.#bind(this.#options.acct_port, (message, remote) => this.#onAcct(message, remote));
    this.receive_buffer_bytes = this.#auth.getRecvBufferSize();
    const wanted = this.#options.receive_buffer_bytes ?? DEFAULT_RECEIVE_BUFFER_BYTES;
    // Linux reports twice what was granted; less than asked means net.core.rmem_max caps it.
    if (this.receive_buffer_bytes < wanted) {
      this.#log?.warn(
        { wanted_bytes: wanted, granted_bytes: this.receive_buffer_bytes },
        'radius: the kernel granted a smaller receive buffer (raise net.core.rmem_max); a login storm may drop packets',
      );
    }
    return { auth_port: (this.#auth.address() as AddressInfo).port, acct_port: (this.#acct.address() as AddressInfo).port };
  }

  async stop(): Promise<void> {
    const close = (socket: dgram.Socket | null) => new Promise<void>((resolve) => (socket === null ? resolve() : socket.close(() => resolve())));
    await Promise.all([close(this.#auth), close(this.#acct)]);
    this.#auth = null;
    this.#acct = null;
    await Promise.allSettled([...this.#pending_accounting]);
    this.#health.stop();
  }

  #bind(port: number, on_message: (message: Buffer, remote: dgram.RemoteInfo) => void): Promise<dgram.Socket> {
    const type = this.#options.host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, recvBufferSize: this.#options.receive_buffer_bytes ?? DEFAULT_RECEIVE_BUFFER_BYTES });
    return new Promise((resolve, reject) => {
      socket.once('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new RadiusPortUnavailable(this.#options.host, port, error.code) : error);
      });
      socket.bind(port, this.#options.host, () => {
        socket.removeAllListeners('error');
        socket.on('error', (error) => this.#log?.error({ err: error }, 'radius: socket error'));
        socket.on('message', on_message);
        resolve(socket);
      });
    });
  }

  #drop(reason: DropReason, remote: dgram.RemoteInfo, detail?: string): void {
    this.stats.dropped[reason] += 1;
    // One line per reason and source a minute: a flood must not become a flood of logs.
    const key = `${reason}|${remote.address}`;
    const now = this.#now_ms;
    if ((this.#last_logged.get(key) ?? 0) + LOG_EVERY_MS > now) return;
    if (this.#last_logged.size > 10_000) this.#last_logged.clear();
    this.#last_logged.set(key, now);
    const level = reason === 'internal_error' || reason === 'accounting_failed' ? 'error' : reason === 'unknown_client' || reason === 'bad_authenticator' ? 'warn' : 'info';
    this.#log?.[level]({ reason, source: `${remote.address}:${remote.port}`, detail, dropped: this.stats.dropped[reason] }, 'radius: packet dropped');
  }

  readonly #addresses = new Map<string, string>();

  /** A source address in its one text form (an IPv4-mapped IPv6 address is the IPv4 one), remembered. */
  #address(raw: string): string {
    let address = this.#addresses.get(raw);
    if (address === undefined) {
      if (this.#addresses.size > 10_000) this.#addresses.clear();
      this.#addresses.set(raw, (address = normaliseIpAddress(raw) ?? raw));
    }
    return address;
  }

  #secret(nas: Nas): Buffer {
    let secret = this.#secrets.get(nas.secret);
    if (secret === undefined) {
      if (this.#secrets.size > 10_000) this.#secrets.clear();
      this.#secrets.set(nas.secret, (secret = Buffer.from(nas.secret, 'utf8')));
    }
    return secret;
  }

  /** The router that sent it: the one whose secret verifies the packet (several ISPs may share an address). */
  #identify(parsed: ParsedPacket, candidates: readonly Nas[]): Nas | DropReason {
    if (parsed.code === CODE.ACCOUNTING_REQUEST) {
      for (const nas of candidates) {
        const secret = this.#secret(nas);
        if (!verifyRequestAuthenticator(parsed, secret)) continue;
        if (parsed.message_authenticator_offset !== -1 && !verifyRequestMessageAuthenticator(parsed, secret)) continue;
        return nas;
      }
      return 'bad_authenticator';
    }
    if (parsed.message_authenticator_offset !== -1) {
      for (const nas of candidates) if (verifyRequestMessageAuthenticator(parsed, this.#secret(nas))) return nas;
      return 'bad_authenticator';
    }
    if (firstAttribute(parsed, ATTRIBUTE.PROXY_STATE) !== null) return 'proxy_state_without_message_authenticator';
    if (candidates.length > 1) return 'ambiguous_client';
    const nas = candidates[0]!;
    if (nas.require_message_authenticator || parsed.code === CODE.STATUS_SERVER) return 'missing_message_authenticator';
    return nas;
  }

  /** Without a callback: a failed send is reported on the socket's 'error' listener (logged), not per packet. */
  #send(socket: dgram.Socket | null, reply: Buffer, remote: dgram.RemoteInfo): void {
    socket?.send(reply, remote.port, remote.address);
  }

  /** Common to both ports: parse, find the router, answer a retransmission from the cache. */
  #admit(
    message: Buffer,
    remote: dgram.RemoteInfo,
    socket: dgram.Socket | null,
    codes: readonly number[],
  ): { parsed: ParsedPacket; nas: Nas; key: string } | null {
    this.stats.received += 1;
    const parsed = parsePacket(message);
    if (isMalformed(parsed)) {
      this.#drop('malformed', remote, parsed.malformed);
      return null;
    }
    if (!codes.includes(parsed.code)) {
      this.#drop('unexpected_code', remote, `code ${parsed.code}`);
      return null;
    }
    const address = this.#address(remote.address);
    const candidates = this.#parts.model.nasByAddress(address);
    if (candidates.length === 0) {
      this.#drop('unknown_client', remote);
      return null;
    }
    const key = ReplyCache.key(address, remote.port, parsed.identifier, parsed.authenticator);
    const cached = this.#cache.claim(key, this.#now_ms);
    if (cached.kind === 'answered') {
      this.stats.duplicates_answered += 1;
      this.#send(socket, cached.reply, remote);
      return null;
    }
    if (cached.kind === 'in-flight') {
      this.#drop('duplicate_in_flight', remote);
      return null;
    }
    const nas = this.#identify(parsed, candidates);
    if (typeof nas === 'string') {
      this.#cache.forget(key);
      this.#drop(nas, remote);
      return null;
    }
    return { parsed, nas, key };
  }

  #onAuth(message: Buffer, remote: dgram.RemoteInfo): void {
    let key: string | null = null;
    try {
      const admitted = this.#admit(message, remote, this.#auth, [CODE.ACCESS_REQUEST, CODE.STATUS_SERVER]);
      if (admitted === null) return;
      key = admitted.key;
      const { parsed, nas } = admitted;
      const secret = this.#secret(nas);
      if (parsed.code === CODE.STATUS_SERVER) {
        // RFC 5997: Status-Server (with a verified Message-Authenticator) is answered with an Access-Accept.
        this.stats.status_server += 1;
        return this.#reply(key, signReply(CODE.ACCESS_ACCEPT, parsed, Buffer.alloc(0), secret), remote);
      }
      const attributes = attributeReader(parsed.packet, parsed.attributes);
      const decision = this.#decide(parsed, attributes, nas, secret);
      let body: Buffer;
      try {
        body = encodeReplyAttributes(decision.reply);
      } catch (error) {
        if (!(error instanceof UnencodableAttribute)) throw error;
        // A row the dictionaries cannot send: refuse rather than send half a service, and say which.
        this.#log?.error({ err: error, user: decision.login }, 'radius: reply attribute cannot be encoded; rejecting');
        return this.#answerAuth(key, parsed, { ...decision, accept: false, reply: [] }, Buffer.alloc(0), secret, remote, attributes);
      }
      this.#answerAuth(key, parsed, decision, body, secret, remote, attributes);
    } catch (error) {
      if (key !== null) this.#cache.forget(key);
      this.#log?.error({ err: error }, 'radius: Access-Request handler failed');
      this.#drop('internal_error', remote, error instanceof Error ? error.message : String(error));
    }
  }

  #decide(parsed: ParsedPacket, attribute: (name: string) => string | undefined, nas: Nas, secret: Buffer): Decision {
    const { model, sessions } = this.#parts;
    const user_name_raw = firstAttribute(parsed, ATTRIBUTE.USER_NAME);
    const user_password = firstAttribute(parsed, ATTRIBUTE.USER_PASSWORD);
    const chap_password = firstAttribute(parsed, ATTRIBUTE.CHAP_PASSWORD);
    const addresses = this.#addressesOf(nas.tenant);
    return authorize(
      {
        user_name: user_name_raw === null ? '' : user_name_raw.toString('utf8'),
        password: user_password === null ? null : (decryptUserPassword(user_password, secret, parsed.authenticator) ?? Buffer.alloc(0)),
        chap: chap_password === null ? null : { password: chap_password, challenge: firstAttribute(parsed, ATTRIBUTE.CHAP_CHALLENGE) ?? parsed.authenticator },
        attribute,
        now_seconds: Math.floor(this.#now_ms / 1000),
      },
      {
        user: (login) => model.user(nas.tenant, login),
        group: (name) => model.group(name),
        open_sessions: (names) => sessions.count(names, addresses),
      },
    );
  }

  #answerAuth(key: string, parsed: ParsedPacket, decision: Decision, body: Buffer, secret: Buffer, remote: dgram.RemoteInfo, attribute: (name: string) => string | undefined): void {
    const code = decision.accept ? CODE.ACCESS_ACCEPT : CODE.ACCESS_REJECT;
    if (decision.accept) this.stats.access_accepts += 1;
    else this.stats.access_rejects += 1;
    this.#reply(key, signReply(code, parsed, body, secret), remote);
    const username = attribute('User-Name') ?? '';
    this.#log?.debug({ user: username, accept: decision.accept, reason: decision.reason, nas: remote.address }, 'radius: access');
    this.#parts.postauth?.record({
      username,
      reply: decision.accept ? 'Access-Accept' : 'Access-Reject',
      calledstationid: attribute('Called-Station-Id') ?? null,
      callingstationid: attribute('Calling-Station-Id') ?? null,
      authdate: new Date(this.#now_ms).toISOString(),
    });
  }

  #reply(key: string, reply: Buffer, remote: dgram.RemoteInfo): void {
    this.#cache.answer(key, reply, this.#now_ms);
    this.#send(reply[0] === CODE.ACCOUNTING_RESPONSE ? this.#acct : this.#auth, reply, remote);
  }

  /** The NAS addresses of one ISP: Simultaneous-Use counts sessions on its routers only. */
  #addressesOf(tenant: string): ReadonlySet<string> {
    const model = this.#parts.model;
    if (this.#tenant_addresses.version !== model.version) this.#tenant_addresses = { version: model.version, by_tenant: new Map() };
    let addresses = this.#tenant_addresses.by_tenant.get(tenant);
    if (addresses === undefined) {
      addresses = new Set(model.nasOfTenant(tenant).map((nas) => nas.nasname));
      this.#tenant_addresses.by_tenant.set(tenant, addresses);
    }
    return addresses;
  }

  #onAcct(message: Buffer, remote: dgram.RemoteInfo): void {
    let key: string | null = null;
    try {
      const admitted = this.#admit(message, remote, this.#acct, [CODE.ACCOUNTING_REQUEST]);
      if (admitted === null) return;
      key = admitted.key;
      const { parsed, nas } = admitted;
      const record = accountingRecord(parsed, attributeReader(parsed.packet, parsed.attributes), this.#address(remote.address), Math.floor(this.#now_ms / 1000));
      const written_key = key;
      const work = this.#parts.accounting
        .write(record)
        .then((outcome) => {
          this.#track(record, outcome);
          this.stats.accounting_responses += 1;
          this.#reply(written_key, signReply(CODE.ACCOUNTING_RESPONSE, parsed, Buffer.alloc(0), this.#secret(nas), { message_authenticator: false }), remote);
        })
        .catch((error: unknown) => {
          this.#cache.forget(written_key);
          if (error instanceof AccountingQueueFull) this.#drop('accounting_queue_full', remote);
          else this.#drop('accounting_failed', remote, error instanceof Error ? error.message : String(error));
        })
        .finally(() => this.#pending_accounting.delete(work));
      this.#pending_accounting.add(work);
    } catch (error) {
      if (key !== null) this.#cache.forget(key);
      this.#log?.error({ err: error }, 'radius: Accounting-Request handler failed');
      this.#drop('internal_error', remote, error instanceof Error ? error.message : String(error));
    }
  }

  /** Keeps the open-session index in step with what the statements did to radacct. */
  #track(record: AccountingRecord, outcome: AccountingOutcome): void {
    const sessions = this.#parts.sessions;
    switch (record.status) {
      case 'start':
      case 'interim-update':
        if (outcome.session_open === true) {
          sessions.open({ acctuniqueid: record.acctuniqueid, username: record.username, nas_address: record.nasipaddress, started_epoch: record.epoch - (record.status === 'start' ? 0 : (record.session_time ?? 0)) });
        } else if (outcome.session_open === false) {
          sessions.close(record.acctuniqueid);
        }
        break;
      case 'stop':
        if (outcome.changed > 0) sessions.close(record.acctuniqueid);
        break;
      case 'accounting-on':
      case 'accounting-off':
        sessions.closeNas(record.nasipaddress, record.epoch);
        break;
      default:
        break;
    }
  }

}

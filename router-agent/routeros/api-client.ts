import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { RouterOsError } from './errors.js';
import { encodeSentence, parseAttributeWord, SentenceParser } from './words.js';

/**
 * A small RouterOS API client (TCP 8728, API-SSL 8729), written here because `node-routeros` is archived and
 * crashes on what current routers send. It survives, by design and by test:
 * - `!empty` (RouterOS 7.18+: a print with no result) before `!done`;
 * - `!trap` followed by `!done` (the command fails with the trap's message and category once `!done` came);
 * - `!fatal` (the router closes the session: every pending command fails, the client is closed);
 * - partial and merged TCP reads (the framing parser keeps what a read left unfinished);
 * - replies for tags it no longer waits for (a command that timed out and was cancelled): ignored;
 * - idle sockets: an idle connection is closed after `idle_timeout_ms`, a command without an answer fails
 *   after `command_timeout_ms` and is cancelled on the router.
 * Every command is tagged, so many may be in flight on one connection; their replies interleave.
 */
export type ApiClientOptions = Readonly<{
  host: string;
  port: number;
  /** null: plain TCP (8728). Otherwise API-SSL; see `tls_fingerprint_sha256`. */
  tls: null | Readonly<{
    /**
     * RouterOS certificates are mostly self-signed: pin the certificate's SHA-256 fingerprint (hex, colons
     * optional). null: the certificate must chain to a CA this machine trusts.
     */
    fingerprint_sha256: string | null;
    ca?: string | Buffer;
  }>;
  username: string;
  password: string;
  connect_timeout_ms: number;
  command_timeout_ms: number;
  idle_timeout_ms: number;
  /** Commands in flight on one connection; more wait in a queue of at most `max_queued`. */
  max_in_flight?: number;
  max_queued?: number;
  /** Items one reply may carry (a print of every active session of a big router is ~10,000). */
  max_reply_items?: number;
}>;

export type ApiReply = Readonly<{
  /** One record per `!re` sentence. */
  items: readonly Readonly<Record<string, string>>[];
  /** The attributes of `!done` (`ret` after an add). */
  done: Readonly<Record<string, string>>;
  /** The router said `!empty` (RouterOS 7.18+): nothing matched. */
  empty: boolean;
}>;

type Pending = {
  readonly tag: string;
  readonly items: Record<string, string>[];
  empty: boolean;
  trap: RouterOsError | null;
  readonly resolve: (reply: ApiReply) => void;
  readonly reject: (error: RouterOsError) => void;
  timer: NodeJS.Timeout | null;
};

const DEFAULT_MAX_IN_FLIGHT = 64;
const DEFAULT_MAX_QUEUED = 10_000;
const DEFAULT_MAX_REPLY_ITEMS = 1_000_000;

export class RouterOsApiClient {
  readonly #socket: net.Socket;
  readonly #options: ApiClientOptions;
  readonly #parser = new SentenceParser();
  readonly #pending = new Map<string, Pending>();
  /** Tags of commands that timed out: their late replies are expected and dropped. */
  readonly #abandoned = new Set<string>();
  readonly #queue: { words: readonly string[]; timeout_ms: number; resolve: (reply: ApiReply) => void; reject: (error: RouterOsError) => void }[] = [];
  #next_tag = 1;
  #closed: RouterOsError | null = null;
  readonly #on_close: ((reason: RouterOsError) => void)[] = [];

  private constructor(socket: net.Socket, options: ApiClientOptions) {
    this.#socket = socket;
    this.#options = options;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(options.idle_timeout_ms);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('timeout', () => {
      // Idle with nothing outstanding: close quietly, the owner reconnects when it needs the router again.
      // With commands outstanding their own timers decide.
      if (this.#pending.size === 0 && this.#queue.length === 0) this.#shutdown(new RouterOsError('ROUTEROS_UNREACHABLE', 'connection closed after being idle'));
    });
    socket.on('error', (error) => this.#shutdown(new RouterOsError('ROUTEROS_UNREACHABLE', `connection to ${options.host}:${options.port} failed: ${error.message}`)));
    socket.on('close', () => this.#shutdown(new RouterOsError('ROUTEROS_UNREACHABLE', `router ${options.host}:${options.port} closed the connection`)));
  }

  /** Connects and logs in; rejects with ROUTEROS_UNREACHABLE, ROUTEROS_TLS_MISMATCH or ROUTEROS_LOGIN_FAILED. */
  static async connect(options: ApiClientOptions): Promise<RouterOsApiClient> {
    const socket = await openSocket(options);
    const client = new RouterOsApiClient(socket, options);
    try {
      await client.#login();
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  get closed(): boolean {
    return this.#closed !== null;
  }

  /** Called once when the connection ends, whatever the reason. */
  onClose(listener: (reason: RouterOsError) => void): void {
    if (this.#closed !== null) listener(this.#closed);
    else this.#on_close.push(listener);
  }

  /** Sends one command (its words without a tag); resolves with its reply, rejects with a RouterOsError. */
  command(words: readonly string[], options: Readonly<{ timeout_ms?: number }> = {}): Promise<ApiReply> {
    if (this.#closed !== null) return Promise.reject(this.#closed);
    const timeout_ms = options.timeout_ms ?? this.#options.command_timeout_ms;
    return new Promise<ApiReply>((resolve, reject) => {
      if (this.#pending.size >= (this.#options.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT)) {
        if (this.#queue.length >= (this.#options.max_queued ?? DEFAULT_MAX_QUEUED)) {
          reject(new RouterOsError('ROUTEROS_OVERLOADED', `more than ${this.#options.max_queued ?? DEFAULT_MAX_QUEUED} commands waiting for router ${this.#options.host}`));
          return;
        }
        this.#queue.push({ words, timeout_ms, resolve, reject });
        return;
      }
      this.#send(words, timeout_ms, resolve, reject);
    });
  }

  /** Closes the connection; pending commands fail with ROUTEROS_UNREACHABLE. */
  close(): void {
    this.#shutdown(new RouterOsError('ROUTEROS_UNREACHABLE', 'connection closed by the client'));
  }

  async #login(): Promise<void> {
    const { username, password } = this.#options;
    let reply: ApiReply;
    try {
      reply = await this.command(['/login', `=name=${username}`, `=password=${password}`], { timeout_ms: this.#options.connect_timeout_ms });
    } catch (error) {
      if (error instanceof RouterOsError && error.code === 'ROUTEROS_TRAP') throw new RouterOsError('ROUTEROS_LOGIN_FAILED', `router refused the login of ${username}: ${error.message}`);
      throw error;
    }
    const challenge = reply.done.ret;
    if (challenge === undefined) return;
    // Before 6.43 the router answers with a challenge: respond with MD5(0x00 ‖ password ‖ challenge).
    const response = createHash('md5')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(password, 'utf8'), Buffer.from(challenge, 'hex')]))
      .digest('hex');
    try {
      await this.command(['/login', `=name=${username}`, `=response=00${response}`], { timeout_ms: this.#options.connect_timeout_ms });
    } catch (error) {
      if (error instanceof RouterOsError && error.code === 'ROUTEROS_TRAP') throw new RouterOsError('ROUTEROS_LOGIN_FAILED', `router refused the login of ${username}: ${error.message}`);
      throw error;
    }
  }

  #send(words: readonly string[], timeout_ms: number, resolve: (reply: ApiReply) => void, reject: (error: RouterOsError) => void): void {
    const tag = String(this.#next_tag++);
    const pending: Pending = { tag, items: [], empty: false, trap: null, resolve, reject, timer: null };
    pending.timer = setTimeout(() => {
      this.#settle(tag);
      this.#abandoned.add(tag);
      // Stop the router's work too; its late replies for this tag are dropped when they come.
      if (this.#closed === null) this.#socket.write(encodeSentence(['/cancel', `=tag=${tag}`]));
      reject(new RouterOsError('ROUTEROS_TIMEOUT', `router ${this.#options.host} did not answer ${words[0]} within ${timeout_ms} ms`));
    }, timeout_ms);
    this.#pending.set(tag, pending);
    this.#socket.write(encodeSentence([...words, `.tag=${tag}`]));
  }

  #settle(tag: string): Pending | undefined {
    const pending = this.#pending.get(tag);
    if (pending === undefined) return undefined;
    this.#pending.delete(tag);
    if (pending.timer !== null) clearTimeout(pending.timer);
    // A slot came free: send the next queued command.
    const next = this.#queue.shift();
    if (next !== undefined && this.#closed === null) this.#send(next.words, next.timeout_ms, next.resolve, next.reject);
    return pending;
  }

  #onData(chunk: Buffer): void {
    let sentences: string[][];
    try {
      sentences = this.#parser.push(chunk);
    } catch (error) {
      this.#shutdown(new RouterOsError('ROUTEROS_PROTOCOL_ERROR', error instanceof Error ? error.message : String(error)));
      return;
    }
    for (const sentence of sentences) {
      this.#onSentence(sentence);
      if (this.#closed !== null) return;
    }
  }

  #onSentence(sentence: readonly string[]): void {
    const reply = sentence[0]!;
    if (reply === '!fatal') {
      // The router ends the session; the reason is a bare word (e.g. "session terminated on request").
      const reason = sentence.slice(1).filter((word) => !word.startsWith('.tag=')).join(' ');
      this.#shutdown(new RouterOsError('ROUTEROS_FATAL', `router ${this.#options.host} ended the session: ${reason || 'no reason given'}`));
      return;
    }
    let tag: string | null = null;
    const attributes: Record<string, string> = {};
    for (const word of sentence.slice(1)) {
      if (word.startsWith('.tag=')) tag = word.slice(5);
      else {
        const attribute = parseAttributeWord(word);
        if (attribute !== null) attributes[attribute[0]] = attribute[1];
      }
    }
    if (tag === null) return; // Every command this client sends is tagged; an untagged reply answers nothing of ours.
    const pending = this.#pending.get(tag);
    if (pending === undefined) {
      if (reply === '!done') this.#abandoned.delete(tag);
      return;
    }
    switch (reply) {
      case '!re':
        if (pending.items.length >= (this.#options.max_reply_items ?? DEFAULT_MAX_REPLY_ITEMS)) {
          this.#settle(tag);
          this.#abandoned.add(tag);
          this.#socket.write(encodeSentence(['/cancel', `=tag=${tag}`]));
          pending.reject(new RouterOsError('ROUTEROS_PROTOCOL_ERROR', `a reply of more than ${this.#options.max_reply_items ?? DEFAULT_MAX_REPLY_ITEMS} items`));
          return;
        }
        pending.items.push(attributes);
        return;
      case '!empty':
        pending.empty = true;
        return;
      case '!trap':
        // The first trap wins; the command ends with the `!done` that follows.
        pending.trap ??= new RouterOsError('ROUTEROS_TRAP', attributes.message ?? 'the router refused the command', attributes.category === undefined ? null : Number(attributes.category));
        return;
      case '!done': {
        this.#settle(tag);
        if (pending.trap !== null) pending.reject(pending.trap);
        else pending.resolve({ items: pending.items, done: attributes, empty: pending.empty });
        return;
      }
      default:
        this.#shutdown(new RouterOsError('ROUTEROS_PROTOCOL_ERROR', `unknown reply word ${JSON.stringify(reply)}`));
    }
  }

  #shutdown(reason: RouterOsError): void {
    if (this.#closed !== null) return;
    this.#closed = reason;
    this.#socket.destroy();
    for (const pending of [...this.#pending.values()]) {
      if (pending.timer !== null) clearTimeout(pending.timer);
      // A trap already received explains the failure better than the closed connection.
      pending.reject(pending.trap ?? reason);
    }
    this.#pending.clear();
    for (const queued of this.#queue.splice(0)) queued.reject(reason);
    for (const listener of this.#on_close.splice(0)) listener(reason);
  }
}

function normaliseFingerprint(value: string): string {
  return value.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}

function openSocket(options: ApiClientOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: RouterOsError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new RouterOsError('ROUTEROS_UNREACHABLE', `no connection to ${options.host}:${options.port} within ${options.connect_timeout_ms} ms`)), options.connect_timeout_ms);
    const tlsOptions = options.tls;
    const socket: net.Socket =
      tlsOptions === null
        ? net.connect({ host: options.host, port: options.port })
        : tls.connect({
            host: options.host,
            port: options.port,
            // With a pinned fingerprint the chain is not checked (RouterOS certificates are self-signed); the pin is.
            rejectUnauthorized: tlsOptions.fingerprint_sha256 === null,
            ...(tlsOptions.ca === undefined ? {} : { ca: tlsOptions.ca }),
            servername: net.isIP(options.host) === 0 ? options.host : undefined,
            checkServerIdentity: () => undefined,
          });
    const ready = tlsOptions === null ? 'connect' : 'secureConnect';
    socket.once(ready, () => {
      if (tlsOptions !== null && tlsOptions.fingerprint_sha256 !== null) {
        const presented = (socket as tls.TLSSocket).getPeerCertificate().fingerprint256 ?? '';
        if (normaliseFingerprint(presented) !== normaliseFingerprint(tlsOptions.fingerprint_sha256)) {
          fail(new RouterOsError('ROUTEROS_TLS_MISMATCH', `router ${options.host}:${options.port} presented certificate ${presented}, not the pinned ${tlsOptions.fingerprint_sha256}`));
          return;
        }
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => fail(new RouterOsError('ROUTEROS_UNREACHABLE', `cannot connect to ${options.host}:${options.port}: ${error.message}`)));
  });
}

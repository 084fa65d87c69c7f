import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { RouterOsError } from './errors.js';
import type { PrintOptions, RouterEndpoint, RouterOsItem, RouterOsSession, SessionTimeouts } from './session.js';

/** A REST reply larger than this is refused (10,000 sessions print to about 3 MB). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The RouterOS 7 REST API (7.1+; HTTPS via `www-ssl`, plain HTTP via `www` since 7.9): the console as JSON,
 * HTTP Basic auth, every value a string. GET/POST …/print reads, PUT adds, PATCH sets, DELETE removes, POST
 * runs any other command (`move`, a setting menu's `set`). Errors come back as 4xx with `{ detail, message }`.
 */
export class RouterOsRestClient implements RouterOsSession {
  readonly transport = 'rest' as const;
  #closed = false;

  private constructor(
    readonly endpoint: RouterEndpoint,
    readonly timeouts: SessionTimeouts,
    readonly agent: http.Agent,
  ) {}

  /** Checks that the router answers and takes the credentials (ROUTEROS_LOGIN_FAILED on 401). */
  static async connect(endpoint: RouterEndpoint, timeouts: SessionTimeouts): Promise<RouterOsRestClient> {
    const agent = endpoint.rest_plain_http === true ? new http.Agent({ keepAlive: true, maxSockets: timeouts.max_in_flight ?? 16 }) : new PinningAgent(endpoint, timeouts);
    const client = new RouterOsRestClient(endpoint, timeouts, agent);
    await client.#request('GET', '/system/identity', undefined, timeouts.connect_timeout_ms);
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async print(path: string, options: PrintOptions = {}): Promise<readonly RouterOsItem[]> {
    const body: Record<string, unknown> = {};
    if (options.proplist !== undefined) body['.proplist'] = options.proplist;
    const where = Object.entries(options.where ?? {});
    if (where.length > 0) body['.query'] = where.map(([name, value]) => `${name}=${value}`);
    const result = await this.#request('POST', `${path}/print`, body);
    // A setting menu (`/radius/incoming`) prints as one object, a menu of items as an array.
    if (Array.isArray(result)) return result as RouterOsItem[];
    return result !== null && typeof result === 'object' ? [result as RouterOsItem] : [];
  }

  async add(path: string, attributes: Readonly<Record<string, string>>): Promise<string> {
    const result = (await this.#request('PUT', path, attributes)) as RouterOsItem | null;
    return result?.['.id'] ?? '';
  }

  async set(path: string, id: string | null, attributes: Readonly<Record<string, string>>): Promise<void> {
    if (id === null) await this.#request('POST', `${path}/set`, attributes);
    else await this.#request('PATCH', `${path}/${encodeURIComponent(id)}`, attributes);
  }

  async remove(path: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.#request('DELETE', `${path}/${encodeURIComponent(id)}`, undefined);
  }

  async move(path: string, id: string, destination: string): Promise<void> {
    await this.#request('POST', `${path}/move`, { numbers: id, destination });
  }

  close(): void {
    this.#closed = true;
    this.agent.destroy();
  }

  #request(method: string, path: string, body: unknown, timeout_ms = this.timeouts.command_timeout_ms): Promise<unknown> {
    if (this.#closed) return Promise.reject(new RouterOsError('ROUTEROS_UNREACHABLE', 'REST session closed'));
    if (!/^(\/[a-z0-9-]+)+(\/[^/]+)?$/.test(path)) return Promise.reject(new Error(`bug: ${JSON.stringify(path)} is not a RouterOS REST path`));
    const { endpoint } = this;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const module = endpoint.rest_plain_http === true ? http : https;
    return new Promise((resolve, reject) => {
      const request = module.request(
        {
          host: endpoint.host,
          port: endpoint.port,
          method,
          path: `/rest${path}`,
          agent: this.agent,
          auth: `${endpoint.username}:${endpoint.password}`,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length },
          timeout: timeout_ms,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              request.destroy(new RouterOsError('ROUTEROS_PROTOCOL_ERROR', `a REST reply of more than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', (error) => reject(new RouterOsError('ROUTEROS_UNREACHABLE', error.message)));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = null;
            try {
              parsed = text === '' ? null : JSON.parse(text);
            } catch {
              reject(new RouterOsError('ROUTEROS_PROTOCOL_ERROR', `router answered ${method} ${path} with something that is not JSON`));
              return;
            }
            const status = response.statusCode ?? 0;
            if (status === 401) reject(new RouterOsError('ROUTEROS_LOGIN_FAILED', `router refused the login of ${endpoint.username} (HTTP 401)`));
            else if (status >= 400) {
              const error = (parsed ?? {}) as { detail?: string; message?: string };
              reject(new RouterOsError('ROUTEROS_TRAP', error.detail ?? error.message ?? `HTTP ${status}`, status === 404 ? 0 : 1));
            } else resolve(parsed);
          });
        },
      );
      request.on('timeout', () => request.destroy(new RouterOsError('ROUTEROS_TIMEOUT', `router ${endpoint.host} did not answer ${method} ${path} within ${timeout_ms} ms`)));
      request.on('error', (error) => reject(error instanceof RouterOsError ? error : new RouterOsError('ROUTEROS_UNREACHABLE', `cannot reach ${endpoint.host}:${endpoint.port}: ${error.message}`)));
      request.end(payload);
    });
  }
}

/**
 * HTTPS with the router's certificate pinned: the connection is handed to the request only after the
 * fingerprint matched, so credentials never go to a router that is not the one configured.
 */
class PinningAgent extends https.Agent {
  constructor(
    readonly endpoint: RouterEndpoint,
    readonly timeouts: SessionTimeouts,
  ) {
    super({ keepAlive: true, maxSockets: timeouts.max_in_flight ?? 16 });
  }

  override createConnection(options: tls.ConnectionOptions, callback?: (error: Error | null, socket: net.Socket) => void): net.Socket | undefined {
    const pin = this.endpoint.tls_fingerprint_sha256;
    let answered = false;
    const answer = (error: Error | null): void => {
      if (answered) return;
      answered = true;
      callback?.(error, socket);
    };
    const socket = tls.connect({
      ...options,
      host: this.endpoint.host,
      port: this.endpoint.port,
      rejectUnauthorized: pin === null,
      ...(this.endpoint.ca === undefined ? {} : { ca: this.endpoint.ca }),
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => {
      const presented = socket.getPeerCertificate().fingerprint256 ?? '';
      const normalise = (value: string) => value.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
      if (pin !== null && normalise(presented) !== normalise(pin)) {
        const error = new RouterOsError('ROUTEROS_TLS_MISMATCH', `router ${this.endpoint.host} presented certificate ${presented}, not the pinned ${pin}`);
        answer(error);
        socket.destroy(error);
        return;
      }
      answer(null);
    });
    socket.once('error', (error) => answer(error));
    return undefined;
  }
}

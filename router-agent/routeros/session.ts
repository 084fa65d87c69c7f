import { RouterOsApiClient, type ApiClientOptions } from './api-client.js';
import { RouterOsRestClient } from './rest-client.js';

/** One item as RouterOS prints it: every value a string, `.id` like `*1A`. */
export type RouterOsItem = Readonly<Record<string, string>>;

export type PrintOptions = Readonly<{
  /** Equality filters (`?name=value`), all of which must hold. */
  where?: Readonly<Record<string, string>>;
  /** Only these properties (`.proplist`); `.id` is always worth asking for. */
  proplist?: readonly string[];
}>;

/**
 * What the agent does on a router, the same over the binary API and the REST API: menus are paths like
 * `/ip/firewall/filter`; a setting menu without items (`/radius/incoming`) is `set` with a null id.
 */
export interface RouterOsSession {
  readonly transport: RouterTransport;
  print(path: string, options?: PrintOptions): Promise<readonly RouterOsItem[]>;
  /** Adds an item and returns its `.id`. */
  add(path: string, attributes: Readonly<Record<string, string>>): Promise<string>;
  set(path: string, id: string | null, attributes: Readonly<Record<string, string>>): Promise<void>;
  remove(path: string, ids: readonly string[]): Promise<void>;
  /** Moves item `id` in front of item `destination` (firewall rule order). */
  move(path: string, id: string, destination: string): Promise<void>;
  close(): void;
  readonly closed: boolean;
}

export type RouterTransport = 'api' | 'api-ssl' | 'rest';

/** How to reach one router; the password arrives decrypted, only in memory. */
export type RouterEndpoint = Readonly<{
  host: string;
  port: number;
  transport: RouterTransport;
  username: string;
  password: string;
  tls_fingerprint_sha256: string | null;
  /** Test and lab routers may serve REST over plain HTTP (RouterOS 7.9+ `www`); production uses HTTPS. */
  rest_plain_http?: boolean;
  ca?: string | Buffer;
}>;

export type SessionTimeouts = Readonly<{ connect_timeout_ms: number; command_timeout_ms: number; idle_timeout_ms: number; max_in_flight?: number }>;

export async function openSession(endpoint: RouterEndpoint, timeouts: SessionTimeouts): Promise<RouterOsSession> {
  if (endpoint.transport === 'rest') return RouterOsRestClient.connect(endpoint, timeouts);
  const options: ApiClientOptions = {
    host: endpoint.host,
    port: endpoint.port,
    tls: endpoint.transport === 'api-ssl' ? { fingerprint_sha256: endpoint.tls_fingerprint_sha256, ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }) } : null,
    username: endpoint.username,
    password: endpoint.password,
    ...timeouts,
  };
  return new ApiSession(await RouterOsApiClient.connect(options), endpoint.transport);
}

/** Paths are CLI menus; a mistake in one would send a command nobody meant. */
function checkPath(path: string): void {
  if (!/^(\/[a-z0-9-]+)+$/.test(path)) throw new Error(`bug: ${JSON.stringify(path)} is not a RouterOS menu path`);
}

function checkAttributes(attributes: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (!/^[a-z0-9.-]+$/.test(name)) throw new Error(`bug: ${JSON.stringify(name)} is not a RouterOS property name`);
    // A NUL would end nothing in RouterOS's framing, but no value we send has a reason to carry one.
    if (value.includes('\u0000')) throw new Error(`bug: the value of ${name} contains a NUL byte`);
  }
}

export class ApiSession implements RouterOsSession {
  constructor(
    readonly client: RouterOsApiClient,
    readonly transport: RouterTransport,
  ) {}

  get closed(): boolean {
    return this.client.closed;
  }

  async print(path: string, options: PrintOptions = {}): Promise<readonly RouterOsItem[]> {
    checkPath(path);
    const words = [`${path}/print`];
    if (options.proplist !== undefined) words.push(`=.proplist=${options.proplist.join(',')}`);
    for (const [name, value] of Object.entries(options.where ?? {})) words.push(`?${name}=${value}`);
    return (await this.client.command(words)).items;
  }

  async add(path: string, attributes: Readonly<Record<string, string>>): Promise<string> {
    checkPath(path);
    checkAttributes(attributes);
    const reply = await this.client.command([`${path}/add`, ...Object.entries(attributes).map(([name, value]) => `=${name}=${value}`)]);
    return reply.done.ret ?? '';
  }

  async set(path: string, id: string | null, attributes: Readonly<Record<string, string>>): Promise<void> {
    checkPath(path);
    checkAttributes(attributes);
    const words = [`${path}/set`];
    if (id !== null) words.push(`=.id=${id}`);
    await this.client.command([...words, ...Object.entries(attributes).map(([name, value]) => `=${name}=${value}`)]);
  }

  async remove(path: string, ids: readonly string[]): Promise<void> {
    checkPath(path);
    if (ids.length === 0) return;
    await this.client.command([`${path}/remove`, `=.id=${ids.join(',')}`]);
  }

  async move(path: string, id: string, destination: string): Promise<void> {
    checkPath(path);
    await this.client.command([`${path}/move`, `=numbers=${id}`, `=destination=${destination}`]);
  }

  close(): void {
    this.client.close();
  }
}

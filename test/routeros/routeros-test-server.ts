import { EventEmitter } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { encodeSentence, parseAttributeWord, SentenceParser } from '../../router-agent/routeros/words.js';

/**
 * A stand-in for a MikroTik router in tests: a real TCP server (optionally TLS, as API-SSL) speaking the
 * RouterOS API wire protocol — length-prefixed words, login (6.43+ plain, and the older challenge), tagged
 * commands whose replies interleave, `print` with `?` queries (including `?#` operations) and `.proplist`,
 * `add`/`set`/`remove`/`move`, `!trap` then `!done`, `!empty` (7.18+), `!fatal`, `/cancel`, `/quit` — and
 * optionally the RouterOS 7 REST API over HTTP on the same state. It keeps state like a router (menus of items
 * with `*N` ids, setting menus, users and group policies, active sessions with their dynamic queues), so a
 * test reads back what the agent did, and it logs every change, so a test can prove nothing happened twice.
 *
 * Faults on demand: replies cut into small chunks sent apart (partial reads), a router that goes down and
 * comes back on the same port, a command that is carried out but never answered (to kill the agent
 * mid-command), `!fatal` on a chosen command, per-reply latency.
 */
export type TestUser = Readonly<{ name: string; password: string; group: string }>;

export type Mutation = Readonly<{ seq: number; user: string; command: string; attributes: Readonly<Record<string, string>>; id: string | null }>;

export type TestServerOptions = Readonly<{
  /** RouterOS version: 7.18 and later say `!empty` for an empty print. */
  version?: string;
  users?: readonly TestUser[];
  /** Extra or changed groups: name → policy (`read,write,api,…`, `!` to deny). */
  groups?: Readonly<Record<string, string>>;
  /** Serve API-SSL with this key and certificate instead of plain TCP. */
  tls?: Readonly<{ key: string; cert: string }>;
  /** Also serve the REST API over plain HTTP on another port. */
  rest?: boolean;
  /** Answer logins the pre-6.43 way (MD5 challenge). */
  legacy_login?: boolean;
  /** Interfaces the router has (PPPoE servers need one). */
  interfaces?: readonly string[];
  identity?: string;
}>;

class Trap extends Error {
  constructor(
    message: string,
    readonly category: number | null = null,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Item = Record<string, string>;
type ConnectionState = { user: Item | null; challenge: Buffer | null; cancelled: Set<string>; queue: Promise<void>; writes: Promise<void> };
type Reply = Readonly<{ items?: readonly Item[]; ret?: string }>;

const DEFAULT_GROUPS: Readonly<Record<string, string>> = {
  full: 'local,telnet,ssh,ftp,reboot,read,write,policy,test,winbox,password,web,sniff,sensitive,api,romon,rest-api',
  write: 'local,telnet,ssh,ftp,reboot,read,write,test,winbox,password,web,sniff,api,romon,rest-api,!policy,!sensitive',
  read: 'local,telnet,ssh,reboot,read,test,winbox,password,web,sniff,api,romon,rest-api,!ftp,!write,!policy,!sensitive',
};

/** Menus whose items are ordered and can be placed (`place-before`) and moved. */
const ORDERED = new Set(['/ip/firewall/filter', '/queue/simple']);

/** Menus of items, with the properties a fresh item gets, and which property must be unique. */
const MENUS: Readonly<Record<string, Readonly<{ defaults: Item; unique?: readonly string[] }>>> = {
  '/radius': { defaults: { service: '', address: '', secret: '', 'src-address': '0.0.0.0', timeout: '300ms', 'authentication-port': '1812', 'accounting-port': '1813', disabled: 'false', comment: '' } },
  '/ppp/profile': { defaults: { 'local-address': '', 'remote-address': '', 'on-up': '', 'on-down': '', 'only-one': 'default', comment: '' }, unique: ['name'] },
  '/ppp/active': { defaults: { service: 'pppoe', 'caller-id': '', address: '', encoding: '', 'session-id': '', radius: 'true', comment: '' } },
  '/ppp/secret': { defaults: { service: 'any', profile: 'default', disabled: 'false' }, unique: ['name'] },
  '/interface': { defaults: { type: 'ether', running: 'true', disabled: 'false' }, unique: ['name'] },
  '/interface/pppoe-server/server': {
    defaults: { interface: '', 'default-profile': 'default', authentication: 'pap,chap,mschap1,mschap2', 'one-session-per-host': 'no', 'keepalive-timeout': '10', disabled: 'false' },
    unique: ['service-name'],
  },
  '/ip/hotspot/profile': {
    defaults: { 'use-radius': 'no', 'radius-accounting': 'yes', 'radius-interim-update': 'received', 'login-by': 'cookie,http-chap', 'mac-auth-mode': 'mac-as-username', 'hotspot-address': '' },
    unique: ['name'],
  },
  '/ip/hotspot/active': { defaults: { server: 'hotspot1', address: '', 'mac-address': '', 'login-by': 'mac', radius: 'true', comment: '' } },
  '/ip/hotspot/walled-garden': { defaults: { action: 'allow', 'dst-host': '', disabled: 'false', comment: '' } },
  '/ip/hotspot/walled-garden/ip': { defaults: { action: 'accept', 'dst-address': '', disabled: 'false', comment: '' } },
  '/ip/pool': { defaults: { ranges: '', 'next-pool': 'none', comment: '' }, unique: ['name'] },
  '/ip/firewall/filter': { defaults: { chain: 'forward', action: 'accept', disabled: 'false', dynamic: 'false', invalid: 'false', comment: '' } },
  '/ip/firewall/address-list': { defaults: { list: '', address: '', disabled: 'false', dynamic: 'false', comment: '' }, unique: [] },
  '/queue/simple': { defaults: { target: '', 'max-limit': '0/0', disabled: 'false', dynamic: 'false', comment: '' }, unique: ['name'] },
  '/user': { defaults: { group: 'read', disabled: 'false', comment: '' }, unique: ['name'] },
  '/user/group': { defaults: { policy: '', comment: '' }, unique: ['name'] },
};

/** Setting menus: one set of properties, no items. */
const SETTINGS: Readonly<Record<string, Item>> = {
  '/radius/incoming': { accept: 'no', port: '1700', vrf: 'main' },
  '/ppp/aaa': { 'use-radius': 'no', accounting: 'yes', 'interim-update': '0s', 'use-circuit-id-in-nas-port-id': 'no' },
  '/system/identity': { name: 'MikroTik' },
  '/system/resource': { version: '7.18.2 (stable)', 'board-name': 'CHR', uptime: '1d' },
};

/** Properties prints often ask for by equality. */
const INDEXED: readonly string[] = ['name', 'address', 'user', 'comment'];

/** Items of these menus are the router's own and never appear in a change log. */
const HIDDEN_PREFIX = '__';

export class RouterOsTestServer extends EventEmitter {
  readonly version: string;
  readonly menus = new Map<string, Item[]>();
  readonly settings = new Map<string, Item>();
  readonly mutations: Mutation[] = [];
  /** menu → property → value → items: prints by name, address or user find their items without a scan. */
  readonly #index = new Map<string, Map<string, Map<string, Set<Item>>>>();
  #next_id = 1;
  #api: net.Server | null = null;
  #rest: http.Server | null = null;
  readonly #sockets = new Set<net.Socket>();
  #port = 0;
  #rest_port = 0;
  /** Replies are cut into chunks of at most this many bytes, written apart (0: whole). */
  chunk_bytes = 0;
  /** Every reply waits this long (a router's latency); replies do not wait for each other. */
  reply_delay_ms = 0;
  /** Each reply waits up to this much more at random, so replies to tagged commands come back out of order. */
  reply_jitter_ms = 0;
  /** A command matching this is carried out but not answered; the server emits `held`. */
  hold: ((command: string, attributes: Readonly<Record<string, string>>) => boolean) | null = null;
  /** A command for which this returns a message is refused with `!trap` and that message, before anything is done. */
  trap: ((command: string, attributes: Readonly<Record<string, string>>) => string | null) | null = null;
  /** A command matching this gets `!fatal` and the connection is closed, before anything is done. */
  fatal: ((command: string) => boolean) | null = null;
  /** Commands seen (words[0]), in order, read or write: for tests of what the client sends. */
  readonly commands: string[] = [];
  logins = 0;

  constructor(readonly options: TestServerOptions = {}) {
    super();
    this.version = options.version ?? '7.18.2';
    for (const menu of Object.keys(MENUS)) this.menus.set(menu, []);
    for (const [menu, values] of Object.entries(SETTINGS)) this.settings.set(menu, { ...values });
    this.settings.get('/system/resource')!.version = `${this.version} (stable)`;
    this.settings.get('/system/identity')!.name = options.identity ?? 'MikroTik';
    for (const [name, policy] of Object.entries({ ...DEFAULT_GROUPS, ...(options.groups ?? {}) })) this.#insert('/user/group', { name, policy });
    for (const user of options.users ?? [{ name: 'admin', password: 'admin-password', group: 'full' }]) {
      this.#insert('/user', { name: user.name, group: user.group, [`${HIDDEN_PREFIX}password`]: user.password });
    }
    for (const name of options.interfaces ?? ['ether1', 'ether2', 'bridge-lan']) this.#insert('/interface', { name });
    this.#insert('/ppp/profile', { name: 'default' });
    this.#insert('/ppp/profile', { name: 'default-encryption' });
    this.#insert('/ip/hotspot/profile', { name: 'default' });
  }

  get port(): number {
    return this.#port;
  }

  get rest_port(): number {
    return this.#rest_port;
  }

  async start(port = 0): Promise<this> {
    const onSocket = (socket: net.Socket): void => this.#serve(socket);
    const server = this.options.tls === undefined ? net.createServer(onSocket) : tls.createServer({ key: this.options.tls.key, cert: this.options.tls.cert }, onSocket);
    this.#api = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port || this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as net.AddressInfo).port;
    if (this.options.rest === true) {
      const rest = http.createServer((request, response) => void this.#serveRest(request, response));
      rest.keepAliveTimeout = 5_000;
      this.#rest = rest;
      await new Promise<void>((resolve) => rest.listen(this.#rest_port, '127.0.0.1', () => resolve()));
      this.#rest_port = (rest.address() as net.AddressInfo).port;
    }
    return this;
  }

  /** The router goes away: no new connections, every open one cut. */
  async down(): Promise<void> {
    const api = this.#api;
    const rest = this.#rest;
    this.#api = null;
    this.#rest = null;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await Promise.all([
      api === null ? undefined : new Promise<void>((resolve) => api.close(() => resolve())),
      rest === null ? undefined : new Promise<void>((resolve) => {
        rest.closeAllConnections();
        rest.close(() => resolve());
      }),
    ]);
  }

  /** Back on the same ports, with its state as it was. */
  async up(): Promise<void> {
    await this.start(this.#port);
  }

  stop(): Promise<void> {
    return this.down();
  }

  // --- what tests set up and read back --------------------------------------------------------------------

  items(menu: string): readonly Item[] {
    return (this.menus.get(menu) ?? []).map(visible);
  }

  setting(menu: string): Item {
    return { ...this.settings.get(menu)! };
  }

  /** Everything the router holds, for comparing two moments. */
  snapshot(): Record<string, unknown> {
    const menus = Object.fromEntries([...this.menus].map(([menu, items]) => [menu, items.map(visible)]));
    return { menus, settings: Object.fromEntries(this.settings) };
  }

  /** A PPPoE client logs in: an active session and its dynamic queue (as RADIUS's rate limit made it). */
  pppLogin(name: string, options: Readonly<{ address?: string; rate?: string; started_ms_ago?: number; caller_id?: string }> = {}): string {
    const started = Date.now() - (options.started_ms_ago ?? 60_000);
    const id = this.#insert('/ppp/active', { name, address: options.address ?? '', 'caller-id': options.caller_id ?? '', [`${HIDDEN_PREFIX}started`]: String(started) });
    this.#insert('/queue/simple', { name: `<pppoe-${name}>`, target: `<pppoe-${name}>`, 'max-limit': options.rate ?? '0/0', dynamic: 'true' });
    return id;
  }

  hotspotLogin(user: string, options: Readonly<{ address?: string; mac?: string; rate?: string; started_ms_ago?: number }> = {}): string {
    const started = Date.now() - (options.started_ms_ago ?? 60_000);
    const id = this.#insert('/ip/hotspot/active', { user, address: options.address ?? '', 'mac-address': options.mac ?? '', [`${HIDDEN_PREFIX}started`]: String(started) });
    this.#insert('/queue/simple', { name: `<hotspot-${user}>`, target: options.address ?? '', 'max-limit': options.rate ?? '0/0', dynamic: 'true' });
    return id;
  }

  /** Puts an item on the router as its admin would by hand (not logged as a change by an API user). */
  seed(menu: string, values: Readonly<Record<string, string>>): string {
    return this.#insert(menu, values);
  }

  /** Takes items off the router behind the agent's back (drift), unlogged. */
  removeWhere(menu: string, predicate: (item: Readonly<Record<string, string>>) => boolean): number {
    const items = this.menus.get(menu) ?? [];
    const keep = items.filter((item) => !predicate(visible(item)));
    const removed = items.length - keep.length;
    for (const item of items) if (!keep.includes(item)) this.#unindex(menu, item);
    items.splice(0, items.length, ...keep);
    return removed;
  }

  /** Changes items behind the agent's back (drift), unlogged. */
  updateWhere(menu: string, predicate: (item: Readonly<Record<string, string>>) => boolean, values: Readonly<Record<string, string>>): void {
    for (const item of this.menus.get(menu) ?? []) {
      if (!predicate(visible(item))) continue;
      this.#unindex(menu, item);
      Object.assign(item, values);
      this.#indexItem(menu, item);
    }
  }

  /** Changes made by API users (not by the test's own setup), optionally only one kind of command. */
  changes(filter?: (mutation: Mutation) => boolean): Mutation[] {
    return filter === undefined ? [...this.mutations] : this.mutations.filter(filter);
  }

  // --- the API ---------------------------------------------------------------------------------------------

  #serve(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = new SentenceParser();
    const state: ConnectionState = { user: null, challenge: null, cancelled: new Set(), queue: Promise.resolve(), writes: Promise.resolve() };
    socket.on('data', (chunk: Buffer) => {
      let sentences: string[][];
      try {
        sentences = parser.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const sentence of sentences) {
        // One command at a time per connection, in arrival order, like the router's API process.
        state.queue = state.queue.then(() => this.#onSentence(socket, state, sentence)).catch(() => void socket.destroy());
      }
    });
  }

  async #onSentence(socket: net.Socket, state: ConnectionState, words: readonly string[]): Promise<void> {
    const command = words[0]!;
    this.commands.push(command);
    let tag: string | null = null;
    const attributes: Record<string, string> = {};
    const queries: string[] = [];
    for (const word of words.slice(1)) {
      if (word.startsWith('.tag=')) tag = word.slice(5);
      else if (word.startsWith('?')) queries.push(word.slice(1));
      else {
        const attribute = parseAttributeWord(word);
        if (attribute !== null) attributes[attribute[0]] = attribute[1];
      }
    }
    const tagged = (sentence: string[]): string[] => (tag === null ? sentence : [...sentence, `.tag=${tag}`]);
    // Commands are carried out one at a time in arrival order; their replies are written whole (never
    // interleaved byte-wise) but may overtake each other when a delay or jitter is set.
    const send = async (sentences: string[][], then: () => void = () => undefined): Promise<void> => {
      const bytes = Buffer.concat(sentences.map((sentence) => encodeSentence(sentence)));
      const delay = this.reply_delay_ms + (this.reply_jitter_ms > 0 ? Math.random() * this.reply_jitter_ms : 0);
      const go = (): void => {
        state.writes = state.writes.then(() => this.#write(socket, bytes)).then(then);
      };
      if (delay > 0) setTimeout(go, delay);
      else go();
    };
    if (this.fatal?.(command) === true || command === '/quit') {
      state.writes = state.writes.then(() => this.#write(socket, encodeSentence(['!fatal', command === '/quit' ? 'session terminated on request' : 'session terminated'])));
      await state.writes;
      socket.end();
      return;
    }
    if (command === '/login') {
      await send(this.#login(state, attributes).map(tagged));
      return;
    }
    if (state.user === null) {
      await send([['!fatal', 'not logged in']], () => void socket.end());
      return;
    }
    if (command === '/cancel') {
      const target = attributes.tag;
      if (target !== undefined) state.cancelled.add(target);
      await send([tagged(['!done'])]);
      return;
    }
    let reply: Reply;
    try {
      const refusal = this.trap?.(command, attributes) ?? null;
      if (refusal !== null) throw new Trap(refusal, 1);
      reply = this.execute(state.user, command, attributes, queries);
    } catch (error) {
      const trap = error instanceof Trap ? error : new Trap(error instanceof Error ? error.message : String(error));
      const words = ['!trap', `=message=${trap.message}`];
      if (trap.category !== null) words.push(`=category=${trap.category}`);
      await send([tagged(words), tagged(['!done'])]);
      return;
    }
    if (this.hold?.(command, attributes) === true) {
      this.emit('held', { command, attributes });
      return;
    }
    const sentences: string[][] = [];
    if (reply.items !== undefined) {
      for (const item of reply.items) sentences.push(tagged(['!re', ...Object.entries(item).map(([name, value]) => `=${name}=${value}`)]));
      if (reply.items.length === 0 && this.#saysEmpty()) sentences.push(tagged(['!empty']));
    }
    sentences.push(tagged(reply.ret === undefined ? ['!done'] : ['!done', `=ret=${reply.ret}`]));
    await send(sentences);
  }

  #saysEmpty(): boolean {
    const [major = 0, minor = 0] = this.version.split('.').map(Number);
    return major > 7 || (major === 7 && minor >= 18);
  }

  #login(state: ConnectionState, attributes: Readonly<Record<string, string>>): string[][] {
    const refuse = [['!trap', '=message=invalid user name or password (6)'], ['!done']];
    const user = (this.menus.get('/user') ?? []).find((candidate) => candidate.name === attributes.name);
    if (this.options.legacy_login === true && attributes.response === undefined) {
      state.challenge = randomBytes(16);
      return [['!done', `=ret=${state.challenge.toString('hex')}`]];
    }
    if (user === undefined || !policyAllows(this.#policyOf(user), 'api')) return refuse;
    const password = user[`${HIDDEN_PREFIX}password`] ?? '';
    if (this.options.legacy_login === true) {
      const expected = '00' + createHash('md5').update(Buffer.concat([Buffer.from([0]), Buffer.from(password), state.challenge ?? Buffer.alloc(0)])).digest('hex');
      if (attributes.response !== expected) return refuse;
    } else if (attributes.password !== password) return refuse;
    state.user = user;
    this.logins += 1;
    return [['!done']];
  }

  async #write(socket: net.Socket, bytes: Buffer): Promise<void> {
    if (socket.destroyed) return;
    const size = this.chunk_bytes;
    if (size <= 0) {
      socket.write(bytes);
      return;
    }
    for (let offset = 0; offset < bytes.length; offset += size) {
      if (socket.destroyed) return;
      socket.write(bytes.subarray(offset, offset + size));
      // Written apart, so the client's reads end in the middle of words and length prefixes.
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  #policyOf(user: Item): string {
    const group = (this.menus.get('/user/group') ?? []).find((candidate) => candidate.name === user.group);
    return group?.policy ?? '';
  }

  /** Runs one command as `user`: what the API and the REST front share. */
  execute(user: Item, command: string, attributes: Readonly<Record<string, string>>, queries: readonly string[]): Reply {
    const slash = command.lastIndexOf('/');
    const menu = command.slice(0, slash);
    const verb = command.slice(slash + 1);
    const policy = this.#policyOf(user);
    const writes = verb === 'add' || verb === 'set' || verb === 'remove' || verb === 'move';
    if (!this.menus.has(menu) && !this.settings.has(menu)) throw new Trap('no such command prefix', 0);
    if (writes && !policyAllows(policy, 'write')) throw new Trap('not enough permissions (9)', 0);
    if (!policyAllows(policy, 'read')) throw new Trap('not enough permissions (9)', 0);
    const setting = this.settings.get(menu);
    if (setting !== undefined) {
      if (verb === 'print' || verb === 'getall') return { items: [project(setting, attributes['.proplist'])] };
      if (verb === 'set') {
        for (const name of Object.keys(attributes)) if (!(name in setting)) throw new Trap(`unknown parameter ${name}`, 1);
        Object.assign(setting, attributes);
        this.#log(user, command, attributes, null);
        return {};
      }
      throw new Trap('no such command', 0);
    }
    const items = this.menus.get(menu)!;
    switch (verb) {
      case 'print':
      case 'getall': {
        // Queries are compiled once and run on the stored items; only matches are copied out.
        const test = compileQuery(queries);
        const computed = queries.some((query) => query.includes('uptime'));
        const matching = this.#candidates(menu, items, queries).filter((item) => test(computed ? withComputed(item) : item));
        return { items: matching.map((item) => project(withComputed(item), attributes['.proplist'])) };
      }
      case 'add': {
        const { 'place-before': before, ...values } = attributes;
        this.#checkUnique(menu, values, null);
        if (menu === '/ip/firewall/address-list' && items.some((item) => item.list === values.list && item.address === values.address)) throw new Trap('failure: already have such entry', 1);
        const id = this.#insert(menu, values, before === undefined ? undefined : this.#find(menu, before));
        this.#log(user, command, attributes, id);
        return { ret: id };
      }
      case 'set': {
        const { '.id': id, numbers, ...values } = attributes;
        const target = id ?? numbers;
        if (target === undefined) throw new Trap('missing =.id=', 1);
        const item = items[this.#find(menu, target)]!;
        if (item.dynamic === 'true') throw new Trap('failure: can not change dynamic', 1);
        this.#checkUnique(menu, values, item['.id']!);
        this.#unindex(menu, item);
        Object.assign(item, values);
        this.#indexItem(menu, item);
        this.#log(user, command, attributes, item['.id']!);
        return {};
      }
      case 'remove': {
        const target = attributes['.id'] ?? attributes.numbers;
        if (target === undefined) throw new Trap('missing =.id=', 1);
        const indexes = target.split(',').map((one) => this.#find(menu, one));
        const removed = indexes.map((index) => items[index]!);
        for (const item of removed) {
          items.splice(items.indexOf(item), 1);
          this.#unindex(menu, item);
        }
        for (const item of removed) {
          // Ending a session ends its dynamic queue, as on a router.
          if (menu === '/ppp/active') this.#dropQueue(`<pppoe-${item.name}>`);
          if (menu === '/ip/hotspot/active') this.#dropQueue(`<hotspot-${item.user}>`);
        }
        this.#log(user, command, attributes, target);
        return {};
      }
      case 'move': {
        if (!ORDERED.has(menu)) throw new Trap('no such command', 0);
        const from = this.#find(menu, attributes.numbers ?? '');
        const item = items.splice(from, 1)[0]!;
        const destination = attributes.destination === undefined ? items.length : this.#find(menu, attributes.destination);
        items.splice(destination, 0, item);
        this.#log(user, command, attributes, item['.id']!);
        return {};
      }
      default:
        throw new Trap('no such command', 0);
    }
  }

  #dropQueue(name: string): void {
    const queues = this.menus.get('/queue/simple')!;
    const candidates = this.#index.get('/queue/simple')?.get('name')?.get(name);
    const found = [...(candidates ?? [])].find((queue) => queue.dynamic === 'true');
    const index = found === undefined ? -1 : queues.indexOf(found);
    if (index !== -1) this.#unindex('/queue/simple', queues.splice(index, 1)[0]!);
  }

  #checkUnique(menu: string, values: Readonly<Record<string, string>>, except: string | null): void {
    for (const property of MENUS[menu]?.unique ?? []) {
      const value = values[property];
      if (value === undefined) continue;
      if ((this.menus.get(menu) ?? []).some((item) => item[property] === value && item['.id'] !== except)) throw new Trap(`failure: already have ${property === 'name' ? 'such name' : `such ${property}`}`, 1);
    }
  }

  /** The index of the item `reference` names: its `.id`, or its name where that is unique. */
  #find(menu: string, reference: string): number {
    const items = this.menus.get(menu) ?? [];
    const index = reference.startsWith('*') ? items.findIndex((item) => item['.id'] === reference) : items.findIndex((item) => item.name === reference);
    if (index === -1) throw new Trap('no such item', 0);
    return index;
  }

  #insert(menu: string, values: Readonly<Record<string, string>>, before?: number): string {
    const id = `*${(this.#next_id++).toString(16).toUpperCase()}`;
    const item: Item = { '.id': id, ...(MENUS[menu]?.defaults ?? {}), ...values };
    const items = this.menus.get(menu)!;
    if (before === undefined || !ORDERED.has(menu)) items.push(item);
    else items.splice(before, 0, item);
    this.#indexItem(menu, item);
    return id;
  }

  #indexItem(menu: string, item: Item): void {
    let byKey = this.#index.get(menu);
    if (byKey === undefined) this.#index.set(menu, (byKey = new Map()));
    for (const key of INDEXED) {
      const value = item[key];
      if (value === undefined) continue;
      let byValue = byKey.get(key);
      if (byValue === undefined) byKey.set(key, (byValue = new Map()));
      let set = byValue.get(value);
      if (set === undefined) byValue.set(value, (set = new Set()));
      set.add(item);
    }
  }

  #unindex(menu: string, item: Item): void {
    for (const key of INDEXED) {
      const value = item[key];
      if (value !== undefined) this.#index.get(menu)?.get(key)?.get(value)?.delete(item);
    }
  }

  /** The items a print must look at: those an equality query on an indexed property names, else all. */
  #candidates(menu: string, items: readonly Item[], queries: readonly string[]): readonly Item[] {
    if (queries.some((query) => query.startsWith('#'))) return items;
    for (const query of queries) {
      const match = /^=?([a-z-]+)=(.*)$/.exec(query);
      if (match === null || !INDEXED.includes(match[1]!)) continue;
      const found = [...(this.#index.get(menu)?.get(match[1]!)?.get(match[2]!) ?? [])];
      // Keep the menu's order when several match (firewall rules and queues are ordered).
      return found.length <= 1 ? found : items.filter((item) => found.includes(item));
    }
    return items;
  }

  #log(user: Item, command: string, attributes: Readonly<Record<string, string>>, id: string | null): void {
    const mutation: Mutation = { seq: this.mutations.length + 1, user: user.name!, command, attributes: { ...attributes }, id };
    this.mutations.push(mutation);
    this.emit('mutation', mutation);
  }

  // --- REST ------------------------------------------------------------------------------------------------

  async #serveRest(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = (status: number, body: unknown): void => {
      const text = body === undefined ? '' : JSON.stringify(body);
      response.writeHead(status, text === '' ? {} : { 'content-type': 'application/json' });
      response.end(text);
    };
    const auth = /^Basic (.+)$/.exec(request.headers.authorization ?? '');
    const [name, password] = auth === null ? [] : Buffer.from(auth[1]!, 'base64').toString('utf8').split(/:(.*)/s);
    const user = (this.menus.get('/user') ?? []).find((candidate) => candidate.name === name);
    if (user === undefined || user[`${HIDDEN_PREFIX}password`] !== password || !policyAllows(this.#policyOf(user), 'rest-api')) {
      answer(401, { error: 401, message: 'Unauthorized' });
      return;
    }
    const url = new URL(request.url ?? '/', 'http://router');
    const segments = url.pathname.replace(/^\/rest/, '').split('/').filter((part) => part !== '').map(decodeURIComponent);
    const body = chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
    const strings = (values: Record<string, unknown>): Record<string, string> => Object.fromEntries(Object.entries(values).filter(([key]) => !key.startsWith('.') || key === '.id').map(([key, value]) => [key, String(value)]));
    try {
      const last = segments[segments.length - 1] ?? '';
      const method = request.method ?? 'GET';
      this.commands.push(`${method} /${segments.join('/')}`);
      if (method === 'GET') {
        const id = last.startsWith('*') ? last : null;
        const menu = `/${(id === null ? segments : segments.slice(0, -1)).join('/')}`;
        const filters = [...url.searchParams].map(([key, value]) => `${key}=${value}`);
        const items = this.execute(user, `${menu}/print`, {}, id === null ? filters : [`.id=${id}`]).items ?? [];
        if (this.settings.has(menu)) answer(200, items[0] ?? {});
        else if (id !== null) items.length === 0 ? answer(404, { error: 404, message: 'Not Found' }) : answer(200, items[0]);
        else answer(200, items);
        return;
      }
      if (method === 'PUT') {
        const menu = `/${segments.join('/')}`;
        const { ret } = this.execute(user, `${menu}/add`, strings(body), []);
        answer(201, this.items(menu).find((item) => item['.id'] === ret) ?? {});
        return;
      }
      if (method === 'PATCH') {
        const menu = `/${segments.slice(0, -1).join('/')}`;
        this.execute(user, `${menu}/set`, { ...strings(body), '.id': last }, []);
        answer(200, this.items(menu).find((item) => item['.id'] === last) ?? {});
        return;
      }
      if (method === 'DELETE') {
        const menu = `/${segments.slice(0, -1).join('/')}`;
        this.execute(user, `${menu}/remove`, { '.id': last }, []);
        answer(204, undefined);
        return;
      }
      if (method === 'POST') {
        const menu = `/${segments.slice(0, -1).join('/')}`;
        if (last === 'print') {
          const proplist = Array.isArray(body['.proplist']) ? (body['.proplist'] as string[]).join(',') : (body['.proplist'] as string | undefined);
          const queries = Array.isArray(body['.query']) ? (body['.query'] as string[]) : [];
          answer(200, this.execute(user, `${menu}/print`, proplist === undefined ? {} : { '.proplist': proplist }, queries).items ?? []);
          return;
        }
        const reply = this.execute(user, `${menu}/${last}`, strings(body), []);
        answer(200, reply.ret === undefined ? [] : { ret: reply.ret });
        return;
      }
      answer(400, { error: 400, message: 'Bad Request', detail: `method ${method}` });
    } catch (error) {
      const trap = error instanceof Trap ? error : new Trap(String(error));
      answer(trap.message === 'no such item' ? 404 : trap.status, { error: trap.message === 'no such item' ? 404 : 400, message: 'Bad Request', detail: trap.message });
    }
  }
}

function policyAllows(policy: string, right: string): boolean {
  return policy.split(',').includes(right);
}

const visible = (item: Item): Item => Object.fromEntries(Object.entries(item).filter(([key]) => !key.startsWith(HIDDEN_PREFIX)));

/** Sessions print their uptime as RouterOS does, from when they started. */
function withComputed(item: Item): Item {
  const started = item[`${HIDDEN_PREFIX}started`];
  const shown = visible(item);
  if (started === undefined) return shown;
  return { ...shown, uptime: formatDuration(Date.now() - Number(started)) };
}

export function formatDuration(ms: number): string {
  let seconds = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [['w', 604_800], ['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join('');
}

function project(item: Item, proplist: string | undefined): Item {
  if (proplist === undefined) return item;
  const wanted = proplist.split(',');
  return Object.fromEntries(Object.entries(item).filter(([key]) => wanted.includes(key)));
}

/**
 * RouterOS's query stack machine: each `?` word pushes a truth value or combines the top ones (`?#|`, `?#&`,
 * `?#!`, `?#.`, `?#<n>` copies entry n); an item matches when every value left is true. Compiled once per
 * print into steps run on each item.
 */
function compileQuery(queries: readonly string[]): (item: Item) => boolean {
  type Step = (item: Item, stack: boolean[]) => void;
  const steps: Step[] = queries.map((query): Step => {
    if (query.startsWith('#')) {
      const ops = [...query.slice(1)];
      return (_item, stack) => {
        for (const op of ops) {
          if (op === '!') stack.push(!stack.pop());
          else if (op === '&' || op === '|') {
            const b = stack.pop() ?? true;
            const a = stack.pop() ?? true;
            stack.push(op === '&' ? a && b : a || b);
          } else if (op === '.') stack.push(stack[stack.length - 1] ?? true);
          else if (/\d/.test(op)) stack.push(stack[Number(op)] ?? true);
        }
      };
    }
    const body = query.startsWith('=') ? query.slice(1) : query;
    if (body.startsWith('-')) {
      const name = body.slice(1);
      return (item, stack) => void stack.push(!(name in item));
    }
    const comparison = /^([<>])(.*)$/.exec(body);
    const text = comparison === null ? body : comparison[2]!;
    const equals = text.indexOf('=');
    if (equals === -1) return (item, stack) => void stack.push(text in item);
    const name = text.slice(0, equals);
    const value = text.slice(equals + 1);
    if (comparison === null) return (item, stack) => void stack.push(item[name] === value || (item[name] === undefined && value === ''));
    const less = comparison[1] === '<';
    return (item, stack) => {
      const actual = item[name];
      if (actual === undefined) return void stack.push(false);
      const numeric = /^-?\d+$/.test(actual) && /^-?\d+$/.test(value);
      const order = numeric ? Math.sign(Number(actual) - Number(value)) : actual < value ? -1 : actual > value ? 1 : 0;
      stack.push(less ? order < 0 : order > 0);
    };
  });
  if (steps.length === 0) return () => true;
  return (item) => {
    const stack: boolean[] = [];
    for (const step of steps) step(item, stack);
    return stack.every(Boolean);
  };
}

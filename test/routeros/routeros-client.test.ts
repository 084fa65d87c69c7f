import { afterEach, describe, expect, it } from 'vitest';
import { RouterOsApiClient, type ApiClientOptions } from '../../router-agent/routeros/api-client.js';
import { RouterOsError } from '../../router-agent/routeros/errors.js';
import { openSession, type RouterEndpoint } from '../../router-agent/routeros/session.js';
import { decodeLength, encodeLength, encodeSentence, MAX_WORD_BYTES, RouterOsProtocolError, SentenceParser } from '../../router-agent/routeros/words.js';
import { RouterOsTestServer } from './routeros-test-server.js';
import { selfSignedCertificate } from './tls-fixture.js';

const hex = (buffer: Buffer) => buffer.toString('hex').toUpperCase().match(/../g)!.join(' ');

describe('RouterOS API word lengths, byte by byte', () => {
  // Vectors from the MikroTik API manual's table and librouteros's unit tests, plus every boundary.
  const vectors: readonly (readonly [number, string])[] = [
    [0, '00'],
    [1, '01'],
    [127, '7F'],
    [128, '80 80'],
    [130, '80 82'],
    [0x3fff, 'BF FF'],
    [0x4000, 'C0 40 00'],
    [2_097_140, 'DF FF F4'],
    [0x1fffff, 'DF FF FF'],
    [0x200000, 'E0 20 00 00'],
    [268_435_440, 'EF FF FF F0'],
    [0xfffffff, 'EF FF FF FF'],
    [0x10000000, 'F0 10 00 00 00'],
    [0xffffffff, 'F0 FF FF FF FF'],
  ];

  it.each(vectors)('length %i encodes as %s and decodes back', (length, bytes) => {
    expect(hex(encodeLength(length))).toBe(bytes);
    const decoded = decodeLength(Buffer.from(bytes.replace(/ /g, ''), 'hex'));
    expect(decoded).toEqual({ length, bytes: bytes.split(' ').length });
  });

  it('asks for more bytes when a read ends inside a length prefix', () => {
    expect(decodeLength(Buffer.from([0xc0, 0x40]))).toBeNull();
    expect(decodeLength(Buffer.from([0xf0, 0x10, 0x00, 0x00]))).toBeNull();
    expect(decodeLength(Buffer.alloc(0))).toBeNull();
  });

  it('refuses the reserved control bytes 0xF8–0xFF and lengths it cannot encode', () => {
    for (const byte of [0xf8, 0xfc, 0xff]) expect(() => decodeLength(Buffer.from([byte]))).toThrow(RouterOsProtocolError);
    expect(() => encodeLength(-1)).toThrow(RangeError);
    expect(() => encodeLength(2 ** 32)).toThrow(RangeError);
  });

  it('encodes a sentence as length-prefixed words ended by a zero byte', () => {
    expect(encodeSentence(['/ip/address/print', 'first', 'second']).toString('latin1')).toBe('\x11/ip/address/print\x05first\x06second\x00');
    // A word of 200 bytes takes a two-byte prefix.
    const long = 'x'.repeat(200);
    expect(hex(encodeSentence([long]).subarray(0, 2))).toBe('80 C8');
  });
});

describe('the sentence parser', () => {
  const stream = Buffer.concat([
    encodeSentence(['!re', '=name=' + 'ä'.repeat(100), '.tag=7']),
    Buffer.from([0]), // an empty sentence: ignored
    encodeSentence(['!done', '.tag=7']),
  ]);
  const expected = [['!re', '=name=' + 'ä'.repeat(100), '.tag=7'], ['!done', '.tag=7']];

  it('reads sentences fed one byte at a time (every partial read)', () => {
    const parser = new SentenceParser();
    const sentences: string[][] = [];
    for (const byte of stream) sentences.push(...parser.push(Buffer.from([byte])));
    expect(sentences).toEqual(expected);
    expect(parser.buffered).toBe(0);
  });

  it('reads sentences split at every possible point and merged into one read', () => {
    for (let split = 0; split <= stream.length; split += 1) {
      const parser = new SentenceParser();
      expect([...parser.push(stream.subarray(0, split)), ...parser.push(stream.subarray(split))]).toEqual(expected);
    }
    expect(new SentenceParser().push(Buffer.concat([stream, stream]))).toEqual([...expected, ...expected]);
  });

  it('refuses a word over the size limit before buffering it', () => {
    const parser = new SentenceParser();
    expect(() => parser.push(encodeLength(MAX_WORD_BYTES + 1))).toThrow(/over the limit/);
  });
});

describe('the RouterOS API client against the test router', () => {
  const servers: RouterOsTestServer[] = [];
  const clients: RouterOsApiClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) await server.stop();
  });
  const router = async (options: ConstructorParameters<typeof RouterOsTestServer>[0] = {}) => {
    const server = await new RouterOsTestServer(options).start();
    servers.push(server);
    return server;
  };
  const connect = async (server: RouterOsTestServer, overrides: Partial<ApiClientOptions> = {}) => {
    const client = await RouterOsApiClient.connect({
      host: '127.0.0.1',
      port: server.port,
      tls: null,
      username: 'admin',
      password: 'admin-password',
      connect_timeout_ms: 2_000,
      command_timeout_ms: 2_000,
      idle_timeout_ms: 10_000,
      ...overrides,
    });
    clients.push(client);
    return client;
  };

  it('logs in, adds, prints with queries and .proplist, sets and removes', async () => {
    const server = await router();
    const client = await connect(server);
    const added = await client.command(['/ip/pool/add', '=name=suspended', '=ranges=100.64.0.2-100.64.0.254']);
    expect(added.done.ret).toMatch(/^\*[0-9A-F]+$/);
    await client.command(['/ip/pool/add', '=name=home', '=ranges=10.1.0.2-10.1.255.254']);
    const printed = await client.command(['/ip/pool/print', '=.proplist=.id,name', '?name=suspended']);
    expect(printed.items).toEqual([{ '.id': added.done.ret, name: 'suspended' }]);
    // ?# operations: name=home OR name=suspended, then NOT.
    const both = await client.command(['/ip/pool/print', '=.proplist=name', '?name=home', '?name=suspended', '?#|']);
    expect(both.items.map((item) => item.name).sort()).toEqual(['home', 'suspended']);
    const neither = await client.command(['/ip/pool/print', '=.proplist=name', '?name=home', '?name=suspended', '?#|!']);
    expect(neither.items).toEqual([]);
    await client.command(['/ip/pool/set', `=.id=${added.done.ret}`, '=ranges=100.64.1.2-100.64.1.254']);
    expect(server.items('/ip/pool').find((pool) => pool.name === 'suspended')!.ranges).toBe('100.64.1.2-100.64.1.254');
    await client.command(['/ip/pool/remove', `=.id=${added.done.ret}`]);
    expect(server.items('/ip/pool').map((pool) => pool.name)).toEqual(['home']);
  });

  it('takes `!empty` before `!done` (RouterOS 7.18+) and a bare `!done` (older) as an empty result', async () => {
    for (const version of ['7.18.2', '7.16.1']) {
      const server = await router({ version });
      const client = await connect(server);
      const reply = await client.command(['/ip/pool/print', '?name=nothing']);
      expect(reply.items).toEqual([]);
      expect(reply.empty).toBe(version === '7.18.2');
      // The connection is still good afterwards.
      expect((await client.command(['/system/identity/print'])).items).toEqual([{ name: 'MikroTik' }]);
    }
  });

  it('fails a command on `!trap` once `!done` followed, with the message and category, and goes on', async () => {
    const server = await router();
    const client = await connect(server);
    await client.command(['/ip/pool/add', '=name=home', '=ranges=10.0.0.2-10.0.0.9']);
    const error = await client.command(['/ip/pool/add', '=name=home', '=ranges=10.0.0.2-10.0.0.9']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RouterOsError);
    expect(error).toMatchObject({ code: 'ROUTEROS_TRAP', message: 'failure: already have such name', category: 1 });
    expect((error as RouterOsError).connection_failed).toBe(false);
    const missing = await client.command(['/ip/pool/remove', '=.id=*FFFF']).catch((caught: unknown) => caught);
    expect(missing).toMatchObject({ code: 'ROUTEROS_TRAP', message: 'no such item', category: 0 });
    expect((await client.command(['/ip/pool/print', '=.proplist=name'])).items).toEqual([{ name: 'home' }]);
  });

  it('refuses a wrong password with a clear error, and logs in the pre-6.43 way when the router asks for it', async () => {
    const server = await router();
    await expect(connect(server, { password: 'wrong' })).rejects.toMatchObject({ code: 'ROUTEROS_LOGIN_FAILED', message: expect.stringContaining('invalid user name or password') });
    const legacy = await router({ legacy_login: true });
    const client = await connect(legacy);
    expect((await client.command(['/system/identity/print'])).items).toHaveLength(1);
    await expect(connect(legacy, { password: 'wrong' })).rejects.toMatchObject({ code: 'ROUTEROS_LOGIN_FAILED' });
  });

  it('on `!fatal` fails every pending command and closes; `/quit` is answered with `!fatal` too', async () => {
    const server = await router();
    const client = await connect(server);
    server.fatal = (command) => command === '/ppp/active/print';
    const closed = new Promise<RouterOsError>((resolve) => client.onClose(resolve));
    const results = await Promise.allSettled([client.command(['/ip/pool/print']), client.command(['/ppp/active/print']), client.command(['/queue/simple/print'])]);
    expect(results[0]).toMatchObject({ status: 'fulfilled' });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'ROUTEROS_FATAL' } });
    expect(results[2]).toMatchObject({ status: 'rejected' });
    expect((await closed).code).toBe('ROUTEROS_FATAL');
    expect(client.closed).toBe(true);
    await expect(client.command(['/ip/pool/print'])).rejects.toMatchObject({ code: 'ROUTEROS_FATAL' });
    server.fatal = null;
    const second = await connect(server);
    await expect(second.command(['/quit'])).rejects.toMatchObject({ code: 'ROUTEROS_FATAL', message: expect.stringContaining('session terminated on request') });
  });

  it('reads replies cut into 3-byte pieces written apart (partial reads) and many replies in one read', async () => {
    const server = await router();
    const client = await connect(server, { command_timeout_ms: 20_000 });
    for (let index = 0; index < 150; index += 1) server.pppLogin(`user-${index}-${'x'.repeat(index)}`, { address: `10.0.${index}.1` });
    server.chunk_bytes = 3;
    const sessions = await client.command(['/ppp/active/print', '=.proplist=name,address', '?address=10.0.140.1', '?address=10.0.149.1', '?#|']);
    expect(sessions.items).toEqual([
      { name: `user-140-${'x'.repeat(140)}`, address: '10.0.140.1' },
      { name: `user-149-${'x'.repeat(149)}`, address: '10.0.149.1' },
    ]);
    server.chunk_bytes = 0;
    // 50 tagged commands at once: the replies come back together and each finds its command.
    const many = await Promise.all(Array.from({ length: 50 }, (_, index) => client.command(['/ppp/active/print', '=.proplist=name', `?address=10.0.${index}.1`])));
    expect(many.map((reply) => reply.items[0]?.name)).toEqual(Array.from({ length: 50 }, (_, index) => `user-${index}-${'x'.repeat(index)}`));
  });

  it('matches interleaved replies of concurrent tagged commands to their commands', async () => {
    const server = await router();
    const client = await connect(server, { max_in_flight: 8 });
    server.reply_jitter_ms = 20;
    const names = Array.from({ length: 40 }, (_, index) => `pool-${index}`);
    const ids = await Promise.all(names.map((name) => client.command(['/ip/pool/add', `=name=${name}`, '=ranges=10.0.0.1']).then((reply) => reply.done.ret!)));
    const byId = new Map(server.items('/ip/pool').map((pool) => [pool['.id'], pool.name]));
    expect(ids.map((id) => byId.get(id))).toEqual(names);
  });

  it('times out a command the router never answers, cancels it, ignores its late reply and stays usable', async () => {
    const server = await router();
    const client = await connect(server, { command_timeout_ms: 200 });
    server.hold = (command) => command === '/ip/pool/add';
    const held = new Promise((resolve) => server.once('held', resolve));
    await expect(client.command(['/ip/pool/add', '=name=slow', '=ranges=10.0.0.1'])).rejects.toMatchObject({ code: 'ROUTEROS_TIMEOUT' });
    await held;
    server.hold = null;
    await expect.poll(() => server.commands).toContain('/cancel');
    expect((await client.command(['/ip/pool/print', '=.proplist=name'])).items).toEqual([{ name: 'slow' }]);
  });

  it('closes an idle connection by itself and says so', async () => {
    const server = await router();
    const client = await connect(server, { idle_timeout_ms: 150 });
    const reason = await new Promise<RouterOsError>((resolve) => client.onClose(resolve));
    expect(reason.message).toContain('idle');
    expect(client.closed).toBe(true);
  });

  it('reports an unreachable router without throwing from a socket handler', async () => {
    const server = await router();
    const port = server.port;
    await server.down();
    await expect(connect(server, { port })).rejects.toMatchObject({ code: 'ROUTEROS_UNREACHABLE' });
    await server.up();
    const client = await connect(server);
    const closed = new Promise<RouterOsError>((resolve) => client.onClose(resolve));
    await server.down();
    expect((await closed).code).toBe('ROUTEROS_UNREACHABLE');
  });

  it('speaks API-SSL with the router certificate pinned, and refuses another certificate', async () => {
    const certificate = selfSignedCertificate();
    const server = await router({ tls: { key: certificate.key, cert: certificate.cert } });
    const client = await connect(server, { tls: { fingerprint_sha256: certificate.fingerprint_sha256 } });
    expect((await client.command(['/system/identity/print'])).items).toEqual([{ name: 'MikroTik' }]);
    const other = selfSignedCertificate();
    await expect(connect(server, { tls: { fingerprint_sha256: other.fingerprint_sha256 } })).rejects.toMatchObject({ code: 'ROUTEROS_TLS_MISMATCH' });
    // Without a pin the self-signed certificate does not chain to a trusted CA.
    await expect(connect(server, { tls: { fingerprint_sha256: null } })).rejects.toMatchObject({ code: 'ROUTEROS_UNREACHABLE' });
  });
});

describe('the REST transport (RouterOS 7) against the same router state', () => {
  it('prints, adds, sets, moves and removes; a wrong password is a login failure', async () => {
    const server = await new RouterOsTestServer({ rest: true }).start();
    try {
      const endpoint: RouterEndpoint = { host: '127.0.0.1', port: server.rest_port, transport: 'rest', username: 'admin', password: 'admin-password', tls_fingerprint_sha256: null, rest_plain_http: true };
      const timeouts = { connect_timeout_ms: 2_000, command_timeout_ms: 2_000, idle_timeout_ms: 5_000 };
      const session = await openSession(endpoint, timeouts);
      const first = await session.add('/ip/firewall/filter', { chain: 'forward', action: 'accept', comment: 'lan' });
      const second = await session.add('/ip/firewall/filter', { chain: 'forward', action: 'drop', comment: 'ours' });
      await session.move('/ip/firewall/filter', second, first);
      expect((await session.print('/ip/firewall/filter', { proplist: ['comment'] })).map((rule) => rule.comment)).toEqual(['ours', 'lan']);
      await session.set('/ip/firewall/filter', first, { comment: 'lan accept' });
      await session.set('/radius/incoming', null, { accept: 'yes', port: '3799' });
      expect(server.setting('/radius/incoming')).toMatchObject({ accept: 'yes', port: '3799' });
      expect(await session.print('/ip/firewall/filter', { where: { action: 'accept' }, proplist: ['.id', 'comment'] })).toEqual([{ '.id': first, comment: 'lan accept' }]);
      await session.remove('/ip/firewall/filter', [first, second]);
      expect(await session.print('/ip/firewall/filter')).toEqual([]);
      await expect(session.remove('/ip/firewall/filter', ['*FFF'])).rejects.toMatchObject({ code: 'ROUTEROS_TRAP', message: 'no such item' });
      session.close();
      await expect(openSession({ ...endpoint, password: 'wrong' }, timeouts)).rejects.toMatchObject({ code: 'ROUTEROS_LOGIN_FAILED' });
    } finally {
      await server.stop();
    }
  });
});

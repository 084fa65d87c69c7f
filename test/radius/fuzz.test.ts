import dgram from 'node:dgram';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAttributes, UndecodableAttributes } from '../../radius-bridge/attribute-codec.js';
import type { RunningRadius } from '../../radius-bridge/radius-role.js';
import { CODE, isMalformed, parsePacket } from '../../radius-bridge/wire.js';
import { accessRequest, accountingRequest } from './support/packets.js';
import { createLab, SECRET, type Lab } from './support/radius-lab.js';
import { exchange } from './support/udp.js';

/**
 * Random and mutated packets (fast-check) against a running radius-bridge: none may crash or stall it, none may
 * be answered with an Access-Accept, none may be counted as an internal error; a valid request afterwards
 * still gets its Accept. The mutations touch only the bytes a packet's Length covers (bytes past it are
 * padding a server must ignore), so every mutated packet is a different packet from the one signed.
 */
let lab: Lab;
let bridge: RunningRadius;
let pppoe: string;
let socket: dgram.Socket;
const replies: Buffer[] = [];

beforeAll(async () => {
  lab = await createLab();
  pppoe = await lab.username(lab.scenario.pppoe);
  bridge = await lab.startBridge();
  socket = dgram.createSocket('udp4');
  socket.on('message', (message) => replies.push(message));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
}, 120_000);

afterAll(async () => {
  socket?.close();
  await lab?.stop();
});

const validLogin = (): Buffer =>
  accessRequest({ user: pppoe, password: 'pw-pppoe', secret: SECRET, attributes: [{ name: 'Calling-Station-Id', value: 'AA:BB:CC:00:00:01' }, { name: 'NAS-Port-Type', value: 'Ethernet' }] });

const validStart = (): Buffer =>
  accountingRequest({
    secret: SECRET,
    attributes: [
      { name: 'Acct-Status-Type', value: 'Start' },
      { name: 'User-Name', value: pppoe },
      { name: 'Acct-Session-Id', value: 'fuzz' },
      { name: 'NAS-IP-Address', value: '127.0.0.1' },
    ],
  });

type Mutation = Readonly<{ kind: 'flip' | 'set-length' | 'truncate' | 'attribute-length'; at: number; value: number }>;

const mutation = fc.record({ kind: fc.constantFrom('flip', 'set-length', 'truncate', 'attribute-length'), at: fc.nat(), value: fc.integer({ min: 1, max: 255 }) }) as fc.Arbitrary<Mutation>;

/** Applies mutations within the packet's Length; the result always differs from the original. */
function mutate(original: Buffer, mutations: readonly Mutation[]): Buffer {
  let packet = Buffer.from(original);
  for (const m of mutations) {
    const length = packet.length;
    if (length === 0) break;
    switch (m.kind) {
      case 'flip':
        packet[m.at % length] = packet[m.at % length]! ^ m.value;
        break;
      case 'set-length':
        if (length >= 4) packet.writeUInt16BE((m.at * 257 + m.value) % 5000, 2);
        break;
      case 'truncate':
        packet = packet.subarray(0, m.at % length);
        break;
      case 'attribute-length':
        // The first attribute's length octet: shorter or longer than the attribute it frames.
        if (length > 21) packet[21] = m.value;
        break;
    }
  }
  if (packet.equals(original)) packet[0] = packet[0]! ^ 0x80;
  return packet;
}

const randomPacket = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  // A plausible header (code, id, matching Length) over random attribute bytes: reaches the attribute parser.
  fc.tuple(fc.constantFrom(CODE.ACCESS_REQUEST, CODE.ACCOUNTING_REQUEST, CODE.STATUS_SERVER, CODE.ACCESS_ACCEPT, 0, 255), fc.nat(255), fc.uint8Array({ minLength: 16, maxLength: 600 })).map(([code, id, rest]) => {
    const packet = Buffer.concat([Buffer.from([code, id, 0, 0]), Buffer.from(rest)]);
    packet.writeUInt16BE(packet.length, 2);
    return packet;
  }),
);

async function sendAll(packets: readonly Buffer[], port: number): Promise<Buffer[]> {
  const first = replies.length;
  for (const packet of packets) socket.send(packet, port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 60));
  return replies.slice(first);
}

describe('fuzzing radius-bridge', () => {
  it('parsePacket never throws, and the attribute decoder throws only its own error', () => {
    fc.assert(
      fc.property(fc.oneof(randomPacket, fc.array(mutation, { minLength: 1, maxLength: 4 }).map((m) => mutate(validLogin(), m))), (packet) => {
        const parsed = parsePacket(packet);
        if (isMalformed(parsed)) return;
        try {
          decodeAttributes(parsed.packet);
        } catch (error) {
          expect(error).toBeInstanceOf(UndecodableAttributes);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('random packets on both ports: no Accept, no crash, no internal error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(randomPacket, { minLength: 1, maxLength: 40 }), async (packets) => {
        const answers = [...(await sendAll(packets, bridge.auth_port)), ...(await sendAll(packets, bridge.acct_port))];
        for (const answer of answers) expect(answer[0]).not.toBe(CODE.ACCESS_ACCEPT);
      }),
      { numRuns: 25 },
    );
    expect(bridge.server.stats.dropped.internal_error).toBe(0);
  });

  it('mutated valid Access-Requests are never accepted; mutated Accounting-Requests are never written', async () => {
    const written = bridge.accounting.records;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(mutation, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 30 }), async (batches) => {
        const answers = await sendAll(
          batches.map((m) => mutate(validLogin(), m)),
          bridge.auth_port,
        );
        for (const answer of answers) expect(answer[0]).not.toBe(CODE.ACCESS_ACCEPT);
        const accounting = await sendAll(
          batches.map((m) => mutate(validStart(), m)),
          bridge.acct_port,
        );
        expect(accounting).toEqual([]);
      }),
      { numRuns: 25 },
    );
    expect(bridge.accounting.records).toBe(written);
    expect(bridge.server.stats.dropped.internal_error).toBe(0);
    expect(bridge.server.stats.received).toBeGreaterThan(100);
  });

  it('still answers a valid request with an Accept afterwards', async () => {
    const reply = await exchange(validLogin(), bridge.auth_port);
    expect(reply?.[0]).toBe(CODE.ACCESS_ACCEPT);
  });

  it('its counters say how the event loop fared meanwhile: delay and GC pauses, in the JSON the role logs', () => {
    const counters = JSON.parse(JSON.stringify(bridge.server.stats)) as typeof bridge.server.stats;
    const loop = counters.loop;
    expect(loop.delay_max_ms).toBeGreaterThanOrEqual(loop.delay_p99_ms);
    expect(loop.delay_p99_ms).toBeGreaterThanOrEqual(loop.delay_p50_ms);
    expect(loop.delay_p50_ms).toBeGreaterThanOrEqual(0);
    // Thousands of packets decoded and answered: the young generation was collected at least once.
    expect(loop.gc_minor.count).toBeGreaterThan(0);
    for (const pauses of [loop.gc_minor, loop.gc_major, loop.gc_incremental]) {
      expect(pauses.total_ms).toBeGreaterThanOrEqual(pauses.max_ms);
      expect(pauses.max_ms).toBeGreaterThanOrEqual(0);
    }
    expect(Number.isInteger(loop.gc_pauses_over_5_ms)).toBe(true);
  });
});

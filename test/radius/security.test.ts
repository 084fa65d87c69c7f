import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRouter } from '../../commands/router-commands.js';
import type { RunningRadius } from '../../radius-bridge/radius-role.js';
import { CODE, isMalformed, parsePacket, verifyResponse, type ParsedPacket } from '../../radius-bridge/wire.js';
import { admin, createDemoIsp, ok } from '../support/demo-isp.js';
import { accessRequest, accountingRequest, resign } from './support/packets.js';
import { createLab, SECRET, type Lab } from './support/radius-lab.js';
import { checkReplySignature, exchange, freeUdpPort } from './support/udp.js';

/**
 * BlastRADIUS (CVE-2024-3596) and the rest of what a RADIUS server must refuse without a word: unknown
 * routers, wrong secrets, missing Message-Authenticators, Proxy-State without one; retransmissions answered
 * from the cache; one address shared by two ISPs told apart by their secrets. Packets come from chosen
 * loopback addresses (127.0.0.x), as from different routers.
 */
let lab: Lab;
let bridge: RunningRadius;
let pppoe: string;
const LAX_SECRET = 'lax-router-secret';
const OTHER_ISP_SECRET = 'other-isp-secret';

beforeAll(async () => {
  lab = await createLab();
  const tenant = lab.scenario.tenant;
  // 127.0.0.2: an old router that cannot send Message-Authenticator, allowed to (require_message_authenticator false).
  ok(await registerRouter(lab.runtime, admin(tenant), { router_id: `lax-${tenant}`, name: 'old-router', nas_ip: '127.0.0.2', secret: LAX_SECRET, require_message_authenticator: false }));
  // 127.0.0.3: this ISP's router and another ISP's, behind one address, with different secrets.
  ok(await registerRouter(lab.runtime, admin(tenant), { router_id: `shared-${tenant}`, name: 'shared', nas_ip: '127.0.0.3', secret: SECRET }));
  const other = await createDemoIsp(lab.runtime);
  ok(await registerRouter(lab.runtime, admin(other.tenant), { router_id: `shared-${other.tenant}`, name: 'shared', nas_ip: '127.0.0.3', secret: OTHER_ISP_SECRET }));
  await lab.caughtUp();
  pppoe = await lab.username(lab.scenario.pppoe);
  bridge = await lab.startBridge();
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

const login = (secret: string, extra: Partial<Parameters<typeof accessRequest>[0]> = {}) =>
  accessRequest({ user: pppoe, password: 'pw-pppoe', secret, attributes: [{ name: 'Calling-Station-Id', value: 'AA:BB:CC:00:00:01' }], ...extra });

const code = (reply: Buffer | null): number | null => (reply === null ? null : reply[0]!);

/** Sends and expects silence, and that exactly this drop counter moved by one. */
async function expectDropped(packet: Buffer, reason: keyof RunningRadius['server']['stats']['dropped'], source = '127.0.0.1', port = bridge.auth_port): Promise<void> {
  const before = bridge.server.stats.dropped[reason];
  expect(await exchange(packet, port, { source, timeout_ms: 300 })).toBeNull();
  expect(bridge.server.stats.dropped[reason]).toBe(before + 1);
}

describe('radius-bridge drops what it must not answer, and counts it', () => {
  it('a router it does not know (silently)', async () => {
    await expectDropped(login(SECRET), 'unknown_client', '127.0.0.9');
  });

  it('a request signed with the wrong secret', async () => {
    await expectDropped(login('not-the-secret'), 'bad_authenticator');
  });

  it('an Access-Request without Message-Authenticator from a router that must send one', async () => {
    await expectDropped(login(SECRET, { message_authenticator: false }), 'missing_message_authenticator');
  });

  it('a Proxy-State without Message-Authenticator, even from a router allowed to omit it', async () => {
    await expectDropped(login(LAX_SECRET, { message_authenticator: false, proxy_state: Buffer.from('collision-block') }), 'proxy_state_without_message_authenticator', '127.0.0.2');
  });

  it('an Accounting-Request whose Request Authenticator does not verify', async () => {
    await expectDropped(accountingRequest({ secret: 'not-the-secret', attributes: [{ name: 'Acct-Status-Type', value: 'Start' }, { name: 'User-Name', value: pppoe }, { name: 'Acct-Session-Id', value: 'x' }] }), 'bad_authenticator', '127.0.0.1', bridge.acct_port);
  });

  it('an Access-Request without Message-Authenticator from an address two ISPs share (whose would it be?)', async () => {
    await expectDropped(login(SECRET, { message_authenticator: false }), 'ambiguous_client', '127.0.0.3');
  });

  it('a packet that is not RADIUS', async () => {
    await expectDropped(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'malformed');
  });

  it('an accounting packet on the authentication port', async () => {
    await expectDropped(accountingRequest({ secret: SECRET, attributes: [{ name: 'Acct-Status-Type', value: 'Start' }] }), 'unexpected_code');
  });
});

describe('radius-bridge answers', () => {
  it('every Access-Accept and Access-Reject with a valid Message-Authenticator as the first attribute', async () => {
    for (const [request, expected] of [
      [login(SECRET), CODE.ACCESS_ACCEPT],
      [login(SECRET, { password: 'wrong' }), CODE.ACCESS_REJECT],
    ] as const) {
      const reply = await exchange(request, bridge.auth_port);
      expect(code(reply)).toBe(expected);
      expect(checkReplySignature(request, reply!, SECRET)).toEqual({ present: true, first: true, valid: true });
    }
  });

  it('a router allowed to omit Message-Authenticator, still with a signed reply', async () => {
    const request = login(LAX_SECRET, { message_authenticator: false });
    const reply = await exchange(request, bridge.auth_port, { source: '127.0.0.2' });
    expect(code(reply)).toBe(CODE.ACCESS_ACCEPT);
    expect(checkReplySignature(request, reply!, LAX_SECRET)).toEqual({ present: true, first: true, valid: true });
  });

  it('Proxy-State attributes echoed after the reply’s own attributes (RFC 2865 §5.33)', async () => {
    const request = login(SECRET, { proxy_state: Buffer.from('proxy-1') });
    const reply = parsePacket((await exchange(request, bridge.auth_port))!) as ParsedPacket;
    const last = reply.attributes.at(-1)!;
    expect({ type: last.type, value: last.value }).toEqual({ type: 33, value: Buffer.from('proxy-1') });
  });

  it('Status-Server with an Access-Accept (RFC 5997)', async () => {
    const request = accessRequest({ user: 'status', secret: SECRET });
    request[0] = CODE.STATUS_SERVER;
    // Re-sign: the code is covered by the Message-Authenticator.
    resign(request, SECRET, 20);
    const reply = await exchange(request, bridge.auth_port);
    expect(code(reply)).toBe(CODE.ACCESS_ACCEPT);
    expect(checkReplySignature(request, reply!, SECRET).valid).toBe(true);
  });

  it('an address two ISPs share: each request is decided for the ISP whose secret signed it', async () => {
    expect(code(await exchange(login(SECRET), bridge.auth_port, { source: '127.0.0.3' }))).toBe(CODE.ACCESS_ACCEPT);
    // The other ISP has no such customer: its router gets a Reject, never this ISP's answer.
    const request = login(OTHER_ISP_SECRET);
    const reply = await exchange(request, bridge.auth_port, { source: '127.0.0.3' });
    expect(code(reply)).toBe(CODE.ACCESS_REJECT);
    expect(checkReplySignature(request, reply!, OTHER_ISP_SECRET)).toEqual({ present: true, first: true, valid: true });
  });

  it('a retransmitted Access-Request with the very same reply, decided once', async () => {
    const request = login(SECRET);
    // A retransmission comes from the same address and port.
    const source_port = await freeUdpPort();
    const first = await exchange(request, bridge.auth_port, { source_port });
    const accepts = bridge.server.stats.access_accepts;
    const again = await exchange(request, bridge.auth_port, { source_port });
    expect(again).toEqual(first);
    expect(bridge.server.stats.access_accepts).toBe(accepts);
    expect(bridge.server.stats.duplicates_answered).toBeGreaterThanOrEqual(1);
  });

  it('a retransmitted Accounting-Request from the cache, written once, with a valid Response Authenticator', async () => {
    const request = accountingRequest({
      secret: SECRET,
      attributes: [
        { name: 'Acct-Status-Type', value: 'Start' },
        { name: 'User-Name', value: pppoe },
        { name: 'Acct-Session-Id', value: 'retransmitted-start' },
        { name: 'NAS-IP-Address', value: '127.0.0.1' },
      ],
    });
    const records = bridge.accounting.records;
    const source_port = await freeUdpPort();
    const first = await exchange(request, bridge.acct_port, { source_port });
    expect(code(first)).toBe(CODE.ACCOUNTING_RESPONSE);
    expect(verifyResponse(parsePacket(first!) as ParsedPacket, request.subarray(4, 20), Buffer.from(SECRET))).toBe(true);
    const again = await exchange(request, bridge.acct_port, { source_port });
    expect(again).toEqual(first);
    expect(bridge.accounting.records).toBe(records + 1);
    const rows = await lab.database.pool.query('SELECT count(*)::int AS n FROM radacct WHERE acctsessionid = $1', ['retransmitted-start']);
    expect(rows.rows[0].n).toBe(1);
  });

  it('sockets with a receive buffer of at least 4 MiB (a login storm after an outage)', () => {
    expect(bridge.server.receive_buffer_bytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
  });

  it('a port already taken stops the role with a code and what to do', async () => {
    await expect(lab.startBridge({ auth_port: bridge.auth_port })).rejects.toMatchObject({ code: 'RADIUS_PORT_UNAVAILABLE', message: expect.stringMatching(/RADIUS_AUTH_PORT/) });
  });

  it('counted nothing as an internal error', () => {
    expect(bridge.server.stats.dropped.internal_error).toBe(0);
    expect(isMalformed(parsePacket(Buffer.alloc(3)))).toBe(true);
  });
});

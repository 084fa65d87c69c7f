import { describe, expect, it } from 'vitest';
import { acctUniqueId } from './accounting-record.js';
import { ATTRIBUTE } from './wire.js';

const attributes = (list: readonly [number, string | Buffer][]) => ({ attributes: list.map(([type, value]) => ({ type, value: Buffer.isBuffer(value) ? value : Buffer.from(value) })) });
const port = (n: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(n);
  return bytes;
};

describe('acctuniqueid as FreeRADIUS 3.2 computes it (policy.d/accounting acct_unique)', () => {
  it('is md5("User-Name,Acct-Session-Id,NAS-IP,NAS-Identifier,NAS-Port-Id,NAS-Port"): the value FreeRADIUS 3.2.1 wrote for this session', () => {
    const packet = attributes([
      [ATTRIBUTE.USER_NAME, 'pppoe-x'],
      [ATTRIBUTE.ACCT_SESSION_ID, 'sess-18130'],
      [ATTRIBUTE.NAS_PORT, port(15)],
    ]);
    expect(acctUniqueId(packet, '127.0.0.1')).toBe('d4398ef80a4b3147f9db73282865d0b3');
  });

  it('uses the Class the server handed out ("ai:" and 32 hex digits) when the router echoes it', () => {
    const klass = `ai:${'0123456789abcdef'.repeat(2)}`;
    const a = acctUniqueId(attributes([[ATTRIBUTE.CLASS, klass], [ATTRIBUTE.ACCT_SESSION_ID, 's1'], [ATTRIBUTE.USER_NAME, 'a']]), '10.0.0.1');
    const b = acctUniqueId(attributes([[ATTRIBUTE.CLASS, klass], [ATTRIBUTE.ACCT_SESSION_ID, 's1'], [ATTRIBUTE.USER_NAME, 'b']]), '10.0.0.2');
    expect(a).toBe(b);
  });
});

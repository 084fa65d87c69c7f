import { describe, expect, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { contextAt, isp, tenMegabit, TENANT, PACKAGE_ID } from '../shared/spec-fixtures.js';
import { evolveCustomer, initialCustomerState } from './customer-evolve.js';
import { decideRegisterCustomer } from './registration.js';
import { mobileUsername, normaliseMobile, selfRegistration } from './self-registration.js';

describe('mobile numbers', () => {
  it('reads a Bangladeshi number however it is written, and any other with its +', () => {
    for (const written of ['01712345678', '01712-345678', '017 1234 5678', '+8801712345678', '8801712345678', '008801712345678', '+880 1712-345678']) {
      expect(normaliseMobile(written), written).toBe('+8801712345678');
    }
    expect(normaliseMobile('+44 7700 900123')).toBe('+447700900123');
    expect(normaliseMobile('0044 7700 900123')).toBe('+447700900123');
  });

  it('refuses what is not a mobile number', () => {
    for (const written of ['', '0171234567', '01212345678', '7700900123', '+0123456789', '+12', 'abc', '+88017123456789999', '01712345678x', '0'.repeat(40)]) {
      expect(normaliseMobile(written), written).toBeNull();
    }
  });

  it('the username is the number without its +', () => {
    expect(mobileUsername('+8801712345678')).toBe('8801712345678');
  });
});

describe('a self-registered hotspot customer', () => {
  const command = selfRegistration({
    customer_id: 'hs-1',
    operator_id: TENANT,
    mobile: '+8801712345678',
    mac: 'AA:BB:CC:DD:EE:01',
    name: '  ',
    zone: 'Dhanmondi hotspot',
    package_id: PACKAGE_ID,
  });

  it('is a daily hotspot customer holding its number as username and its device as MAC login, with no password', () => {
    expect(command).toMatchObject({
      connection_type: 'hotspot',
      username: '8801712345678',
      password: null,
      mac: 'AA:BB:CC:DD:EE:01',
      profile: { kind: 'daily' },
      self_registered: true,
      // Nobody typed a name: the number stands in, so lists show something a person recognises.
      name: '+8801712345678',
    });
  });

  it('is accepted by the registration rules and starts expired, owing nothing', () => {
    const events = given(evolveCustomer, initialCustomerState)
      .when((state) => decideRegisterCustomer(state, command, isp(), isp(), tenMegabit(), contextAt('2026-11-16T06:00:00Z')))
      .then([
        {
          type: 'customer-registered',
          data: expect.objectContaining({ customer_id: 'hs-1', connection_type: 'hotspot', username: '8801712345678', mac: 'AA:BB:CC:DD:EE:01', self_registered: true }) as never,
        },
      ]);
    const state = events.reduce(evolveCustomer, initialCustomerState());
    expect(state.expired).toBe(true);
    expect(state.bills).toEqual([]);
  });
});

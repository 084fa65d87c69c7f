import { describe, expect, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import {
  DAILY,
  PACKAGE_ID,
  TENANT,
  contextAt,
  customerRegistered,
  isp,
  ispRegistered,
  monthly,
  operatorCreated,
  operatorState,
  packageAssigned,
  packageCreated,
  packageSpec,
  packageState,
  reseller,
  shareSet,
  subReseller,
  tenMegabit,
} from '../shared/spec-fixtures.js';
import type { OperatorState } from '../operators/operator.js';
import type { PackageState } from '../packages/package.js';
import type { CommandContext } from '../shared/command-context.js';
import type { CustomerEvent } from './customer.js';
import { evolveCustomer, initialCustomerState } from './customer-evolve.js';
import { checkCredentials, decideRegisterCustomer, type RegisterCustomer } from './registration.js';

/** Noon in Dhaka on 16 November 2026. */
const NOON_16_NOV = contextAt('2026-11-16T06:00:00Z');

const command = (overrides: Partial<RegisterCustomer> = {}): RegisterCustomer => ({
  customer_id: 'cus-1',
  operator_id: TENANT,
  connection_type: 'pppoe',
  name: 'Alice',
  mobile: '01700000000',
  zone: 'Dhanmondi',
  username: 'alice',
  password: 'secret-1',
  mac: null,
  static_ip: null,
  package_id: PACKAGE_ID,
  profile: DAILY,
  special_price: null,
  self_registered: false,
  ...overrides,
});

type Stores = Readonly<{ owner?: OperatorState; ispState?: OperatorState; pkg?: PackageState; context?: CommandContext }>;

/** A new customer registering with `cmd`, owned by the ISP unless told otherwise. */
function register(cmd: RegisterCustomer, stores: Stores = {}) {
  return given(evolveCustomer, initialCustomerState).when((state) =>
    decideRegisterCustomer(state, cmd, stores.owner ?? isp(), stores.ispState ?? isp(), stores.pkg ?? tenMegabit(), stores.context ?? NOON_16_NOV),
  );
}

const registered = (overrides: Parameters<typeof customerRegistered>[0] = {}): CustomerEvent => customerRegistered(overrides);

describe('registering a customer', () => {
  it('records a daily PPPoE customer of a reseller, with the chain from the ISP down to the reseller', () => {
    register(command({ operator_id: 'res-1', name: ' Alice ', mobile: ' 01700000000 ', zone: ' Mirpur ' }), { owner: reseller() }).then([
      registered({ operator_id: 'res-1', chain: [TENANT, 'res-1'], zone: 'Mirpur' }),
    ]);
  });

  it('records the registration on the ISP’s local date, not the UTC one', () => {
    // 19:30 UTC on the 15th is already 01:30 on the 16th in Dhaka.
    register(command(), { context: contextAt('2026-11-15T19:30:00Z') }).then([registered({ registered_on: '2026-11-16' })]);
  });

  it('leaves a new daily customer without validity until its first recharge', () => {
    const state = given(evolveCustomer, initialCustomerState, [registered()]).state;
    expect(state).toMatchObject({ exists: true, expired: true, expires_at: null, credit: '0.00', billing_starts_on: null });
  });

  it('serves a new monthly customer from the day it registers', () => {
    const state = given(evolveCustomer, initialCustomerState, [registered({ profile: monthly(1, 'postpaid') })]).state;
    expect(state).toMatchObject({ expired: false, billing_starts_on: '2026-11-16' });
  });

  describe('credentials per connection type', () => {
    it('needs a username and a password for PPPoE', () => {
      register(command({ password: null })).thenRejects('INVALID_CREDENTIALS');
      register(command({ username: '' })).thenRejects('INVALID_CREDENTIALS');
      register(command({ password: '' })).thenRejects('INVALID_CREDENTIALS');
    });

    it('takes a hotspot customer by MAC alone, normalising the MAC', () => {
      register(command({ connection_type: 'hotspot', username: null, password: null, mac: 'aa-bb-cc-dd-ee-ff' })).then([
        registered({ connection_type: 'hotspot', username: null, password: null, mac: 'AA:BB:CC:DD:EE:FF' }),
      ]);
      register(command({ connection_type: 'hotspot', username: null, password: null, mac: 'AABB.CCDD.EEFF' })).then([
        registered({ connection_type: 'hotspot', username: null, password: null, mac: 'AA:BB:CC:DD:EE:FF' }),
      ]);
    });

    it('takes a hotspot customer by username and password instead', () => {
      register(command({ connection_type: 'hotspot' })).then([registered({ connection_type: 'hotspot' })]);
      register(command({ connection_type: 'hotspot', password: null })).thenRejects('INVALID_CREDENTIALS');
      register(command({ connection_type: 'hotspot', username: null, password: null })).thenRejects('INVALID_CREDENTIALS');
    });

    it('needs the IP address of a static IP customer, and nothing else', () => {
      register(command({ connection_type: 'static_ip', username: null, password: null, static_ip: ' 10.20.0.7 ' })).then([
        registered({ connection_type: 'static_ip', username: null, password: null, static_ip: '10.20.0.7' }),
      ]);
      register(command({ connection_type: 'static_ip', static_ip: null })).thenRejects('INVALID_CREDENTIALS');
    });

    it('refuses malformed identifiers whatever the connection type', () => {
      register(command({ username: 'al' })).thenRejects('INVALID_CREDENTIALS');
      register(command({ mac: 'aa-bb-cc' })).thenRejects('INVALID_CREDENTIALS');
      register(command({ connection_type: 'static_ip', static_ip: '10.20.0.256' })).thenRejects('INVALID_CREDENTIALS');
      register(command({ password: 'x'.repeat(65) })).thenRejects('INVALID_CREDENTIALS');
      register(command({ password: 'tab\there' })).thenRejects('INVALID_CREDENTIALS');
    });

    it('returns the normalised credentials it will reserve', () => {
      expect(checkCredentials({ connection_type: 'pppoe', username: ' bob ', password: 'pw', mac: 'aabb.ccdd.eeff', static_ip: '' })).toEqual({
        username: 'bob',
        password: 'pw',
        mac: 'AA:BB:CC:DD:EE:FF',
        static_ip: null,
      });
    });
  });

  describe('the rules, in order', () => {
    it('refuses a customer id that exists before anything else', () => {
      given(evolveCustomer, initialCustomerState, [registered()])
        .when((state) => decideRegisterCustomer(state, command({ username: null }), operatorState(), isp(), tenMegabit(), NOON_16_NOV))
        .thenRejects('CUSTOMER_ALREADY_EXISTS');
    });

    it('refuses an owner that does not exist', () => {
      register(command({ operator_id: 'res-9' }), { owner: operatorState() }).thenRejects('OPERATOR_NOT_FOUND');
    });

    it('refuses an owner of another ISP, or an ISP that is not the caller’s', () => {
      const foreignReseller = operatorState(operatorCreated('res-9', ['isp-2']));
      register(command({ operator_id: 'res-9' }), { owner: foreignReseller }).thenRejects('WRONG_TENANT');
      register(command(), { owner: operatorState(ispRegistered('isp-2')), ispState: operatorState(ispRegistered('isp-2')) }).thenRejects('WRONG_TENANT');
    });

    it('refuses a suspended owner, before looking at the package', () => {
      const suspended = reseller({ type: 'operator-suspended', data: { operator_id: 'res-1', reason: 'dues' } });
      register(command({ operator_id: 'res-1', package_id: 'pkg-none' }), { owner: suspended, pkg: packageState() }).thenRejects('OPERATOR_SUSPENDED');
    });

    it('refuses a package that does not exist, or belongs to another ISP', () => {
      register(command(), { pkg: packageState() }).thenRejects('PACKAGE_NOT_FOUND');
      register(command(), { pkg: packageState({ type: 'package-created', data: { ...packageSpec(), package_id: PACKAGE_ID, tenant: 'isp-2', currency: 'BDT' } }) }).thenRejects('PACKAGE_NOT_FOUND');
    });

    it('refuses a retired package', () => {
      register(command(), { pkg: packageState(packageCreated(), { type: 'package-retired', data: { package_id: PACKAGE_ID } }) }).thenRejects('PACKAGE_RETIRED');
    });

    it('refuses a package not assigned to a reseller owner (today), before the credentials', () => {
      const withoutPackage = operatorState(operatorCreated('res-1', [TENANT]), shareSet('res-1', '60'));
      register(command({ operator_id: 'res-1', password: null }), { owner: withoutPackage }).thenRejects('PACKAGE_NOT_ASSIGNED');
      const fromNextMonth = operatorState(operatorCreated('res-1', [TENANT]), packageAssigned('res-1', PACKAGE_ID, '350.00', '2026-12-01'));
      register(command({ operator_id: 'res-1' }), { owner: fromNextMonth }).thenRejects('PACKAGE_NOT_ASSIGNED');
    });

    it('checks the credentials before the name, the name before the profile, the profile before the price', () => {
      register(command({ password: null, name: ' ' })).thenRejects('INVALID_CREDENTIALS');
      register(command({ name: ' ', profile: monthly(32, 'prepaid') })).thenRejects('INVALID_INPUT');
      const rejection = register(command({ profile: monthly(32, 'prepaid'), special_price: '-1' })).thenRejects('INVALID_INPUT');
      expect(rejection.message).toContain('due_day');
    });

    it('refuses a due day outside 1–31 and grace outside 0–60', () => {
      for (const profile of [monthly(0, 'prepaid'), monthly(31.5, 'prepaid'), monthly(1, 'prepaid', -1), monthly(1, 'prepaid', 61)]) {
        register(command({ profile })).thenRejects('INVALID_INPUT');
      }
    });
  });

  describe('special prices', () => {
    it('refuses a special price below what the reseller pays for the package', () => {
      const rejection = register(command({ operator_id: 'res-1', special_price: '349.99' }), { owner: reseller() }).thenRejects('PRICE_BELOW_WHOLESALE');
      expect(rejection.message).toContain('350.00');
    });

    it('accepts a special price at the reseller’s own price, written canonically', () => {
      register(command({ operator_id: 'res-1', special_price: '350' }), { owner: reseller() }).then([
        registered({ operator_id: 'res-1', chain: [TENANT, 'res-1'], special_price: '350.00' }),
      ]);
    });

    it('lets the ISP set any special price of zero or more, and nobody a negative or malformed one', () => {
      register(command({ special_price: '0' })).then([registered({ special_price: '0.00' })]);
      register(command({ special_price: '-1' })).thenRejects('INVALID_AMOUNT');
      register(command({ special_price: '12.345' })).thenRejects('INVALID_AMOUNT');
    });
  });

  describe('a monthly prepaid customer', () => {
    it('is billed at once for the rest of the current period: 15 of 30 days of 500.00 from 16 November', () => {
      register(command({ profile: monthly(1, 'prepaid', 3) })).then([
        registered({ profile: monthly(1, 'prepaid', 3) }),
        {
          type: 'bill-issued',
          data: {
            bill_id: 'cus-1:2026-11',
            customer_id: 'cus-1',
            kind: 'first-period',
            period: '2026-11',
            covers_from: '2026-11-16',
            covers_until: '2026-12-01',
            package_id: PACKAGE_ID,
            amount: '250.00',
            currency: 'BDT',
            issued_on: '2026-11-16',
            due_on: '2026-11-19',
          },
        },
      ]);
    });

    it('prorates the special price, and a sub-reseller’s customer the same way', () => {
      const events = register(command({ operator_id: 'sub-1', profile: monthly(1, 'prepaid'), special_price: '400' }), { owner: subReseller() }).then([
        registered({ operator_id: 'sub-1', chain: [TENANT, 'res-1', 'sub-1'], profile: monthly(1, 'prepaid'), special_price: '400.00' }),
        expect.objectContaining({ type: 'bill-issued', data: expect.objectContaining({ amount: '200.00', kind: 'first-period' }) }) as CustomerEvent,
      ]);
      expect(events).toHaveLength(2);
    });

    it('pays a whole period, as an ordinary monthly bill, when it registers on its billing day', () => {
      register(command({ profile: monthly(16, 'prepaid', 0) })).then([
        registered({ profile: monthly(16, 'prepaid', 0) }),
        {
          type: 'bill-issued',
          data: {
            bill_id: 'cus-1:2026-11',
            customer_id: 'cus-1',
            kind: 'monthly',
            period: '2026-11',
            covers_from: '2026-11-16',
            covers_until: '2026-12-16',
            package_id: PACKAGE_ID,
            amount: '500.00',
            currency: 'BDT',
            issued_on: '2026-11-16',
            due_on: '2026-11-16',
          },
        },
      ]);
    });

    it('bills a due day of 31 from the last day of February: 18 of 28 days from 10 February 2027', () => {
      const events = register(command({ profile: monthly(31, 'prepaid') }), { context: contextAt('2027-02-10T06:00:00Z') }).then([
        registered({ profile: monthly(31, 'prepaid'), registered_on: '2027-02-10' }),
        expect.objectContaining({ type: 'bill-issued' }) as CustomerEvent,
      ]);
      // The period that contains 10 February runs from 31 January to 28 February: 500.00 × 18 / 28.
      expect(events[1]!.data).toMatchObject({ period: '2027-01', covers_from: '2027-02-10', covers_until: '2027-02-28', amount: '321.43' });
    });

    it('issues no bill for a free package', () => {
      register(command({ profile: monthly(1, 'prepaid') }), { pkg: packageState(packageCreated(PACKAGE_ID, { price: '0' })) }).then([registered({ profile: monthly(1, 'prepaid') })]);
    });
  });

  it('bills a monthly postpaid customer nothing up front', () => {
    register(command({ profile: monthly(1, 'postpaid') })).then([registered({ profile: monthly(1, 'postpaid') })]);
  });
});

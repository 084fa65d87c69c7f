import { describe, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { CURRENCY, PACKAGE_ID, TENANT, packageCreated, packageSpec } from '../shared/spec-fixtures.js';
import { decideCreatePackage, decideRetirePackage, decideUpdatePackage, evolvePackage, initialPackageState, type PackageEvent, type PackageSpec } from './package.js';

const create = (overrides: Partial<PackageSpec> = {}) => ({ ...packageSpec(overrides), package_id: PACKAGE_ID, tenant: TENANT, currency: CURRENCY });
const retired: PackageEvent = { type: 'package-retired', data: { package_id: PACKAGE_ID } };

/** One spec per rule of checkPackageSpec, in its order. */
const INVALID_SPECS: readonly (readonly [string, Partial<PackageSpec>])[] = [
  ['a blank name', { name: ' ' }],
  ['a rate of zero', { down_kbps: 0 }],
  ['a fractional rate', { up_kbps: 1.5 }],
  ['a rate above 100 Gbit/s', { down_kbps: 100_000_001 }],
  ['a burst below the normal rate', { burst: { down_kbps: 5_000, up_kbps: 10_000, threshold_down_kbps: 8_000, threshold_up_kbps: 8_000, time_seconds: 8 } }],
  ['a burst figure of zero', { burst: { down_kbps: 20_000, up_kbps: 20_000, threshold_down_kbps: 8_000, threshold_up_kbps: 8_000, time_seconds: 0 } }],
  ['a price that is not an amount', { price: '500,00' }],
  ['a price with more decimals than the currency', { price: '500.001' }],
  ['a negative price', { price: '-1' }],
  ['no validity', { validity_days: 0 }],
  ['more than ten years of validity', { validity_days: 3661 }],
  ['a pool name RouterOS cannot hold', { ip_pool: 'pool 10m' }],
  ['a quota of zero', { data_quota_mb: 0 }],
];

describe('creating a package', () => {
  it('records the package with its name trimmed and its price in canonical form', () => {
    given(evolvePackage, initialPackageState)
      .when((state) => decideCreatePackage(state, create({ name: ' 10 Mbit/s ', price: '500' })))
      .then([{ type: 'package-created', data: { ...create(), name: '10 Mbit/s', price: '500.00' } }]);
  });

  it('accepts a burst at or above the normal rate and a data quota', () => {
    const burst = { down_kbps: 20_000, up_kbps: 10_000, threshold_down_kbps: 8_000, threshold_up_kbps: 8_000, time_seconds: 16 };
    given(evolvePackage, initialPackageState)
      .when((state) => decideCreatePackage(state, create({ burst, data_quota_mb: 51_200, price: '0' })))
      .then([{ type: 'package-created', data: { ...create({ burst, data_quota_mb: 51_200 }), price: '0.00' } }]);
  });

  it('refuses an id that exists before checking the figures', () => {
    given(evolvePackage, initialPackageState, [packageCreated()])
      .when((state) => decideCreatePackage(state, create({ name: '' })))
      .thenRejects('PACKAGE_ALREADY_EXISTS');
  });

  for (const [what, overrides] of INVALID_SPECS) {
    it(`refuses ${what}`, () => {
      given(evolvePackage, initialPackageState)
        .when((state) => decideCreatePackage(state, create(overrides)))
        .thenRejects('INVALID_PACKAGE');
    });
  }
});

describe('updating a package', () => {
  it('records the new figures, the name trimmed and the price canonical, as on creation', () => {
    given(evolvePackage, initialPackageState, [packageCreated()])
      .when((state) => decideUpdatePackage(state, packageSpec({ name: ' 10 Mbit/s plus ', price: '550.5' })))
      .then([{ type: 'package-updated', data: { ...packageSpec(), name: '10 Mbit/s plus', price: '550.50', package_id: PACKAGE_ID } }]);
  });

  it('checks, in order: the package exists, is not retired, the figures are valid', () => {
    given(evolvePackage, initialPackageState)
      .when((state) => decideUpdatePackage(state, packageSpec({ name: '' })))
      .thenRejects('PACKAGE_NOT_FOUND');
    given(evolvePackage, initialPackageState, [packageCreated(), retired])
      .when((state) => decideUpdatePackage(state, packageSpec({ name: '' })))
      .thenRejects('PACKAGE_RETIRED');
    given(evolvePackage, initialPackageState, [packageCreated()])
      .when((state) => decideUpdatePackage(state, packageSpec({ validity_days: 0 })))
      .thenRejects('INVALID_PACKAGE');
  });
});

describe('retiring a package', () => {
  it('retires it once; retiring it again changes nothing', () => {
    given(evolvePackage, initialPackageState, [packageCreated()])
      .when((state) => decideRetirePackage(state))
      .then([retired]);
    given(evolvePackage, initialPackageState, [packageCreated(), retired])
      .when((state) => decideRetirePackage(state))
      .thenNothingHappens();
    given(evolvePackage, initialPackageState)
      .when((state) => decideRetirePackage(state))
      .thenRejects('PACKAGE_NOT_FOUND');
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { isp, ispRegistered, operatorCreated, TENANT } from '../shared/spec-fixtures.js';
import { decideSetIspProfile, evolveOperator, initialOperatorState, isSupportedLocale, MAX_LOGO_BYTES, type IspProfile, type OperatorEvent } from './operator.js';

/** The ISP's profile: what its documents print. */
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('rest of a png')]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);
const profile = (overrides: Partial<IspProfile> = {}): IspProfile => ({
  address: 'House 12, Road 5\nDhanmondi, ঢাকা ১২০৫',
  phone: '+880 9612 000111',
  email: 'billing@dhaka-net.example',
  locale: 'bn-BD',
  logo: { media_type: 'image/png', data_base64: PNG.toString('base64') },
  payment_note: 'bKash merchant 01700-000111',
  ...overrides,
});
const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const profileSet = (value: IspProfile = profile()): OperatorEvent => ({
  type: 'isp-profile-set',
  data: { operator_id: TENANT, ...value, logo_sha256: value.logo === null ? null : digest(Buffer.from(value.logo.data_base64, 'base64')) },
});

describe('setting the ISP profile', () => {
  it('records the profile with the digest of its logo; the state keeps the digest, not the image', () => {
    const [event] = given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideSetIspProfile(state, profile()))
      .then([profileSet()]);
    const state = evolveOperator(isp(), event!);
    expect(state.isp_profile).toEqual({ ...profile(), logo: { media_type: 'image/png', sha256: digest(PNG) } });
  });

  it('starts from the registration address; trims, and empty optional text is none', () => {
    expect(isp().isp_profile).toEqual({ address: 'Road 1, Dhanmondi', phone: null, email: null, locale: null, logo: null, payment_note: null });
    given(evolveOperator, initialOperatorState, [ispRegistered()])
      .when((state) => decideSetIspProfile(state, profile({ address: '  Road 2  ', phone: ' ', email: '', logo: null, payment_note: null, locale: null })))
      .then([profileSet(profile({ address: 'Road 2', phone: null, email: null, logo: null, payment_note: null, locale: null }))]);
  });

  it('setting the profile in force again appends nothing; a new logo is a change', () => {
    given(evolveOperator, initialOperatorState, [ispRegistered(), profileSet()])
      .when((state) => decideSetIspProfile(state, profile()))
      .thenNothingHappens();
    given(evolveOperator, initialOperatorState, [ispRegistered(), profileSet()])
      .when((state) => decideSetIspProfile(state, profile({ logo: { media_type: 'image/jpeg', data_base64: JPEG.toString('base64') } })))
      .then([profileSet(profile({ logo: { media_type: 'image/jpeg', data_base64: JPEG.toString('base64') } }))]);
  });

  it('refuses in order: no operator, not the ISP, address, phone, note, email, locale, logo', () => {
    given(evolveOperator, initialOperatorState).when((state) => decideSetIspProfile(state, profile())).thenRejects('OPERATOR_NOT_FOUND');
    given(evolveOperator, initialOperatorState, [operatorCreated('res-1', [TENANT])])
      .when((state) => decideSetIspProfile(state, profile({ address: '' })))
      .thenRejects('NOT_PERMITTED');
    const on = given(evolveOperator, initialOperatorState, [ispRegistered()]);
    const refusedFor = (overrides: Partial<IspProfile>): string => on.when((state) => decideSetIspProfile(state, profile(overrides))).thenRejects('INVALID_INPUT').message;
    expect(refusedFor({ address: ' ' })).toMatch(/address/);
    expect(refusedFor({ address: 'x'.repeat(301) })).toMatch(/address/);
    expect(refusedFor({ address: 'tab\there' })).toMatch(/address/);
    expect(refusedFor({ phone: '1'.repeat(41) })).toMatch(/phone/);
    expect(refusedFor({ payment_note: 'two\nlines' })).toMatch(/payment note/);
    expect(refusedFor({ email: 'not an email' })).toMatch(/email/);
    expect(refusedFor({ locale: 'no_such-locale!' })).toMatch(/locale/);
    expect(refusedFor({ logo: { media_type: 'image/gif' as 'image/png', data_base64: PNG.toString('base64') } })).toMatch(/image\/png or image\/jpeg/);
    expect(refusedFor({ logo: { media_type: 'image/png', data_base64: 'not base64!' } })).toMatch(/base64/);
    expect(refusedFor({ logo: { media_type: 'image/png', data_base64: JPEG.toString('base64') } })).toMatch(/not a PNG/);
    expect(refusedFor({ logo: { media_type: 'image/jpeg', data_base64: PNG.toString('base64') } })).toMatch(/not a JPEG/);
    const huge = Buffer.concat([PNG, Buffer.alloc(MAX_LOGO_BYTES)]);
    expect(refusedFor({ logo: { media_type: 'image/png', data_base64: huge.toString('base64') } })).toMatch(/at most/);
  });

  it('knows a locale the number formatter supports', () => {
    expect(isSupportedLocale('en-BD')).toBe(true);
    expect(isSupportedLocale('bn-BD')).toBe(true);
    expect(isSupportedLocale('en')).toBe(true);
    expect(isSupportedLocale('')).toBe(false);
    expect(isSupportedLocale('x'.repeat(40))).toBe(false);
    expect(isSupportedLocale('en_US')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { TENANT, ZONE, contextAt } from '../shared/spec-fixtures.js';
import {
  MAX_CARDS_PER_BATCH,
  cardCollector,
  decideAssignCards,
  decideGenerateBatch,
  decideRedeemCard,
  evolveCardBatch,
  hashPin,
  initialCardBatchState,
  type CardEvent,
} from './card-batch.js';

const PINS = ['1234567890123456', '6543210987654321', '1111222233334444'] as const;
const NOON_16_NOV = contextAt('2026-11-16T06:00:00Z');

const generate = (overrides: Partial<Parameters<typeof decideGenerateBatch>[1]> = {}) => ({
  batch_id: 'batch-1',
  value: '500',
  currency: 'BDT',
  package_id: null,
  expires_on: '2027-01-31',
  pins: PINS,
  first_serial: 1001,
  ...overrides,
});

const generated: CardEvent = {
  type: 'card-batch-generated',
  data: {
    batch_id: 'batch-1',
    tenant: TENANT,
    value: '500.00',
    currency: 'BDT',
    package_id: null,
    expires_on: '2027-01-31',
    cards: [
      { serial: '00001001', pin_hash: hashPin('batch-1', PINS[0]) },
      { serial: '00001002', pin_hash: hashPin('batch-1', PINS[1]) },
      { serial: '00001003', pin_hash: hashPin('batch-1', PINS[2]) },
    ],
  },
};
const assigned = (serials: readonly string[], to_operator_id: string, to_staff_id: string | null = null): CardEvent => ({
  type: 'cards-assigned',
  data: { batch_id: 'batch-1', serials, to_operator_id, to_staff_id },
});
const redeem = (overrides: Partial<Parameters<typeof decideRedeemCard>[1]> = {}) => ({
  serial: '00001001',
  pin: PINS[0],
  customer_id: 'cus-1',
  payment_id: 'pay-card-1',
  time_zone: ZONE,
  ...overrides,
});
const redeemedAt = (redeemed_at: string): CardEvent => ({
  type: 'card-redeemed',
  data: { batch_id: 'batch-1', serial: '00001001', customer_id: 'cus-1', payment_id: 'pay-card-1', redeemed_at },
});
const redeemed = redeemedAt('2026-11-16T06:00:00.000Z');

describe('generating a batch', () => {
  it('records serials and salted PIN hashes, never the PINs themselves', () => {
    const events = given(evolveCardBatch, initialCardBatchState)
      .when((state) => decideGenerateBatch(state, generate(), NOON_16_NOV))
      .then([generated]);
    expect(JSON.stringify(events)).not.toContain(PINS[0]);
  });

  it('salts each hash with the batch, so the same PIN in two batches hashes differently', () => {
    expect(hashPin('batch-1', PINS[0])).not.toBe(hashPin('batch-2', PINS[0]));
    expect(hashPin('batch-1', '1234-5678-9012-3456')).toBe(hashPin('batch-1', PINS[0]));
  });

  it('refuses PINs that are not 16 digits, and duplicates within the batch', () => {
    for (const pins of [['123456789012345'], ['12345678901234567'], ['12345678901234ab'], [PINS[0], PINS[1], PINS[0]]]) {
      given(evolveCardBatch, initialCardBatchState)
        .when((state) => decideGenerateBatch(state, generate({ pins }), NOON_16_NOV))
        .thenRejects('INVALID_INPUT');
    }
  });

  it('checks, in order: a new batch, 1 to 10 000 cards, PIN format, duplicates, the value, the expiry', () => {
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideGenerateBatch(state, generate({ pins: [] }), NOON_16_NOV))
      .thenRejects('CARD_BATCH_ALREADY_EXISTS');
    given(evolveCardBatch, initialCardBatchState)
      .when((state) => decideGenerateBatch(state, generate({ pins: [], value: '0' }), NOON_16_NOV))
      .thenRejects('INVALID_INPUT');
    const tooMany = Array.from({ length: MAX_CARDS_PER_BATCH + 1 }, (_, i) => String(i).padStart(16, '0'));
    given(evolveCardBatch, initialCardBatchState)
      .when((state) => decideGenerateBatch(state, generate({ pins: tooMany }), NOON_16_NOV))
      .thenRejects('INVALID_INPUT');
    given(evolveCardBatch, initialCardBatchState)
      .when((state) => decideGenerateBatch(state, generate({ pins: [PINS[0], PINS[0]], value: '0' }), NOON_16_NOV))
      .thenRejects('INVALID_INPUT');
    for (const value of ['0', '-1', '1.234', 'lots']) {
      given(evolveCardBatch, initialCardBatchState)
        .when((state) => decideGenerateBatch(state, generate({ value, expires_on: '2020-01-01' }), NOON_16_NOV))
        .thenRejects('INVALID_AMOUNT');
    }
    for (const expires_on of ['2026-11-16', '2026-02-30', 'next year']) {
      given(evolveCardBatch, initialCardBatchState)
        .when((state) => decideGenerateBatch(state, generate({ expires_on }), NOON_16_NOV))
        .thenRejects('INVALID_INPUT');
    }
  });
});

describe('assigning cards', () => {
  it('hands cards to an operator, or to one of its distributors', () => {
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideAssignCards(state, ['00001001', '00001002'], 'res-1', 'dist-1'))
      .then([assigned(['00001001', '00001002'], 'res-1', 'dist-1')]);
  });

  it('refuses, in order: no batch, a serial not in it, a card already redeemed', () => {
    given(evolveCardBatch, initialCardBatchState)
      .when((state) => decideAssignCards(state, ['00001001'], 'res-1', null))
      .thenRejects('CARD_BATCH_NOT_FOUND');
    given(evolveCardBatch, initialCardBatchState, [generated, redeemed])
      .when((state) => decideAssignCards(state, ['00001001', '00009999'], 'res-1', null))
      .thenRejects('CARD_NOT_FOUND');
    given(evolveCardBatch, initialCardBatchState, [generated, redeemed])
      .when((state) => decideAssignCards(state, ['00001002', '00001001'], 'res-1', null))
      .thenRejects('CARD_ALREADY_REDEEMED');
  });

  it('credits the money of a sold card to whoever holds it when sold, else the ISP', () => {
    const state = given(evolveCardBatch, initialCardBatchState, [generated, assigned(['00001001'], 'res-1'), assigned(['00001001'], 'sub-1', 'dist-7')]).state;
    expect(cardCollector(state, '00001001')).toBe('sub-1');
    expect(cardCollector(state, '00001002')).toBe(TENANT);
  });
});

describe('redeeming a card', () => {
  it('redeems a card with its PIN, typed with or without dashes', () => {
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideRedeemCard(state, redeem(), NOON_16_NOV))
      .then([redeemed]);
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideRedeemCard(state, redeem({ pin: '1234-5678-9012-3456' }), NOON_16_NOV))
      .then([redeemed]);
  });

  it('refuses a wrong PIN', () => {
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideRedeemCard(state, redeem({ pin: PINS[1] }), NOON_16_NOV))
      .thenRejects('CARD_WRONG_PIN');
  });

  it('redeems a card once', () => {
    given(evolveCardBatch, initialCardBatchState, [generated, redeemed])
      .when((state) => decideRedeemCard(state, redeem({ customer_id: 'cus-2', payment_id: 'pay-card-2' }), NOON_16_NOV))
      .thenRejects('CARD_ALREADY_REDEEMED');
  });

  it('checks the PIN before saying a card was redeemed, so a guesser learns nothing', () => {
    given(evolveCardBatch, initialCardBatchState, [generated, redeemed])
      .when((state) => decideRedeemCard(state, redeem({ pin: PINS[1] }), NOON_16_NOV))
      .thenRejects('CARD_WRONG_PIN');
  });

  it('works through its expiry date in the ISP’s zone and not a moment after', () => {
    // Local midnight that ends 31 January 2027 in Dhaka is 18:00 UTC on the 31st.
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideRedeemCard(state, redeem(), contextAt('2027-01-31T17:59:59Z')))
      .then([redeemedAt('2027-01-31T17:59:59.000Z')]);
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideRedeemCard(state, redeem(), contextAt('2027-01-31T18:00:00Z')))
      .thenRejects('CARD_EXPIRED');
  });

  it('checks, in order: the batch in this ISP, the card, the PIN, redeemed, expired', () => {
    given(evolveCardBatch, initialCardBatchState)
      .when((state) => decideRedeemCard(state, redeem(), NOON_16_NOV))
      .thenRejects('CARD_BATCH_NOT_FOUND');
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideRedeemCard(state, redeem(), contextAt('2026-11-16T06:00:00Z', { tenant: 'isp-2' })))
      .thenRejects('CARD_BATCH_NOT_FOUND');
    given(evolveCardBatch, initialCardBatchState, [generated])
      .when((state) => decideRedeemCard(state, redeem({ serial: '00009999' }), NOON_16_NOV))
      .thenRejects('CARD_NOT_FOUND');
    given(evolveCardBatch, initialCardBatchState, [generated, redeemed])
      .when((state) => decideRedeemCard(state, redeem(), contextAt('2027-06-01T00:00:00Z')))
      .thenRejects('CARD_ALREADY_REDEEMED');
  });
});

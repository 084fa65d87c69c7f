import { describe, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { contextAt, TENANT } from '../shared/spec-fixtures.js';
import { decideExpireBatch, decideRedeemCard, evolveCardBatch, hashPin, initialCardBatchState, type CardEvent } from './card-batch.js';

const generated: CardEvent = {
  type: 'card-batch-generated',
  data: { batch_id: 'b1', tenant: TENANT, value: '100.00', currency: 'BDT', package_id: null, expires_on: '2026-11-10', cards: ['1', '2', '3'].map((serial) => ({ serial, pin_hash: hashPin('b1', `${serial}000000000000000`) })) },
};
const redeemed: CardEvent = { type: 'card-redeemed', data: { batch_id: 'b1', serial: '1', customer_id: 'cus-1', payment_id: 'p1', redeemed_at: '2026-11-05T06:00:00.000Z' } };
const batch = (...events: CardEvent[]) => given(evolveCardBatch, initialCardBatchState, [generated, ...events]);
const NOW = contextAt('2026-11-10T18:30:00Z');

describe('card batch expiry', () => {
  it('expires a batch on the first day after its expiry date, with the value of the cards never redeemed', () => {
    batch(redeemed).when((state) => decideExpireBatch(state, '2026-11-10', NOW)).thenRejects('CARD_BATCH_NOT_EXPIRED');
    const expired = batch(redeemed)
      .when((state) => decideExpireBatch(state, '2026-11-11', NOW))
      .then([{ type: 'card-batch-expired', data: { batch_id: 'b1', expires_on: '2026-11-10', expired_on: '2026-11-11', unredeemed: 2, unredeemed_value: '200.00' } }]);
    batch(redeemed, ...expired).when((state) => decideExpireBatch(state, '2026-11-12', NOW)).thenNothingHappens();
    batch(redeemed, ...expired)
      .when((state) => decideRedeemCard(state, { serial: '2', pin: '2000000000000000', customer_id: 'cus-2', payment_id: 'p2', time_zone: 'Asia/Dhaka' }, contextAt('2026-11-09T06:00:00Z')))
      .thenRejects('CARD_EXPIRED');
  });

  it('refuses a batch of another ISP or none', () => {
    batch().when((state) => decideExpireBatch(state, '2026-11-11', contextAt('2026-11-11T00:00:00Z', { tenant: 'other' }))).thenRejects('CARD_BATCH_NOT_FOUND');
    given(evolveCardBatch, initialCardBatchState).when((state) => decideExpireBatch(state, '2026-11-11', NOW)).thenRejects('CARD_BATCH_NOT_FOUND');
  });
});

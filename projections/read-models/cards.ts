import type { CardEvent } from '../../domain/cards/card-batch.js';
import { put, ref, type Projection, type RowChange } from '../projection.js';
import { asDomain, tenantOf } from './event-fields.js';

/**
 * Recharge cards, one row each (never the PIN or its hash): value, expiry, who holds it, who redeemed it and
 * with which payment. A card past `expires_on` reads as expired at query time; no event is needed for that.
 */
export const RECHARGE_CARDS = 'recharge_cards';

export const cardsProjection: Projection = {
  name: 'cards',
  version: 1,
  tables: [
    {
      name: RECHARGE_CARDS,
      key: ['batch_id', 'serial'],
      columns: {
        batch_id: 'text',
        serial: 'text',
        tenant: 'text',
        value: 'numeric',
        currency: 'text',
        package_id: 'text',
        expires_on: 'date',
        status: 'text',
        assigned_operator_id: 'text',
        assigned_staff_id: 'text',
        redeemed_by_customer_id: 'text',
        payment_id: 'text',
        redeemed_at: 'timestamptz',
      },
      indexes: [
        'CREATE INDEX ON {table} (tenant, status, expires_on)',
        'CREATE INDEX ON {table} (assigned_operator_id, status)',
        'CREATE INDEX ON {table} (serial)',
      ],
    },
  ],
  reads: (recorded) => {
    const event = asDomain<CardEvent>(recorded);
    if (event.type === 'cards-assigned') return event.data.serials.map((serial) => ref(RECHARGE_CARDS, { batch_id: event.data.batch_id, serial }));
    if (event.type === 'card-redeemed') return [ref(RECHARGE_CARDS, { batch_id: event.data.batch_id, serial: event.data.serial })];
    return [];
  },
  handle: (recorded, rows) => {
    if (!recorded.stream_id.startsWith('card-batch-')) return [];
    const event = asDomain<CardEvent>(recorded);
    switch (event.type) {
      case 'card-batch-generated': {
        const d = event.data;
        return d.cards.map(
          (card): RowChange =>
            put(RECHARGE_CARDS, {
              batch_id: d.batch_id,
              serial: card.serial,
              tenant: tenantOf(recorded),
              value: d.value,
              currency: d.currency,
              package_id: d.package_id,
              expires_on: d.expires_on,
              status: 'available',
              assigned_operator_id: null,
              assigned_staff_id: null,
              redeemed_by_customer_id: null,
              payment_id: null,
              redeemed_at: null,
            }),
        );
      }
      case 'cards-assigned':
        return event.data.serials.flatMap((serial) => {
          const card = rows.get(RECHARGE_CARDS, { batch_id: event.data.batch_id, serial });
          if (card === undefined || card.status === 'redeemed') return [];
          return [put(RECHARGE_CARDS, { ...card, status: 'assigned', assigned_operator_id: event.data.to_operator_id, assigned_staff_id: event.data.to_staff_id })];
        });
      case 'card-redeemed': {
        const card = rows.get(RECHARGE_CARDS, { batch_id: event.data.batch_id, serial: event.data.serial });
        if (card === undefined) return [];
        return [
          put(RECHARGE_CARDS, {
            ...card,
            status: 'redeemed',
            redeemed_by_customer_id: event.data.customer_id,
            payment_id: event.data.payment_id,
            redeemed_at: event.data.redeemed_at,
          }),
        ];
      }
      case 'card-batch-expired':
        // Cards past expires_on already read as expired at query time (see above); the event is for the books.
        return [];
    }
  },
};

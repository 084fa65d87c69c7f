import { createHash } from 'node:crypto';
import { localDateOf, isLocalDate, type LocalDate } from '../calendar/local-date.js';
import { Money } from '../money/money.js';
import type { CommandContext } from '../shared/command-context.js';
import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { checkId } from '../shared/ids.js';
import { rejection } from '../shared/rejection.js';

/**
 * Recharge cards, in batches (`card-batch-<id>`). PINs are drawn by the caller from a cryptographic source and
 * shown once, for printing; the events keep only a salted hash of each PIN, so the log never holds a usable
 * card. A card is redeemed once: redemptions append to the batch stream with its expected revision.
 */
export const MAX_CARDS_PER_BATCH = 10_000;
export const PIN_DIGITS = 16;

export type CardEvent =
  | DomainEvent<
      'card-batch-generated',
      {
        batch_id: string;
        tenant: string;
        value: string;
        currency: string;
        package_id: string | null;
        expires_on: LocalDate;
        cards: readonly Readonly<{ serial: string; pin_hash: string }>[];
      }
    >
  | DomainEvent<'cards-assigned', { batch_id: string; serials: readonly string[]; to_operator_id: string; to_staff_id: string | null }>
  | DomainEvent<'card-redeemed', { batch_id: string; serial: string; customer_id: string; payment_id: string; redeemed_at: string }>
  /**
   * The scheduler's card expiry on the first local day after `expires_on`: the cards not redeemed by then are
   * worthless from now on (what they were worth is breakage for the books).
   */
  | DomainEvent<'card-batch-expired', { batch_id: string; expires_on: LocalDate; expired_on: LocalDate; unredeemed: number; unredeemed_value: string }>;

export type CardBatchState = Readonly<{
  exists: boolean;
  batch_id: string;
  tenant: string;
  value: string;
  currency: string;
  package_id: string | null;
  expires_on: LocalDate;
  pin_hashes: Readonly<Record<string, string>>;
  holders: Readonly<Record<string, Readonly<{ operator_id: string; staff_id: string | null }>>>;
  redeemed: Readonly<Record<string, string>>;
  expired: boolean;
}>;

export const initialCardBatchState = (): CardBatchState => ({
  exists: false,
  batch_id: '',
  tenant: '',
  value: '0',
  currency: '',
  package_id: null,
  expires_on: '',
  pin_hashes: {},
  holders: {},
  redeemed: {},
  expired: false,
});

export function evolveCardBatch(state: CardBatchState, event: CardEvent): CardBatchState {
  switch (event.type) {
    case 'card-batch-generated':
      return {
        ...initialCardBatchState(),
        exists: true,
        batch_id: event.data.batch_id,
        tenant: event.data.tenant,
        value: event.data.value,
        currency: event.data.currency,
        package_id: event.data.package_id,
        expires_on: event.data.expires_on,
        pin_hashes: Object.fromEntries(event.data.cards.map((card) => [card.serial, card.pin_hash])),
      };
    case 'cards-assigned': {
      const holders = { ...state.holders };
      for (const serial of event.data.serials) holders[serial] = { operator_id: event.data.to_operator_id, staff_id: event.data.to_staff_id };
      return { ...state, holders };
    }
    case 'card-redeemed':
      return { ...state, redeemed: { ...state.redeemed, [event.data.serial]: event.data.customer_id } };
    case 'card-batch-expired':
      return { ...state, expired: true };
  }
}

/** The batch id salts the hash, so equal PINs in two batches do not hash alike. */
export function hashPin(batch_id: string, pin: string): string {
  return createHash('sha256').update(`${batch_id}:${pin.replace(/[\s-]/g, '')}`).digest('hex');
}

export function decideGenerateBatch(
  state: CardBatchState,
  command: Readonly<{ batch_id: string; value: string; currency: string; package_id: string | null; expires_on: LocalDate; pins: readonly string[]; first_serial: number }>,
  context: CommandContext,
): Decision<CardEvent> {
  const badId = checkId('batch id', command.batch_id);
  if (badId !== null) return refuse(badId);
  if (state.exists) return refuse(rejection('CARD_BATCH_ALREADY_EXISTS', `batch ${command.batch_id} already exists`));
  if (command.pins.length < 1 || command.pins.length > MAX_CARDS_PER_BATCH) return refuse(rejection('INVALID_INPUT', `a batch holds 1–${MAX_CARDS_PER_BATCH} cards`));
  if (command.pins.some((pin) => !new RegExp(`^\\d{${PIN_DIGITS}}$`).test(pin))) return refuse(rejection('INVALID_INPUT', `PINs must be ${PIN_DIGITS} digits`));
  if (new Set(command.pins).size !== command.pins.length) return refuse(rejection('INVALID_INPUT', 'PINs in a batch must differ'));
  let value: Money;
  try {
    value = Money.parse(command.value, command.currency);
  } catch {
    return refuse(rejection('INVALID_AMOUNT', `${command.value} is not an amount in ${command.currency}`));
  }
  if (!value.isPositive()) return refuse(rejection('INVALID_AMOUNT', 'a card must be worth more than zero'));
  if (!isLocalDate(command.expires_on) || command.expires_on <= localDateOf(context.now, 'UTC')) {
    return refuse(rejection('INVALID_INPUT', `expiry ${command.expires_on} must be a date (YYYY-MM-DD) in the future`));
  }
  return accept({
    type: 'card-batch-generated',
    data: {
      batch_id: command.batch_id,
      tenant: context.tenant,
      value: value.toString(),
      currency: command.currency,
      package_id: command.package_id,
      expires_on: command.expires_on,
      cards: command.pins.map((pin, index) => ({ serial: cardSerial(command.first_serial + index), pin_hash: hashPin(command.batch_id, pin) })),
    },
  });
}

/** A card's serial as printed and stored: its number in eight digits. */
export const cardSerial = (number: number): string => String(number).padStart(8, '0');

export function decideAssignCards(state: CardBatchState, serials: readonly string[], to_operator_id: string, to_staff_id: string | null): Decision<CardEvent> {
  if (!state.exists) return refuse(rejection('CARD_BATCH_NOT_FOUND', 'no such card batch'));
  const unknown = serials.find((serial) => state.pin_hashes[serial] === undefined);
  if (unknown !== undefined) return refuse(rejection('CARD_NOT_FOUND', `card ${unknown} is not in batch ${state.batch_id}`));
  const used = serials.find((serial) => state.redeemed[serial] !== undefined);
  if (used !== undefined) return refuse(rejection('CARD_ALREADY_REDEEMED', `card ${used} was already redeemed`));
  return accept({ type: 'cards-assigned', data: { batch_id: state.batch_id, serials, to_operator_id, to_staff_id } });
}

/** Who collected the card's money: the operator holding the card when it was sold, else the ISP. */
export function cardCollector(state: CardBatchState, serial: string): string {
  return state.holders[serial]?.operator_id ?? state.tenant;
}

/**
 * Rules, in order: the batch and card exist; the PIN matches (compared as hashes); not redeemed; not expired
 * (the card works through its expiry date in the ISP's time zone).
 */
export function decideRedeemCard(
  state: CardBatchState,
  command: Readonly<{ serial: string; pin: string; customer_id: string; payment_id: string; time_zone: string }>,
  context: CommandContext,
): Decision<CardEvent> {
  if (!state.exists || state.tenant !== context.tenant) return refuse(rejection('CARD_BATCH_NOT_FOUND', 'no such card batch'));
  const expected = state.pin_hashes[command.serial];
  if (expected === undefined) return refuse(rejection('CARD_NOT_FOUND', 'no such card'));
  if (hashPin(state.batch_id, command.pin) !== expected) return refuse(rejection('CARD_WRONG_PIN', 'the PIN does not match this card'));
  if (state.redeemed[command.serial] !== undefined) return refuse(rejection('CARD_ALREADY_REDEEMED', 'this card was already used'));
  if (state.expired || localDateOf(context.now, command.time_zone) > state.expires_on) return refuse(rejection('CARD_EXPIRED', `the card expired on ${state.expires_on}`));
  return accept({
    type: 'card-redeemed',
    data: { batch_id: state.batch_id, serial: command.serial, customer_id: command.customer_id, payment_id: command.payment_id, redeemed_at: context.now.toISOString() },
  });
}

/**
 * Rules, in order: the batch exists in this ISP; its expiry date has passed in the ISP's zone (`today` is after
 * `expires_on`: a card works through its expiry date). A batch already expired changes nothing.
 */
export function decideExpireBatch(state: CardBatchState, today: LocalDate, context: CommandContext): Decision<CardEvent> {
  if (!state.exists || state.tenant !== context.tenant) return refuse(rejection('CARD_BATCH_NOT_FOUND', 'no such card batch'));
  if (state.expired) return accept();
  if (!isLocalDate(today) || today <= state.expires_on) return refuse(rejection('CARD_BATCH_NOT_EXPIRED', `the batch's cards work through ${state.expires_on}`));
  const unredeemed = Object.keys(state.pin_hashes).filter((serial) => state.redeemed[serial] === undefined).length;
  const unredeemed_value = Money.parse(state.value, state.currency).timesFraction(BigInt(unredeemed), 1n, 'half-even').toString();
  return accept({ type: 'card-batch-expired', data: { batch_id: state.batch_id, expires_on: state.expires_on, expired_on: today, unredeemed, unredeemed_value } });
}

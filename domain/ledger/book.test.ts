import { describe, expect, it } from 'vitest';
import { given } from '../shared/decider-spec.js';
import { contextAt, isp, reseller, TENANT } from '../shared/spec-fixtures.js';
import { decideAddAccount, decideClosePeriod, decidePostManualEntry, decideReverseEntry, evolveBook, initialBookState, openDate, type BookEvent } from './book.js';

const NOW = '2026-11-26T06:00:00Z';
const ctx = contextAt(NOW);
const accountant = contextAt(NOW, { actor: { id: 'acc-1', role: 'accountant' } });
const closed = (through: string): BookEvent => ({ type: 'period-closed', data: { book_id: TENANT, through } });
const entry = (overrides: Partial<Parameters<typeof decidePostManualEntry>[2]> = {}) => ({
  entry_id: 'm-1',
  date: '2026-11-20',
  memo: 'Owner paid rent from the bank',
  lines: [
    { account_code: '5100', debit: '1200' },
    { account_code: '1010', credit: '1200.00' },
  ],
  ...overrides,
});

describe('book: chart of accounts', () => {
  it("adds an account with the type its code's first digit names", () => {
    given(evolveBook, initialBookState)
      .when((book) => decideAddAccount(book, isp(), { code: '5300', name: 'Tower rent' }, accountant))
      .then([{ type: 'account-added', data: { book_id: TENANT, code: '5300', name: 'Tower rent', type: 'expense' } }]);
  });

  it('refuses a template code, a taken code, a malformed code, and a role that keeps no books', () => {
    given(evolveBook, initialBookState).when((book) => decideAddAccount(book, isp(), { code: '1000', name: 'Cash again' }, ctx)).thenRejects('ACCOUNT_EXISTS');
    given(evolveBook, initialBookState, [{ type: 'account-added', data: { book_id: TENANT, code: '5300', name: 'Tower rent', type: 'expense' } }])
      .when((book) => decideAddAccount(book, isp(), { code: '5300', name: 'Other' }, ctx))
      .thenRejects('ACCOUNT_EXISTS');
    given(evolveBook, initialBookState).when((book) => decideAddAccount(book, isp(), { code: '9000', name: 'Odd' }, ctx)).thenRejects('INVALID_INPUT');
    given(evolveBook, initialBookState)
      .when((book) => decideAddAccount(book, isp(), { code: '5300', name: 'Rent' }, contextAt(NOW, { actor: { id: 'c', role: 'card_distributor' } })))
      .thenRejects('NOT_PERMITTED');
  });
});

describe('book: periods', () => {
  it('closes through yesterday at the latest, never earlier than before, never reopens', () => {
    given(evolveBook, initialBookState).when((book) => decideClosePeriod(book, isp(), { through: '2026-10-31' }, ctx)).then([closed('2026-10-31')]);
    given(evolveBook, initialBookState).when((book) => decideClosePeriod(book, isp(), { through: '2026-11-26' }, ctx)).thenRejects('PERIOD_NOT_ENDED');
    given(evolveBook, initialBookState, [closed('2026-10-31')]).when((book) => decideClosePeriod(book, isp(), { through: '2026-09-30' }, ctx)).thenRejects('PERIOD_CLOSED');
  });

  it('dates anything that falls in a closed period on the first open day', () => {
    expect(openDate('2026-10-15', '2026-10-31')).toBe('2026-11-01');
    expect(openDate('2026-11-15', '2026-10-31')).toBe('2026-11-15');
    expect(openDate('2026-11-15', null)).toBe('2026-11-15');
  });
});

describe('book: manual entries', () => {
  it('posts a balanced entry with amounts written to the minor unit', () => {
    given(evolveBook, initialBookState)
      .when((book) => decidePostManualEntry(book, isp(), entry(), accountant))
      .then([
        {
          type: 'manual-entry-posted',
          data: {
            book_id: TENANT,
            entry_id: 'm-1',
            date: '2026-11-20',
            currency: 'BDT',
            memo: 'Owner paid rent from the bank',
            lines: [
              { account_code: '5100', party: null, debit: '1200.00', credit: '0.00', due_on: null },
              { account_code: '1010', party: null, debit: '0.00', credit: '1200.00', due_on: null },
            ],
          },
        },
      ]);
  });

  it('refuses, in order: role, memo, future date, closed period, unknown account, party misuse, imbalance', () => {
    const book = given(evolveBook, initialBookState, [closed('2026-10-31')]);
    book.when((state) => decidePostManualEntry(state, isp(), entry(), contextAt(NOW, { actor: { id: 'c', role: 'customer' } }))).thenRejects('NOT_PERMITTED');
    book.when((state) => decidePostManualEntry(state, isp(), entry({ memo: ' ' }), ctx)).thenRejects('INVALID_INPUT');
    book.when((state) => decidePostManualEntry(state, isp(), entry({ date: '2026-11-27' }), ctx)).thenRejects('INVALID_INPUT');
    book.when((state) => decidePostManualEntry(state, isp(), entry({ date: '2026-10-31' }), ctx)).thenRejects('PERIOD_CLOSED');
    book.when((state) => decidePostManualEntry(state, isp(), entry({ lines: [{ account_code: '5999', debit: '1' }, { account_code: '1010', credit: '1' }] }), ctx)).thenRejects('ACCOUNT_NOT_FOUND');
    book.when((state) => decidePostManualEntry(state, isp(), entry({ lines: [{ account_code: '1100', debit: '1' }, { account_code: '1010', credit: '1' }] }), ctx)).thenRejects('INVALID_INPUT');
    book.when((state) => decidePostManualEntry(state, isp(), entry({ lines: [{ account_code: '5100', debit: '1' }, { account_code: '1010', credit: '2' }] }), ctx)).thenRejects('ENTRY_UNBALANCED');
    book.when((state) => decidePostManualEntry(state, isp(), entry({ lines: [{ account_code: '5100', debit: '1' }] }), ctx)).thenRejects('ENTRY_UNBALANCED');
    book.when((state) => decidePostManualEntry(state, isp(), entry({ lines: [{ account_code: '5100', debit: '-1' }, { account_code: '1010', credit: '-1' }] }), ctx)).thenRejects('ENTRY_UNBALANCED');
  });

  it("keeps a reseller's entries in the reseller's own book", () => {
    const decision = decidePostManualEntry(initialBookState(), reseller(), entry(), ctx);
    expect(decision.ok && decision.events[0]!.data.book_id).toBe(reseller().operator_id);
  });
});

describe('book: reversals', () => {
  const original = { entry_id: 'ev-1/isp-1', kind: 'system' as const };
  it('reverses an entry once, dated today (the open period)', () => {
    given(evolveBook, initialBookState, [closed('2026-10-31')])
      .when((book) => decideReverseEntry(book, isp(), original, { entry_id: 'ev-1/isp-1', reversal_entry_id: 'r-1', reason: 'posted to the wrong customer' }, ctx))
      .then([{ type: 'entry-reversed', data: { book_id: TENANT, entry_id: 'ev-1/isp-1', reversal_entry_id: 'r-1', date: '2026-11-26', reason: 'posted to the wrong customer' } }]);
  });

  it('refuses a second reversal, the reversal of a reversal, and an entry the book does not have', () => {
    const reversed: BookEvent = { type: 'entry-reversed', data: { book_id: TENANT, entry_id: 'ev-1/isp-1', reversal_entry_id: 'r-1', date: '2026-11-26', reason: 'x' } };
    const command = { entry_id: 'ev-1/isp-1', reversal_entry_id: 'r-2', reason: 'again' };
    given(evolveBook, initialBookState, [reversed]).when((book) => decideReverseEntry(book, isp(), original, command, ctx)).thenRejects('ENTRY_ALREADY_REVERSED');
    given(evolveBook, initialBookState).when((book) => decideReverseEntry(book, isp(), { entry_id: 'r-1', kind: 'reversal' }, { ...command, entry_id: 'r-1' }, ctx)).thenRejects('ENTRY_IS_REVERSAL');
    given(evolveBook, initialBookState).when((book) => decideReverseEntry(book, isp(), null, command, ctx)).thenRejects('ENTRY_NOT_FOUND');
  });
});

import { addDays, isLocalDate, localDateOf, type LocalDate } from '../calendar/local-date.js';
import { Money } from '../money/money.js';
import type { CommandContext } from '../shared/command-context.js';
import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { checkId } from '../shared/ids.js';
import { rejection } from '../shared/rejection.js';
import type { OperatorState } from '../operators/operator.js';
import { ACCOUNT_CODE, templateAccount, typeOfCode, type Account, type AccountType } from './chart.js';
import { entryProblem, type EntryKind, type JournalLine } from './journal.js';

/**
 * A book's own facts, in its stream `book-<operator id>`: accounts its accountant added, periods closed, manual
 * entries and reversals. Everything else in the book is posted from business events by the posting rules.
 */
export type BookEvent =
  | DomainEvent<'account-added', { book_id: string; code: string; name: string; type: AccountType }>
  | DomainEvent<'period-closed', { book_id: string; through: LocalDate }>
  | DomainEvent<'manual-entry-posted', { book_id: string; entry_id: string; date: LocalDate; currency: string; memo: string; lines: readonly JournalLine[] }>
  | DomainEvent<'entry-reversed', { book_id: string; entry_id: string; reversal_entry_id: string; date: LocalDate; reason: string }>;

export type BookState = Readonly<{
  book_id: string;
  custom_accounts: Readonly<Record<string, Account>>;
  /** The last day of the last closed period; nothing may be dated on or before it. */
  closed_through: LocalDate | null;
  reversed: readonly string[];
}>;

export const initialBookState = (): BookState => ({ book_id: '', custom_accounts: {}, closed_through: null, reversed: [] });

export function evolveBook(state: BookState, event: BookEvent): BookState {
  switch (event.type) {
    case 'account-added':
      return {
        ...state,
        book_id: event.data.book_id,
        custom_accounts: { ...state.custom_accounts, [event.data.code]: { code: event.data.code, name: event.data.name, type: event.data.type, party: null } },
      };
    case 'period-closed':
      return { ...state, book_id: event.data.book_id, closed_through: event.data.through };
    case 'manual-entry-posted':
      return { ...state, book_id: event.data.book_id };
    case 'entry-reversed':
      return { ...state, book_id: event.data.book_id, reversed: [...state.reversed, event.data.entry_id] };
  }
}

/** The first day an entry may carry: the day after the last closed one. */
export const firstOpenDay = (closed_through: LocalDate | null): LocalDate | null => (closed_through === null ? null : addDays(closed_through, 1));

/** An entry dated in a closed period lands on the first open day instead: corrections go to the open period. */
export const openDate = (date: LocalDate, closed_through: LocalDate | null): LocalDate =>
  closed_through !== null && date <= closed_through ? addDays(closed_through, 1) : date;

const BOOKKEEPERS = new Set(['admin', 'reseller', 'sub_reseller', 'accountant']);
const MAX_LINES = 50;

function bookkeeperCheck(operator: OperatorState, context: CommandContext) {
  if (!operator.exists) return rejection('OPERATOR_NOT_FOUND', 'no such operator in this ISP, so no such book');
  if (!BOOKKEEPERS.has(context.actor.role)) return rejection('NOT_PERMITTED', `a ${context.actor.role} cannot keep books; an admin or accountant can`);
  return null;
}

export function accountOf(state: BookState, code: string): Account | undefined {
  return templateAccount(code) ?? state.custom_accounts[code];
}

/** Precedence: operator and role, then the code's form, then whether it is taken, then the name. */
export function decideAddAccount(
  state: BookState,
  operator: OperatorState,
  command: Readonly<{ code: string; name: string }>,
  context: CommandContext,
): Decision<BookEvent> {
  const denied = bookkeeperCheck(operator, context);
  if (denied !== null) return refuse(denied);
  if (!ACCOUNT_CODE.test(command.code)) return refuse(rejection('INVALID_INPUT', 'an account code is four digits whose first names its type: 1 asset, 2 liability, 3 equity, 4 revenue, 5 expense'));
  if (accountOf(state, command.code) !== undefined) return refuse(rejection('ACCOUNT_EXISTS', `account ${command.code} already exists in this book`));
  const name = command.name.trim();
  if (name.length < 1 || name.length > 80) return refuse(rejection('INVALID_INPUT', 'an account name is 1–80 characters'));
  return accept({ type: 'account-added', data: { book_id: operator.operator_id, code: command.code, name, type: typeOfCode(command.code) } });
}

/** Precedence: operator and role, then the date's form, then it must be before today and after the last close. */
export function decideClosePeriod(state: BookState, operator: OperatorState, command: Readonly<{ through: string }>, context: CommandContext): Decision<BookEvent> {
  const denied = bookkeeperCheck(operator, context);
  if (denied !== null) return refuse(denied);
  if (!isLocalDate(command.through)) return refuse(rejection('INVALID_INPUT', 'through must be a date, YYYY-MM-DD'));
  const today = localDateOf(context.now, operator.time_zone);
  if (command.through >= today) return refuse(rejection('PERIOD_NOT_ENDED', `a period can be closed through yesterday (${addDays(today, -1)}) at the latest`));
  if (state.closed_through !== null && command.through <= state.closed_through) {
    return refuse(rejection('PERIOD_CLOSED', `the book is already closed through ${state.closed_through}; closed periods are never reopened`));
  }
  return accept({ type: 'period-closed', data: { book_id: operator.operator_id, through: command.through } });
}

/**
 * Precedence: operator and role, then id and memo, then the date (a day, open, not in the future), then each
 * line's account (known, with a party exactly when the account is kept per party), then the balance.
 */
export function decidePostManualEntry(
  state: BookState,
  operator: OperatorState,
  command: Readonly<{ entry_id: string; date: string; memo: string; lines: readonly Readonly<{ account_code: string; party?: string | null; debit?: string; credit?: string }>[] }>,
  context: CommandContext,
): Decision<BookEvent> {
  const denied = bookkeeperCheck(operator, context);
  if (denied !== null) return refuse(denied);
  const badId = checkId('entry_id', command.entry_id);
  if (badId !== null) return refuse(badId);
  const memo = command.memo.trim();
  if (memo.length < 1 || memo.length > 200) return refuse(rejection('INVALID_INPUT', 'the memo says why, in 1–200 characters'));
  if (!isLocalDate(command.date)) return refuse(rejection('INVALID_INPUT', 'date must be YYYY-MM-DD'));
  if (command.date > localDateOf(context.now, operator.time_zone)) return refuse(rejection('INVALID_INPUT', 'an entry cannot be dated in the future'));
  if (state.closed_through !== null && command.date <= state.closed_through) {
    return refuse(rejection('PERIOD_CLOSED', `the book is closed through ${state.closed_through}; date the entry ${addDays(state.closed_through, 1)} or later`));
  }
  if (command.lines.length > MAX_LINES) return refuse(rejection('INVALID_INPUT', `an entry has at most ${MAX_LINES} lines`));
  const zero = '0';
  const lines: JournalLine[] = [];
  for (const line of command.lines) {
    const account = accountOf(state, line.account_code);
    if (account === undefined) return refuse(rejection('ACCOUNT_NOT_FOUND', `there is no account ${line.account_code} in this book`));
    const party = line.party ?? null;
    if ((account.party !== null) !== (party !== null)) {
      return refuse(rejection('INVALID_INPUT', account.party === null ? `account ${account.code} is not kept per party; leave party out` : `account ${account.code} is kept per ${account.party}; say which one in party`));
    }
    lines.push({ account_code: account.code, party, debit: line.debit ?? zero, credit: line.credit ?? zero, due_on: null });
  }
  const problem = entryProblem(lines, operator.currency);
  if (problem !== null) return refuse(rejection('ENTRY_UNBALANCED', problem));
  return accept({
    type: 'manual-entry-posted',
    data: { book_id: operator.operator_id, entry_id: command.entry_id, date: command.date, currency: operator.currency, memo, lines: normalise(lines, operator.currency) },
  });
}

/** Amounts written with the currency's minor units ("5" → "5.00"), so the book reads uniformly. */
function normalise(lines: readonly JournalLine[], currency: string): JournalLine[] {
  return lines.map((line) => ({ ...line, debit: fixed(line.debit, currency), credit: fixed(line.credit, currency) }));
}
const fixed = (amount: string, currency: string): string => Money.parse(amount, currency).toString();

/**
 * Precedence: operator and role, then the original (it exists in this book, is not itself a reversal), then
 * "posted once". The reversal is dated today: the original may sit in a closed period, its correction may not.
 */
export function decideReverseEntry(
  state: BookState,
  operator: OperatorState,
  original: Readonly<{ entry_id: string; kind: EntryKind }> | null,
  command: Readonly<{ entry_id: string; reversal_entry_id: string; reason: string }>,
  context: CommandContext,
): Decision<BookEvent> {
  const denied = bookkeeperCheck(operator, context);
  if (denied !== null) return refuse(denied);
  const badId = checkId('reversal_entry_id', command.reversal_entry_id);
  if (badId !== null) return refuse(badId);
  if (original === null) return refuse(rejection('ENTRY_NOT_FOUND', `there is no entry ${command.entry_id} in this book (yet: entries appear once projected)`));
  if (original.kind === 'reversal') return refuse(rejection('ENTRY_IS_REVERSAL', 'a reversal is not reversed again; post a new entry instead'));
  if (state.reversed.includes(command.entry_id)) return refuse(rejection('ENTRY_ALREADY_REVERSED', `entry ${command.entry_id} has already been reversed`));
  const reason = command.reason.trim();
  if (reason.length < 1 || reason.length > 200) return refuse(rejection('INVALID_INPUT', 'the reason says why, in 1–200 characters'));
  const date = openDate(localDateOf(context.now, operator.time_zone), state.closed_through);
  return accept({ type: 'entry-reversed', data: { book_id: operator.operator_id, entry_id: command.entry_id, reversal_entry_id: command.reversal_entry_id, date, reason } });
}


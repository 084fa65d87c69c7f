import { decideAddAccount, decideClosePeriod, decidePostManualEntry, decideReverseEntry, type BookEvent, type BookState } from '../domain/ledger/book.js';
import type { EntryKind } from '../domain/ledger/journal.js';
import type { Decision } from '../domain/shared/decider.js';
import { rejection } from '../domain/shared/rejection.js';
import type { JsonValue } from '../eventstore/json.js';
import { BookAggregate } from './aggregates.js';
import { CommandRuntime, refusePlan, type CommandEnvelope, type CommandResult, type Loaded, type Plan } from './command-runtime.js';
import { loadOperator } from './operator-commands.js';
import { bookStream } from './streams.js';

/**
 * A book's own commands: its accountant adds accounts, closes periods, posts manual entries and reverses
 * entries. The book belongs to an operator of the caller's ISP; everything else in it is posted from events.
 */
type BookCommand = { book_id: string };

function planFrom<Value>(loaded: Loaded<BookState>, decision: Decision<BookEvent>, value: Value): Plan<Value> {
  if (!decision.ok) return refusePlan(decision.rejection);
  return { kind: 'append', writes: [{ stream_id: loaded.stream_id, expected: CommandRuntime.expected(loaded), events: decision.events }], value };
}

function onBook<Command extends BookCommand, Value extends JsonValue>(
  name: string,
  decide: (book: BookState, operator: Parameters<typeof decideAddAccount>[1], command: Command, context: Parameters<typeof decideAddAccount>[3]) => Decision<BookEvent> | Promise<Decision<BookEvent>>,
  value: (command: Command) => Value,
) {
  return (runtime: CommandRuntime, envelope: CommandEnvelope, command: Command): Promise<CommandResult<Value>> =>
    runtime.execute(envelope, name, command as unknown as JsonValue, async (context) => {
      const operator = await loadOperator(runtime, context.tenant, command.book_id);
      if (operator === null) return refusePlan(rejection('OPERATOR_NOT_FOUND', 'no such operator in this ISP, so no such book'));
      const book = await runtime.load(BookAggregate, bookStream(command.book_id));
      return planFrom(book, await decide(book.state, operator.state, command, context), value(command));
    });
}

export const addAccount = onBook<BookCommand & { code: string; name: string }, { code: string }>(
  'add-account',
  (book, operator, command, context) => decideAddAccount(book, operator, command, context),
  (command) => ({ code: command.code }),
);

export const closePeriod = onBook<BookCommand & { through: string }, null>('close-period', (book, operator, command, context) => decideClosePeriod(book, operator, command, context), () => null);

export type ManualLine = Readonly<{ account_code: string; party?: string | null; debit?: string; credit?: string }>;

export const postManualEntry = onBook<BookCommand & { entry_id: string; date: string; memo: string; lines: readonly ManualLine[] }, { entry_id: string }>(
  'post-manual-entry',
  (book, operator, command, context) => decidePostManualEntry(book, operator, command, context),
  (command) => ({ entry_id: command.entry_id }),
);

/** Where a command finds an entry to reverse: the journal read model (entries exist once projected). */
export type EntryLookup = (book_id: string, entry_id: string) => Promise<Readonly<{ entry_id: string; kind: EntryKind }> | null>;

export function reverseEntry(
  runtime: CommandRuntime,
  envelope: CommandEnvelope,
  command: BookCommand & { entry_id: string; reversal_entry_id: string; reason: string },
  lookup: EntryLookup,
): Promise<CommandResult<{ reversal_entry_id: string }>> {
  return onBook<typeof command, { reversal_entry_id: string }>(
    'reverse-entry',
    async (book, operator, cmd, context) => decideReverseEntry(book, operator, await lookup(cmd.book_id, cmd.entry_id), cmd, context),
    (cmd) => ({ reversal_entry_id: cmd.reversal_entry_id }),
  )(runtime, envelope, command);
}

import type { RecordedEvent } from '../../eventstore/event-store.js';
import type { BookEvent } from '../../domain/ledger/book.js';
import { CUSTOMER_ACCOUNTS, normalSide, TEMPLATE_ACCOUNTS } from '../../domain/ledger/chart.js';
import type { JournalEntry } from '../../domain/ledger/journal.js';
import { postingsFor, type BookInfo, type PostingContext } from '../../domain/ledger/posting-rules.js';
import type { CustomerEvent } from '../../domain/customers/customer.js';
import type { OperatorEvent, OperatorRole } from '../../domain/operators/operator.js';
import { add, put, ref, type Projection, type Row, type RowChange, type RowReader, type RowRef } from '../projection.js';
import { asDomain, minus, plus, tenantOf } from './event-fields.js';

/**
 * The books: one per operator, each a journal of balanced entries posted by the posting rules
 * (domain/ledger/posting-rules.ts) from the events that move money, plus the book's own manual entries and
 * reversals. Totals are kept per account and day, per account and log-position bucket, and per party, so a
 * trial balance as of any date or position reads a few thousand rows, never the whole journal.
 */
export const BOOKS = 'books';
export const BOOK_ACCOUNTS = 'book_accounts';
export const JOURNAL_ENTRIES = 'journal_entries';
export const JOURNAL_LINES = 'journal_lines';
export const ACCOUNT_DAY_TOTALS = 'account_day_totals';
export const ACCOUNT_BUCKET_TOTALS = 'account_bucket_totals';
export const PARTY_TOTALS = 'party_totals';
const BOOK_CUSTOMERS = 'book_customers';
const BOOK_PAYMENTS = 'book_payments';

/** Log positions per bucket: an as-of-position total reads whole buckets plus the lines of one partial bucket. */
export const POSITION_BUCKET = 100_000n;

const totals = { debit: 'numeric', credit: 'numeric' } as const;

export const booksProjection: Projection = {
  name: 'books',
  version: 2,
  tables: [
    {
      name: BOOKS,
      key: ['book_id'],
      columns: { book_id: 'text', tenant: 'text', role: 'text', parent_id: 'text', name: 'text', currency: 'text', time_zone: 'text', closed_through: 'date' },
      indexes: ['CREATE INDEX ON {table} (tenant)'],
    },
    {
      name: BOOK_ACCOUNTS,
      key: ['book_id', 'code'],
      columns: { book_id: 'text', code: 'text', name: 'text', type: 'text', normal_side: 'text', party_kind: 'text', custom: 'boolean' },
    },
    { name: BOOK_CUSTOMERS, key: ['customer_id'], columns: { customer_id: 'text', owner: 'text', currency: 'text', balance: 'numeric' } },
    {
      name: BOOK_PAYMENTS,
      key: ['payment_id'],
      columns: { payment_id: 'text', customer_id: 'text', collector_operator_id: 'text', method: 'text', chain: 'text[]' },
    },
    {
      name: JOURNAL_ENTRIES,
      key: ['entry_id'],
      columns: {
        entry_id: 'text',
        book_id: 'text',
        tenant: 'text',
        entry_date: 'date',
        global_position: 'bigint',
        source_event_id: 'text',
        source_type: 'text',
        kind: 'text',
        memo: 'text',
        reverses_entry_id: 'text',
        reversed_by_entry_id: 'text',
        currency: 'text',
        lines: 'jsonb',
      },
      indexes: ['CREATE INDEX ON {table} (book_id, entry_date, global_position)', 'CREATE INDEX ON {table} (book_id, global_position)', 'CREATE INDEX ON {table} (source_event_id)'],
    },
    {
      name: JOURNAL_LINES,
      write_once: true,
      key: ['entry_id', 'line_no'],
      columns: {
        entry_id: 'text',
        line_no: 'integer',
        book_id: 'text',
        entry_date: 'date',
        global_position: 'bigint',
        account_code: 'text',
        party: 'text',
        debit: 'numeric',
        credit: 'numeric',
        currency: 'text',
        due_on: 'date',
      },
      indexes: [
        'CREATE INDEX ON {table} (book_id, account_code, entry_date, global_position)',
        'CREATE INDEX ON {table} (book_id, global_position)',
        'CREATE INDEX ON {table} (book_id, account_code, party, entry_date)',
      ],
    },
    { name: ACCOUNT_DAY_TOTALS, key: ['book_id', 'account_code', 'entry_date', 'currency'], counter: true, columns: { book_id: 'text', account_code: 'text', entry_date: 'date', currency: 'text', ...totals } },
    { name: ACCOUNT_BUCKET_TOTALS, key: ['book_id', 'account_code', 'bucket', 'currency'], counter: true, columns: { book_id: 'text', account_code: 'text', bucket: 'bigint', currency: 'text', ...totals } },
    { name: PARTY_TOTALS, key: ['book_id', 'account_code', 'party', 'currency'], counter: true, columns: { book_id: 'text', account_code: 'text', party: 'text', currency: 'text', ...totals } },
  ],
  reads: (recorded) => {
    const refs: RowRef[] = [];
    const data = recorded.data as { customer_id?: string; payment_id?: string; chain?: readonly string[]; operator_id?: string; book_id?: string; entry_id?: string };
    if (recorded.stream_id.startsWith('customer-') && data.customer_id !== undefined) {
      refs.push(ref(BOOK_CUSTOMERS, { customer_id: data.customer_id }));
      for (const operator_id of data.chain ?? []) refs.push(ref(BOOKS, { book_id: operator_id }));
      if (recorded.type === 'payment-refunded' && data.payment_id !== undefined) refs.push(ref(BOOK_PAYMENTS, { payment_id: data.payment_id }));
    } else if (recorded.stream_id.startsWith('operator-') && data.operator_id !== undefined) {
      refs.push(ref(BOOKS, { book_id: data.operator_id }));
    } else if (recorded.stream_id.startsWith('book-') && data.book_id !== undefined) {
      refs.push(ref(BOOKS, { book_id: data.book_id }));
      if (recorded.type === 'entry-reversed' && data.entry_id !== undefined) refs.push(ref(JOURNAL_ENTRIES, { entry_id: data.entry_id }));
    }
    return refs;
  },
  handle: (recorded, rows) => {
    const changes: RowChange[] = [...bookFacts(recorded, rows)];
    const context = postingContext(rows);
    const entries = postingsFor({ event_id: recorded.event_id, type: recorded.type, data: recorded.data, occurred_at: recorded.occurred_at }, context);
    const balances = new Map<string, { row: Row; balance: string }>();
    for (const entry of entries) changes.push(...entryRows(recorded, entry, rows, balances));
    for (const { row, balance } of balances.values()) changes.push(put(BOOK_CUSTOMERS, { ...row, balance }));
    if (recorded.type === 'customer-moved') {
      // The balance leaves the old owner's book and enters the new one's unchanged.
      const event = asDomain<CustomerEvent>(recorded);
      const account = event.type === 'customer-moved' ? rows.get(BOOK_CUSTOMERS, { customer_id: event.data.customer_id }) : undefined;
      if (event.type === 'customer-moved' && account !== undefined) changes.push(put(BOOK_CUSTOMERS, { ...account, owner: event.data.to_operator_id }));
    }
    return changes;
  },
};

/**
 * What the posting rules may ask about: books, customers' accounts, payments, earlier entries. One per reader
 * (a rebuild's fold has one for the whole log), not one set of closures per event.
 */
function postingContext(rows: RowReader): PostingContext {
  let context = contexts.get(rows);
  if (context === undefined) contexts.set(rows, (context = newPostingContext(rows)));
  return context;
}

const contexts = new WeakMap<RowReader, PostingContext>();

function newPostingContext(rows: RowReader): PostingContext {
  return {
    book: (operator_id) => {
      const row = rows.get(BOOKS, { book_id: operator_id });
      return row === undefined
        ? undefined
        : ({
            book_id: row.book_id as string,
            role: row.role as OperatorRole,
            parent_id: row.parent_id as string | null,
            currency: row.currency as string,
            time_zone: row.time_zone as string,
            closed_through: row.closed_through as string | null,
          } satisfies BookInfo);
    },
    customer: (customer_id) => {
      const row = rows.get(BOOK_CUSTOMERS, { customer_id });
      return row === undefined ? undefined : { owner: row.owner as string, balance: row.balance as string };
    },
    payment: (payment_id) => {
      const row = rows.get(BOOK_PAYMENTS, { payment_id });
      if (row === undefined) return undefined;
      return { collector_operator_id: row.collector_operator_id as string, method: row.method as never, chain: row.chain as string[], customer_id: row.customer_id as string };
    },
    entry: (entry_id) => {
      const row = rows.get(JOURNAL_ENTRIES, { entry_id });
      if (row === undefined) return undefined;
      return {
        entry_id,
        book_id: row.book_id as string,
        date: row.entry_date as string,
        currency: row.currency as string,
        memo: row.memo as string,
        kind: row.kind as never,
        reverses_entry_id: row.reverses_entry_id as string | null,
        lines: row.lines as never,
      };
    },
  };
}

/** Facts the posting context needs later: books and their accounts, customers' owners, payments' collectors. */
function bookFacts(recorded: RecordedEvent, rows: RowReader): RowChange[] {
  const tenant = tenantOf(recorded);
  const newBook = (book_id: string, role: OperatorRole, parent_id: string | null, name: string, currency: string, time_zone: string): RowChange[] => [
    put(BOOKS, { book_id, tenant, role, parent_id, name, currency, time_zone, closed_through: null }),
    ...TEMPLATE_ACCOUNTS.map((account) =>
      put(BOOK_ACCOUNTS, { book_id, code: account.code, name: account.name, type: account.type, normal_side: normalSide(account.type), party_kind: account.party, custom: false }),
    ),
  ];
  if (recorded.stream_id.startsWith('operator-')) {
    const event = asDomain<OperatorEvent>(recorded);
    if (event.type === 'isp-registered') return newBook(event.data.operator_id, 'admin', null, event.data.name, event.data.currency, event.data.time_zone);
    if (event.type === 'operator-created') {
      const d = event.data;
      return newBook(d.operator_id, d.role, d.parent_id, d.name, d.currency, d.time_zone);
    }
    return [];
  }
  if (recorded.stream_id.startsWith('customer-')) {
    const event = asDomain<CustomerEvent>(recorded);
    if (event.type === 'customer-registered') {
      return [put(BOOK_CUSTOMERS, { customer_id: event.data.customer_id, owner: event.data.operator_id, currency: event.data.currency, balance: '0' })];
    }
    if (event.type === 'payment-received') {
      const d = event.data;
      return [put(BOOK_PAYMENTS, { payment_id: d.payment_id, customer_id: d.customer_id, collector_operator_id: d.collector_operator_id, method: d.method, chain: d.chain })];
    }
    return [];
  }
  if (recorded.stream_id.startsWith('book-')) {
    const event = asDomain<BookEvent>(recorded);
    const book = rows.get(BOOKS, { book_id: event.data.book_id });
    if (event.type === 'account-added') {
      const d = event.data;
      return [put(BOOK_ACCOUNTS, { book_id: d.book_id, code: d.code, name: d.name, type: d.type, normal_side: normalSide(d.type), party_kind: null, custom: true })];
    }
    if (event.type === 'period-closed' && book !== undefined) return [put(BOOKS, { ...book, closed_through: event.data.through })];
    if (event.type === 'entry-reversed') {
      const original = rows.get(JOURNAL_ENTRIES, { entry_id: event.data.entry_id });
      if (original !== undefined) return [put(JOURNAL_ENTRIES, { ...original, reversed_by_entry_id: event.data.reversal_entry_id })];
    }
  }
  return [];
}

/** One entry's rows: the entry, its lines, the running totals, and the customer accounts it moved. */
function entryRows(recorded: RecordedEvent, entry: JournalEntry, rows: RowReader, balances: Map<string, { row: Row; balance: string }>): RowChange[] {
  const global_position = recorded.global_position.toString();
  const bucket = (recorded.global_position / POSITION_BUCKET).toString();
  const changes: RowChange[] = [
    put(JOURNAL_ENTRIES, {
      entry_id: entry.entry_id,
      book_id: entry.book_id,
      tenant: tenantOf(recorded),
      entry_date: entry.date,
      global_position,
      source_event_id: recorded.event_id,
      source_type: recorded.type,
      kind: entry.kind,
      memo: entry.memo,
      reverses_entry_id: entry.reverses_entry_id,
      reversed_by_entry_id: null,
      currency: entry.currency,
      lines: entry.lines,
    }),
  ];
  for (const [index, line] of entry.lines.entries()) {
    const amounts = { debit: line.debit, credit: line.credit };
    changes.push(
      put(JOURNAL_LINES, {
        entry_id: entry.entry_id,
        line_no: index + 1,
        book_id: entry.book_id,
        entry_date: entry.date,
        global_position,
        account_code: line.account_code,
        party: line.party,
        debit: line.debit,
        credit: line.credit,
        currency: entry.currency,
        due_on: line.due_on,
      }),
      add(ACCOUNT_DAY_TOTALS, { book_id: entry.book_id, account_code: line.account_code, entry_date: entry.date, currency: entry.currency }, amounts),
      add(ACCOUNT_BUCKET_TOTALS, { book_id: entry.book_id, account_code: line.account_code, bucket, currency: entry.currency }, amounts),
    );
    if (line.party !== null) changes.push(add(PARTY_TOTALS, { book_id: entry.book_id, account_code: line.account_code, party: line.party, currency: entry.currency }, amounts));
    if (line.account_code === CUSTOMER_ACCOUNTS && line.party !== null) {
      let current = balances.get(line.party);
      if (current === undefined) {
        const row = rows.get(BOOK_CUSTOMERS, { customer_id: line.party });
        if (row !== undefined) current = { row, balance: row.balance as string };
      }
      if (current !== undefined && current.row.owner === entry.book_id) {
        balances.set(line.party, { row: current.row, balance: minus(plus(current.balance, line.debit, entry.currency), line.credit, entry.currency) });
      }
    }
  }
  return changes;
}

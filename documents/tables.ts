import type pg from 'pg';
import type { z } from 'zod';
import { localDateOf } from '../domain/calendar/local-date.js';
import { BooksQueryError, loadAccounts, loadBook } from '../projections/queries/books-common.js';
import { journal, ledgerPages } from '../projections/queries/books-journal.js';
import { trialBalance } from '../projections/queries/books-statements.js';
import {
  billRows,
  cardBatchRows,
  collectionRows,
  customerRows,
  paymentRows,
  type BillRowsFilter,
  type CollectionRowsFilter,
  type CustomerRowsFilter,
  type PaymentRowsFilter,
} from '../projections/queries/export-rows.js';
import { loadIspProfile } from '../projections/queries/isp-profile.js';
import type { ListScope } from '../projections/queries/list-scope.js';
import { documentLocale } from './money-format.js';

/**
 * Every table export, defined once and written as XLSX or CSV by the same definition: its columns (with a type
 * each, so a spreadsheet gets numbers as numbers in the currency's format and days as dates) and its rows, read
 * in one snapshot from the same queries the API and the reports use. Money stays a decimal string here; the
 * spreadsheet writer is the one place it becomes a cell's number.
 */
export type ColumnType = 'text' | 'money' | 'integer' | 'day' | 'instant';
export type Column = Readonly<{ key: string; header: string; type: ColumnType; width: number }>;
export type TableValue = string | number | null;
export type TableRow = Readonly<Record<string, TableValue>>;

export type OpenedTable = Readonly<{
  /** The sheet's title and what the file is about. */
  title: string;
  currency: string;
  locale: string;
  /** Instants are written as wall time in this zone (spreadsheets have no zones). */
  time_zone: string;
  rows: AsyncIterable<TableRow>;
}>;

export type ExportTable = Readonly<{
  /** The file's base name: customers, bills, journal… */
  name: string;
  columns: readonly Column[];
  /** Reads what the table is about, then its rows, in the snapshot `client` is in. */
  open: (client: pg.ClientBase) => Promise<OpenedTable>;
}>;

const text = (key: string, header: string, width = 18): Column => ({ key, header, type: 'text', width });
const money = (key: string, header: string): Column => ({ key, header, type: 'money', width: 15 });
const integer = (key: string, header: string): Column => ({ key, header, type: 'integer', width: 10 });
const dayColumn = (key: string, header: string): Column => ({ key, header, type: 'day', width: 12 });
const instant = (key: string, header: string): Column => ({ key, header, type: 'instant', width: 19 });

export const TABLE_NAMES = ['customers', 'bills', 'payments', 'collections', 'card-batches', 'journal', 'general-ledger', 'trial-balance'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

async function ispFacts(client: pg.ClientBase, tenant: string): Promise<{ name: string; currency: string; locale: string; time_zone: string }> {
  const isp = await loadIspProfile(client, tenant);
  if (isp === null) throw new BooksQueryError('INVALID_INPUT', `there is no ISP ${tenant}`);
  return { name: isp.name, currency: isp.currency, locale: documentLocale(isp.locale), time_zone: isp.time_zone };
}

// --- customers, bills, payments, collections, card batches ------------------------------------------------------

export function customersTable(scope: ListScope, filter: z.input<typeof CustomerRowsFilter> = {}): ExportTable {
  return {
    name: 'customers',
    columns: [
      text('customer_id', 'Customer ID'),
      text('name', 'Name', 26),
      text('username', 'Username'),
      text('mobile', 'Mobile', 16),
      text('connection_type', 'Connection', 11),
      text('zone', 'Zone', 14),
      text('operator_id', 'Operator ID'),
      text('operator_name', 'Operator', 20),
      text('package_name', 'Package', 18),
      text('billing_profile', 'Billing', 10),
      text('status', 'Status', 10),
      dayColumn('registered_on', 'Registered'),
      instant('expires_at', 'Expires'),
      money('balance_due', 'Balance due'),
      money('credit', 'Credit'),
    ],
    open: async (client) => {
      const isp = await ispFacts(client, scope.tenant);
      return { title: `Customers of ${isp.name}`, ...isp, rows: customerRows(client, scope, filter) };
    },
  };
}

export function billsTable(scope: ListScope, filter: z.input<typeof BillRowsFilter> = {}): ExportTable {
  return {
    name: 'bills',
    columns: [
      text('bill_id', 'Bill', 26),
      text('customer_id', 'Customer ID'),
      text('customer_name', 'Customer', 24),
      text('operator_id', 'Operator ID'),
      text('kind', 'Kind', 12),
      text('period', 'Period', 10),
      dayColumn('covers_from', 'From'),
      dayColumn('covers_until', 'Until'),
      text('package_id', 'Package ID'),
      dayColumn('issued_on', 'Issued'),
      dayColumn('due_on', 'Due'),
      money('amount', 'Amount'),
      money('paid', 'Paid'),
      money('open', 'Open'),
      text('status', 'Status', 14),
      instant('settled_at', 'Settled'),
    ],
    open: async (client) => {
      const isp = await ispFacts(client, scope.tenant);
      return { title: `Bills of ${isp.name}`, ...isp, rows: billRows(client, scope, filter) };
    },
  };
}

export function paymentsTable(scope: ListScope, filter: z.input<typeof PaymentRowsFilter> = {}): ExportTable {
  return {
    name: 'payments',
    columns: [
      text('payment_id', 'Payment', 24),
      instant('received_at', 'Received'),
      text('customer_id', 'Customer ID'),
      text('customer_name', 'Customer', 24),
      text('operator_id', 'Operator ID'),
      text('method', 'Method', 12),
      money('amount', 'Amount'),
      money('refunded', 'Refunded'),
      money('to_recharge', 'To recharge'),
      money('to_credit', 'To credit'),
      text('collected_by', 'Collected by'),
      text('collector_operator_id', 'For operator'),
      text('gateway', 'Gateway', 12),
      text('gateway_reference', 'Gateway reference', 22),
      text('card_batch_id', 'Card batch'),
      text('card_serial', 'Card serial', 12),
    ],
    open: async (client) => {
      const isp = await ispFacts(client, scope.tenant);
      return { title: `Payments of ${isp.name}`, ...isp, rows: paymentRows(client, scope, filter) };
    },
  };
}

export function collectionsTable(scope: ListScope, filter: z.input<typeof CollectionRowsFilter> = {}): ExportTable {
  return {
    name: 'collections',
    columns: [
      text('collected_by', 'Collector ID', 22),
      text('collector_name', 'Collector', 22),
      text('collector_operator_id', 'For operator ID'),
      text('collector_operator_name', 'For operator', 20),
      dayColumn('day', 'Day'),
      text('method', 'Method', 12),
      integer('payments', 'Payments'),
      money('amount', 'Amount (net of refunds)'),
    ],
    open: async (client) => {
      const isp = await ispFacts(client, scope.tenant);
      return { title: `Collections per collector, ${isp.name}`, ...isp, rows: collectionRows(client, scope, filter) };
    },
  };
}

/** `today` is the ISP's local day unless given: a card past its expiry date counts as expired. */
export function cardBatchesTable(scope: ListScope, now: Date): ExportTable {
  return {
    name: 'card-batches',
    columns: [
      text('batch_id', 'Batch', 38),
      money('value', 'Card value'),
      text('package_id', 'Package ID'),
      dayColumn('expires_on', 'Expires'),
      integer('cards', 'Cards'),
      integer('available', 'Available'),
      integer('assigned', 'Assigned'),
      integer('redeemed', 'Redeemed'),
      integer('expired', 'Expired'),
      money('redeemed_value', 'Value redeemed'),
    ],
    open: async (client) => {
      const isp = await ispFacts(client, scope.tenant);
      return { title: `Card batches of ${isp.name}`, ...isp, rows: cardBatchRows(client, scope, localDateOf(now, isp.time_zone)) };
    },
  };
}

// --- the books: journal, general ledger, trial balance ------------------------------------------------------------

export type BookSelection = Readonly<{ book_id: string; tenant?: string; as_of?: string; from?: string; to?: string }>;

const definedOf = (selection: BookSelection): Record<string, string> =>
  Object.fromEntries(Object.entries({ tenant: selection.tenant, as_of: selection.as_of, from: selection.from, to: selection.to }).filter(([, value]) => value !== undefined)) as Record<string, string>;

async function bookFacts(client: pg.ClientBase, selection: BookSelection): Promise<{ name: string; currency: string; locale: string; time_zone: string }> {
  const book = await loadBook(client, selection.book_id, selection.tenant);
  const isp = await loadIspProfile(client, book.tenant);
  return { name: book.name, currency: book.currency, locale: documentLocale(isp?.locale), time_zone: book.time_zone };
}

/** One row per journal line: the entry's date, ids, source event and memo beside each line's account and amounts. */
export function journalTable(selection: BookSelection): ExportTable {
  return {
    name: 'journal',
    columns: [
      dayColumn('date', 'Date'),
      text('entry_id', 'Entry', 30),
      integer('line_no', 'Line'),
      text('account_code', 'Account', 8),
      text('account_name', 'Account name', 26),
      text('party', 'Party'),
      money('debit', 'Debit'),
      money('credit', 'Credit'),
      dayColumn('due_on', 'Due'),
      text('memo', 'Memo', 40),
      text('kind', 'Kind', 10),
      text('source_type', 'Source event type', 18),
      text('source_event_id', 'Source event', 38),
      text('global_position', 'Log position', 12),
      text('reverses_entry_id', 'Reverses'),
      text('reversed_by_entry_id', 'Reversed by'),
    ],
    open: async (client) => {
      const facts = await bookFacts(client, selection);
      async function* rows(): AsyncGenerator<TableRow> {
        let after: string | undefined;
        for (;;) {
          const page = await journal(client, { book_id: selection.book_id, ...definedOf(selection), limit: 1_000, ...(after === undefined ? {} : { after }) });
          for (const entry of page.entries) {
            for (const line of entry.lines) {
              yield {
                date: entry.date,
                entry_id: entry.entry_id,
                line_no: line.line_no,
                account_code: line.account_code,
                account_name: line.account_name,
                party: line.party,
                debit: line.debit,
                credit: line.credit,
                due_on: line.due_on,
                memo: entry.memo,
                kind: entry.kind,
                source_type: entry.source_type,
                source_event_id: entry.source_event_id,
                global_position: entry.global_position,
                reverses_entry_id: entry.reverses_entry_id,
                reversed_by_entry_id: entry.reversed_by_entry_id,
              };
            }
          }
          if (page.next === null) return;
          after = page.next;
        }
      }
      return { title: `Journal of ${facts.name}`, ...facts, rows: rows() };
    },
  };
}

/**
 * The general ledger: every account of the book (or one) with its opening balance, each line with the running
 * balance on the account's normal side, and its closing balance; accounts that never moved and hold nothing are
 * left out. Read with `ledgerPages`, which carries the balance from page to page.
 */
export function generalLedgerTable(selection: BookSelection & Readonly<{ account?: string }>): ExportTable {
  return {
    name: 'general-ledger',
    columns: [
      text('account_code', 'Account', 8),
      text('account_name', 'Account name', 26),
      text('row', 'Row', 10),
      dayColumn('date', 'Date'),
      text('entry_id', 'Entry', 30),
      integer('line_no', 'Line'),
      text('party', 'Party'),
      text('memo', 'Memo', 40),
      money('debit', 'Debit'),
      money('credit', 'Credit'),
      money('balance', 'Balance'),
      text('global_position', 'Log position', 12),
    ],
    open: async (client) => {
      const facts = await bookFacts(client, selection);
      const accounts = (await loadAccounts(client, selection.book_id)).filter((account) => selection.account === undefined || account.code === selection.account);
      if (selection.account !== undefined && accounts.length === 0) throw new BooksQueryError('ACCOUNT_NOT_FOUND', `there is no account ${selection.account} in book ${selection.book_id}`);
      async function* rows(): AsyncGenerator<TableRow> {
        for (const account of accounts) {
          let opened = false;
          for await (const page of ledgerPages(client, { book_id: selection.book_id, ...definedOf(selection), account: account.code, limit: 10_000 })) {
            const idle = !opened && page.lines.length === 0 && page.next === null && isZero(page.opening) && isZero(page.closing);
            if (idle) break;
            const base = { account_code: account.code, account_name: account.name };
            if (!opened) {
              yield { ...base, row: 'opening', date: page.from, entry_id: null, line_no: null, party: null, memo: 'Opening balance', debit: null, credit: null, balance: page.opening, global_position: null };
              opened = true;
            }
            for (const line of page.lines) {
              yield { ...base, row: 'line', date: line.date, entry_id: line.entry_id, line_no: line.line_no, party: line.party, memo: line.memo, debit: line.debit, credit: line.credit, balance: line.balance, global_position: line.global_position };
            }
            if (page.next === null) {
              yield { ...base, row: 'closing', date: page.to, entry_id: null, line_no: null, party: null, memo: 'Closing balance', debit: null, credit: null, balance: page.closing, global_position: null };
            }
          }
        }
      }
      return { title: `General ledger of ${facts.name}`, ...facts, rows: rows() };
    },
  };
}

const isZero = (amount: string): boolean => /^-?0(\.0+)?$/.test(amount);

/** The trial balance, one row per account and a total row. */
export function trialBalanceTable(selection: Readonly<{ book_id: string; tenant?: string; as_of?: string; to?: string }>): ExportTable {
  return {
    name: 'trial-balance',
    columns: [
      text('code', 'Account', 8),
      text('name', 'Account name', 30),
      text('type', 'Type', 10),
      money('debit', 'Debits'),
      money('credit', 'Credits'),
      money('balance_debit', 'Debit balance'),
      money('balance_credit', 'Credit balance'),
    ],
    open: async (client) => {
      const facts = await bookFacts(client, selection);
      const report = await trialBalance(client, {
        book_id: selection.book_id,
        ...Object.fromEntries(Object.entries({ tenant: selection.tenant, as_of: selection.as_of, to: selection.to }).filter(([, value]) => value !== undefined)),
      });
      async function* rows(): AsyncGenerator<TableRow> {
        for (const account of report.accounts) yield { code: account.code, name: account.name, type: account.type, debit: account.debit, credit: account.credit, balance_debit: account.balance_debit, balance_credit: account.balance_credit };
        yield { code: null, name: 'Total', type: null, ...report.totals };
      }
      return { title: `Trial balance of ${facts.name}, as of ${report.as_of}`, ...facts, rows: rows() };
    },
  };
}


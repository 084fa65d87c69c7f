import { z } from 'zod';
import type { AccountType } from '../../domain/ledger/chart.js';
import { minorUnitsOf } from '../../domain/money/currency.js';
import { Money } from '../../domain/money/money.js';
import {
  asOfSchema,
  bookIdSchema,
  checkPeriod,
  cutOf,
  cutThrough,
  describeAsOf,
  inSnapshot,
  loadAccounts,
  loadBook,
  localDate,
  parseInput,
  tenantSchema,
  type AccountInfo,
  type Queryable,
} from './books-common.js';
import { readEntries } from './books-journal.js';

/**
 * A book's journal as hledger (and, for the common two-decimal currencies, ledger) journal text, so an
 * independent tool can check it: `hledger -f book.journal check accounts commodities` and
 * `hledger -f book.journal balance` must agree with our trial balance to the minor unit.
 *
 * Every account is declared with its type (`; type:A` …) and every per-party account as a sub-account
 * `…:<party>`; the currency is declared as a commodity with its minor digits. Each transaction is
 * `YYYY-MM-DD * memo` with a comment carrying the entry id and its source event id as tags
 * (`; entry:<id>, event:<id>` — hledger ends a tag's value at a comma, so the comma keeps them two tags).
 * Debits are positive, credits negative, as hledger writes them.
 */
export const HledgerExportInput = z
  .object({ book_id: bookIdSchema, tenant: tenantSchema, as_of: asOfSchema, from: localDate.optional(), to: localDate.optional() })
  .strict();

export type HledgerExportSummary = Readonly<{ book_id: string; currency: string; entries: number; postings: number; accounts: number }>;

const TOP_LEVEL: Readonly<Record<AccountType, string>> = { asset: 'assets', liability: 'liabilities', equity: 'equity', revenue: 'revenue', expense: 'expenses' };
const TYPE_TAG: Readonly<Record<AccountType, string>> = { asset: 'A', liability: 'L', equity: 'E', revenue: 'R', expense: 'X' };

/**
 * An account name hledger reads back as one name: no ':' (it separates levels), no ';' (it starts a comment),
 * no tabs or runs of spaces (two spaces end a posting's account), and never starting with '(' or '['.
 */
const cleanName = (name: string): string =>
  name
    .replaceAll(':', '-')
    .replaceAll(';', ',')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[([]/, '-');

/** A party as one account level: ids are letters, digits, '.', '_' and '-'; anything else is %-escaped. */
export const hledgerParty = (party: string): string => party.replace(/[^A-Za-z0-9_.-]/g, (char) => `%${char.codePointAt(0)!.toString(16).toUpperCase().padStart(2, '0')}`);

/** `assets:1020 Payment gateway clearing`, or with a party `assets:1100 Customer accounts:cus-1`. */
export const hledgerAccount = (account: Pick<AccountInfo, 'code' | 'name' | 'type'>, party: string | null = null): string =>
  `${TOP_LEVEL[account.type]}:${account.code} ${cleanName(account.name)}${party === null ? '' : `:${hledgerParty(party)}`}`;

/** A description on one line that hledger will not split into a code or a comment. */
const cleanMemo = (memo: string): string => memo.replace(/[\r\n\t]+/g, ' ').replaceAll(';', ',').trim().replace(/^\(/, '[') || '(no memo)';

const PAGE = 1_000;

/**
 * Writes the export through `write`, a page of entries at a time, so a book of any size streams in bounded
 * memory. Reads `book_accounts` and `party_totals` by their key prefix (the declarations), then
 * `journal_entries` by (book_id, entry_date, global_position), 1,000 entries per query, all in one snapshot.
 */
export async function exportHledgerJournal(db: Queryable, input: z.input<typeof HledgerExportInput>, write: (chunk: string) => void | Promise<void>): Promise<HledgerExportSummary> {
  const request = parseInput(HledgerExportInput, input);
  checkPeriod(request.from, request.to);
  return inSnapshot(db, async (client) => {
    const book = await loadBook(client, request.book_id, request.tenant);
    const accounts = await loadAccounts(client, book.book_id);
    const byCode = new Map(accounts.map((account) => [account.code, account]));
    const parties = await client.query<{ account_code: string; party: string }>(
      'SELECT DISTINCT account_code, party FROM party_totals WHERE book_id = $1 ORDER BY account_code, party',
      [book.book_id],
    );
    const minor_units = minorUnitsOf(book.currency);
    const sample = Money.fromMinor(100_000n * 10n ** BigInt(minor_units), book.currency).toString();
    const head = [
      `; IspBills journal of book ${book.book_id} (${cleanMemo(book.name)}, ${book.role}), ${book.currency}, as of ${describeAsOf(request.as_of)}` +
        (request.from === undefined && request.to === undefined ? '' : `, dated ${request.from ?? 'from the start'} to ${request.to ?? 'the end'}`),
      '; Each transaction is one journal entry: `entry` is its id, `event` the event it was posted from.',
      // "1.000" reads as one thousand to hledger unless told otherwise; two- and zero-decimal amounts are unambiguous.
      ...(minor_units === 3 ? ['decimal-mark .'] : []),
      `commodity ${sample} ${book.currency}`,
      '',
      ...accounts.map((account) => `account ${hledgerAccount(account)}  ; type:${TYPE_TAG[account.type]}`),
      ...parties.rows.map((row) => {
        const account = byCode.get(row.account_code);
        if (account === undefined) throw new Error(`book ${book.book_id} keeps party totals for ${row.account_code}, which is not in its chart`);
        return `account ${hledgerAccount(account, row.party)}  ; type:${TYPE_TAG[account.type]}`;
      }),
      '',
    ];
    await write(`${head.join('\n')}\n`);

    const cut = cutThrough(cutOf(request.as_of), request.to ?? null);
    let after: (string | number)[] | null = null;
    let entries = 0;
    let postings = 0;
    for (;;) {
      const page = await readEntries(client, book, cut, request.from ?? null, PAGE, after);
      let text = '';
      for (const entry of page.rows) {
        const tags = [`entry:${entry.entry_id}`, `event:${entry.source_event_id}`, `position:${entry.global_position}`, ...(entry.reverses_entry_id === null ? [] : [`reverses:${entry.reverses_entry_id}`])];
        text += `${entry.entry_date} * ${cleanMemo(entry.memo)}\n    ; ${tags.join(', ')}\n`;
        for (const line of entry.lines) {
          const account = byCode.get(line.account_code);
          if (account === undefined) throw new Error(`entry ${entry.entry_id} posts to ${line.account_code}, which is not in book ${book.book_id}'s chart`);
          const debit = Money.parse(line.debit, book.currency);
          const amount = debit.isZero() ? Money.parse(line.credit, book.currency).negated() : debit;
          text += `    ${hledgerAccount(account, line.party)}    ${amount.toString()} ${book.currency}${line.due_on === null ? '' : `  ; due:${line.due_on}`}\n`;
          postings += 1;
        }
        text += '\n';
        entries += 1;
      }
      if (text !== '') await write(text);
      if (page.next === null) break;
      const last = page.rows[page.rows.length - 1]!;
      after = [last.entry_date, last.global_position, last.entry_id];
    }
    return { book_id: book.book_id, currency: book.currency, entries, postings, accounts: accounts.length + parties.rows.length };
  });
}

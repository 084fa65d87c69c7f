import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type pg from 'pg';
import { z } from 'zod';
import { chainedEvents, chainHead, chainLink, eventHash, extendChain, type ChainedEvent } from '../eventstore/postgres/hash-chain.js';
import { BooksQueryError, loadBook, localDate, parseInput } from '../projections/queries/books-common.js';
import { exportHledgerJournal } from '../projections/queries/books-hledger.js';
import { trialBalance } from '../projections/queries/books-statements.js';
import { waitForProjections } from '../projections/status.js';
import { exportTable, inExportSnapshot, type ExportFormat } from './exports.js';
import { generalLedgerTable, journalTable, trialBalanceTable, type ExportTable, type TableRow } from './tables.js';
import { readSealedZip, SealedZipWriter, ZipBroken } from './zip.js';

/**
 * The auditor's package for one book and one period: the trial balance at the period's end, the general ledger
 * and the journal of the period (each as XLSX and CSV), the journal as hledger text, the source event of every
 * entry with its link in the hash chain, and a manifest pinning all of it — the log position every figure is
 * as of (the chain head when the package was made), the as-of date, the chain head's hash, and the SHA-256 of
 * every file — plus the checksums again as a SHA256SUMS file (`sha256sum -c SHA256SUMS` checks it without us).
 * It is one ZIP whose last bytes seal every byte before them.
 *
 * Verifying it (`verifyAuditorPackage`) checks, offline: the seal; every file against SHA256SUMS and the
 * manifest; every source event's hash recomputed from its content and the previous hash, in chain order, up
 * to the head; every journal entry's source event listed; the trial balance balancing at the manifest's
 * totals. With a database it also checks the links against the live chain and makes the deterministic files
 * again as of the manifest's position: what the books said then must be what they say now about then.
 */
export const PACKAGE_FORMAT = 'ispbills-auditor-package/1';

export const AuditorPackageInput = z
  .object({ book_id: z.string().min(1).max(64), tenant: z.string().min(1).max(64).optional(), from: localDate, to: localDate })
  .strict()
  .refine((input) => input.from <= input.to, 'the period starts after it ends');

export type PackageFile = Readonly<{ name: string; bytes: number; sha256: string }>;

export type Manifest = Readonly<{
  format: typeof PACKAGE_FORMAT;
  book: Readonly<{ book_id: string; tenant: string; name: string; role: string; currency: string; time_zone: string }>;
  period: Readonly<{ from: string; to: string }>;
  /** Every figure counts entries dated through `date` and posted from events at or before `log_position`. */
  as_of: Readonly<{ date: string; log_position: string }>;
  chain_head: Readonly<{ chain_index: string; global_position: string; hash: string }>;
  generated_at: string;
  counts: Readonly<{ journal_entries: number; journal_lines: number; ledger_rows: number; trial_balance_accounts: number; source_events: number }>;
  trial_balance_totals: Readonly<{ debit: string; credit: string; balance_debit: string; balance_credit: string }>;
  files: readonly PackageFile[];
}>;

/** Files whose bytes depend only on the books as of the manifest's position: made again, they must be equal. */
export const DETERMINISTIC_FILES = ['trial-balance.csv', 'general-ledger.csv', 'journal.csv', 'journal.hledger', 'source-events.jsonl'] as const;

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export type PackageProgress = Readonly<{ step: string }>;

/**
 * Makes the package and writes the ZIP to `out`. The files are made in a temporary directory first (each
 * streamed, so a ledger of a million lines never sits in memory), all from one database snapshot.
 */
export async function writeAuditorPackage(
  pool: pg.Pool,
  input: z.input<typeof AuditorPackageInput>,
  out: Writable,
  options: Readonly<{ generated_at: Date; on_progress?: (progress: PackageProgress) => void; wait_ms?: number }>,
): Promise<Manifest> {
  const request = parseInput(AuditorPackageInput, input);
  const step = (name: string): void => options.on_progress?.({ step: name });
  // Pin the package to the chain head: chain what is visible, then let the books catch up with it.
  step('extending the hash chain');
  while ((await extendChain(pool)) > 0);
  const head = await chainHead(pool);
  if (head === null) throw new BooksQueryError('INVALID_INPUT', 'the event log is empty');
  step(`waiting for the books to reach event ${head.global_position}`);
  await waitForProjections(pool, ['books'], { commit: head.tx_id, prepare: head.global_position }, { timeout_ms: options.wait_ms ?? 30_000 });

  const directory = await mkdtemp(path.join(os.tmpdir(), 'ispbills-package-'));
  try {
    const as_of = `position:${head.global_position}`;
    const made = await inExportSnapshot(pool, async (client) => {
      const book = await loadBook(client, request.book_id, request.tenant);
      const selection = { book_id: book.book_id, tenant: book.tenant, as_of, from: request.from, to: request.to };
      const files: string[] = [];
      const write = async (table: ExportTable, format: ExportFormat, observe?: (row: TableRow) => void): Promise<number> => {
        const name = `${table.name}.${format}`;
        step(`writing ${name}`);
        const observed: ExportTable =
          observe === undefined
            ? table
            : {
                ...table,
                open: async (snapshot) => {
                  const opened = await table.open(snapshot);
                  return {
                    ...opened,
                    rows: (async function* () {
                      for await (const row of opened.rows) {
                        observe(row);
                        yield row;
                      }
                    })(),
                  };
                },
              };
        const summary = await exportTable(client, observed, format, createWriteStream(path.join(directory, name)), { created_at: options.generated_at });
        files.push(name);
        return summary.rows;
      };

      const report = await trialBalance(client, { book_id: book.book_id, tenant: book.tenant, as_of, to: request.to });
      await write(trialBalanceTable({ book_id: book.book_id, tenant: book.tenant, as_of, to: request.to }), 'xlsx');
      await write(trialBalanceTable({ book_id: book.book_id, tenant: book.tenant, as_of, to: request.to }), 'csv');
      await write(generalLedgerTable(selection), 'xlsx');
      const ledger_rows = await write(generalLedgerTable(selection), 'csv');
      await write(journalTable(selection), 'xlsx');
      const positions = new Set<string>();
      const entries = new Set<string>();
      const journal_lines = await write(journalTable(selection), 'csv', (row) => {
        positions.add(String(row.global_position));
        entries.add(String(row.entry_id));
      });

      step('writing journal.hledger');
      const hledger = createWriteStream(path.join(directory, 'journal.hledger'));
      await exportHledgerJournal(client, { book_id: book.book_id, tenant: book.tenant, as_of, from: request.from, to: request.to }, async (chunk) => {
        if (!hledger.write(chunk)) await once(hledger, 'drain');
      });
      hledger.end();
      await once(hledger, 'finish');
      files.push('journal.hledger');

      step('writing source-events.jsonl');
      const events = await chainedEvents(client, [...positions].map((position) => BigInt(position)));
      if (events.length !== positions.size) {
        const chained = new Set(events.map((event) => event.global_position));
        const missing = [...positions].filter((position) => !chained.has(position));
        throw new BooksQueryError('INVALID_INPUT', `events ${missing.slice(0, 5).join(', ')} are not in the hash chain yet; make the package again in a moment`);
      }
      const lines = events.map((event) => `${JSON.stringify(sourceEventLine(event))}\n`).join('');
      const jsonl = createWriteStream(path.join(directory, 'source-events.jsonl'));
      jsonl.end(lines);
      await once(jsonl, 'finish');
      files.push('source-events.jsonl');
      return {
        book,
        files,
        report,
        counts: { journal_entries: entries.size, journal_lines, ledger_rows, trial_balance_accounts: report.accounts.length, source_events: events.length },
      };
    });

    step('sealing the package');
    const described: PackageFile[] = [];
    for (const name of made.files.sort()) {
      const file = path.join(directory, name);
      described.push({ name, bytes: (await stat(file)).size, sha256: await fileSha256(file) });
    }
    const manifest: Manifest = {
      format: PACKAGE_FORMAT,
      book: { book_id: made.book.book_id, tenant: made.book.tenant, name: made.book.name, role: made.book.role, currency: made.book.currency, time_zone: made.book.time_zone },
      period: { from: request.from, to: request.to },
      as_of: { date: request.to, log_position: head.global_position.toString() },
      chain_head: { chain_index: head.chain_index.toString(), global_position: head.global_position.toString(), hash: head.hash },
      generated_at: options.generated_at.toISOString(),
      counts: made.counts,
      trial_balance_totals: made.report.totals,
      files: described,
    };
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
    const readme = Buffer.from(readmeText(manifest), 'utf8');
    const sums = [...described, { name: 'README.txt', sha256: sha256(readme) }, { name: 'manifest.json', sha256: sha256(manifestBytes) }]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((file) => `${file.sha256}  ${file.name}\n`)
      .join('');
    const zip = new SealedZipWriter(out, options.generated_at);
    await zip.addBuffer('manifest.json', manifestBytes);
    await zip.addBuffer('SHA256SUMS', Buffer.from(sums, 'utf8'));
    await zip.addBuffer('README.txt', readme);
    for (const file of described) await zip.addFile(file.name, path.join(directory, file.name));
    await zip.finish();
    return manifest;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** A source event as the package lists it: its canonical form (what the chain hashes) and its link. */
function sourceEventLine(event: ChainedEvent): Record<string, unknown> {
  return {
    chain_index: event.chain_index,
    global_position: event.global_position,
    stream_id: event.stream_id,
    stream_revision: event.stream_revision,
    event_id: event.event_id,
    type: event.type,
    schema_version: event.schema_version,
    occurred_at: event.occurred_at,
    recorded_at: event.recorded_at,
    data: event.data,
    metadata: event.metadata,
    prev_hash: event.prev_hash,
    hash: event.hash,
  };
}

function readmeText(manifest: Manifest): string {
  return [
    `Auditor's package of book ${manifest.book.book_id} (${manifest.book.name}), ${manifest.period.from} to ${manifest.period.to}`,
    '',
    `Every figure counts the entries dated through ${manifest.as_of.date} and posted from events at or before log position`,
    `${manifest.as_of.log_position}, the head of the event log's hash chain when the package was made (link ${manifest.chain_head.chain_index},`,
    `hash ${manifest.chain_head.hash}). Amounts are in ${manifest.book.currency}; days are the book's (${manifest.book.time_zone}).`,
    '',
    'Files:',
    '  trial-balance.xlsx / .csv   every account at the period end: debits, credits, balances; a total row',
    '  general-ledger.xlsx / .csv  every account that moved or holds a balance: opening, each line with the running balance, closing',
    '  journal.xlsx / .csv         every entry of the period, one row per line, with its source event',
    '  journal.hledger             the same journal for hledger: hledger -f journal.hledger balance',
    '  source-events.jsonl         the event behind every entry, exactly as hashed into the chain, with its link',
    '  manifest.json               what the package is, as of when, and the SHA-256 of every file',
    '  SHA256SUMS                  the same checksums for sha256sum -c SHA256SUMS',
    '',
    'To verify: ispbills verify-package <file.zip> (add --database to check the links against the live chain and make the',
    'deterministic files again). A link is hash = SHA-256(previous hash, or 32 zero bytes for the first link, followed by the',
    'UTF-8 JSON array [global_position, stream_id, stream_revision, event_id, type, schema_version, data, metadata,',
    'occurred_at, recorded_at] of the event as listed).',
    '',
  ].join('\n');
}

// --- verification ---------------------------------------------------------------------------------------------------

export type PackageProblem = Readonly<{ check: string; detail: string }>;
export type PackageVerification = Readonly<{ ok: boolean; manifest: Manifest | null; problems: readonly PackageProblem[]; checked: readonly string[] }>;

const manifestSchema = z.object({
  format: z.literal(PACKAGE_FORMAT),
  book: z.object({ book_id: z.string(), tenant: z.string(), name: z.string(), role: z.string(), currency: z.string(), time_zone: z.string() }).strict(),
  period: z.object({ from: z.string(), to: z.string() }).strict(),
  as_of: z.object({ date: z.string(), log_position: z.string().regex(/^\d+$/) }).strict(),
  chain_head: z.object({ chain_index: z.string().regex(/^\d+$/), global_position: z.string().regex(/^\d+$/), hash: z.string().regex(/^[0-9a-f]{64}$/) }).strict(),
  generated_at: z.string(),
  counts: z.object({ journal_entries: z.number(), journal_lines: z.number(), ledger_rows: z.number(), trial_balance_accounts: z.number(), source_events: z.number() }).strict(),
  trial_balance_totals: z.object({ debit: z.string(), credit: z.string(), balance_debit: z.string(), balance_credit: z.string() }).strict(),
  files: z.array(z.object({ name: z.string(), bytes: z.number(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict()),
}).strict();

const sourceEventSchema = z
  .object({
    chain_index: z.string().regex(/^\d+$/),
    global_position: z.string().regex(/^\d+$/),
    stream_id: z.string(),
    stream_revision: z.string(),
    event_id: z.string(),
    type: z.string(),
    schema_version: z.number(),
    occurred_at: z.string(),
    recorded_at: z.string(),
    data: z.string(),
    metadata: z.string(),
    prev_hash: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/**
 * Checks a package (the ZIP's bytes). Offline unless `pool` is given; with it, also against the live chain and
 * the books as of the manifest's position. Every problem found is listed; `ok` only when there are none.
 */
export async function verifyAuditorPackage(bytes: Buffer, options: Readonly<{ pool?: pg.Pool }> = {}): Promise<PackageVerification> {
  const problems: PackageProblem[] = [];
  const checked: string[] = [];
  const fail = (check: string, detail: string): void => {
    problems.push({ check, detail });
  };
  let entries: ReadonlyMap<string, Buffer>;
  try {
    entries = readSealedZip(bytes).entries;
    checked.push('seal: the SHA-256 of the archive matches its seal, and every entry its CRC-32');
  } catch (error) {
    if (!(error instanceof ZipBroken)) throw error;
    return { ok: false, manifest: null, problems: [{ check: 'seal', detail: error.message }], checked };
  }

  // Checksums: SHA256SUMS names every other file exactly once, in sha256sum's own format.
  const sums = entries.get('SHA256SUMS');
  const listed = new Map<string, string>();
  if (sums === undefined) fail('checksums', 'SHA256SUMS is missing');
  else {
    const text = sums.toString('utf8');
    if (!/^([0-9a-f]{64} {2}[A-Za-z0-9._-]+\n)+$/.test(text)) fail('checksums', 'SHA256SUMS is not in sha256sum format');
    for (const line of text.split('\n').filter((line) => line !== '')) {
      const name = line.slice(66);
      if (listed.has(name)) fail('checksums', `SHA256SUMS lists ${name} twice`);
      listed.set(name, line.slice(0, 64));
    }
    for (const [name, content] of entries) {
      if (name === 'SHA256SUMS') continue;
      const expected = listed.get(name);
      if (expected === undefined) fail('checksums', `${name} is in the archive but not in SHA256SUMS`);
      else if (sha256(content) !== expected) fail('checksums', `${name} does not match its SHA-256 in SHA256SUMS`);
    }
    for (const name of listed.keys()) if (!entries.has(name)) fail('checksums', `SHA256SUMS lists ${name}, which is not in the archive`);
    checked.push('checksums: every file matches SHA256SUMS');
  }

  // The manifest: its own shape, and its list of files agreeing with the archive.
  let manifest: Manifest | null = null;
  const manifestBytes = entries.get('manifest.json');
  if (manifestBytes === undefined) fail('manifest', 'manifest.json is missing');
  else {
    try {
      manifest = manifestSchema.parse(JSON.parse(manifestBytes.toString('utf8'))) as Manifest;
    } catch (error) {
      fail('manifest', `manifest.json is not a package manifest: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`);
    }
  }
  if (manifest !== null) {
    const described = new Set(manifest.files.map((file) => file.name));
    for (const file of manifest.files) {
      const content = entries.get(file.name);
      if (content === undefined) fail('manifest', `the manifest lists ${file.name}, which is not in the archive`);
      else if (content.length !== file.bytes || sha256(content) !== file.sha256) fail('manifest', `${file.name} does not match the manifest's size and SHA-256`);
    }
    for (const name of entries.keys()) if (!['manifest.json', 'SHA256SUMS', 'README.txt'].includes(name) && !described.has(name)) fail('manifest', `${name} is not in the manifest`);
    for (const name of [...DETERMINISTIC_FILES, 'trial-balance.xlsx', 'general-ledger.xlsx', 'journal.xlsx']) if (!described.has(name)) fail('manifest', `the package has no ${name}`);
    checked.push('manifest: every file matches the manifest');
  }

  // The hash chain: every source event hashes to its link, links follow each other, up to the head.
  const events = new Map<string, z.infer<typeof sourceEventSchema>>();
  const jsonl = entries.get('source-events.jsonl');
  if (manifest !== null && jsonl !== undefined) {
    let previous: z.infer<typeof sourceEventSchema> | null = null;
    const lines = jsonl.toString('utf8').split('\n');
    if (lines.pop() !== '') fail('hash chain', 'source-events.jsonl does not end with a line break');
    for (const [index, line] of lines.entries()) {
      let event: z.infer<typeof sourceEventSchema>;
      try {
        event = sourceEventSchema.parse(JSON.parse(line));
      } catch {
        fail('hash chain', `source-events.jsonl line ${index + 1} is not a source event`);
        continue;
      }
      const recomputed = eventHash(event.prev_hash === null ? null : Buffer.from(event.prev_hash, 'hex'), { ...event, tx_id: '' }).toString('hex');
      if (recomputed !== event.hash) fail('hash chain', `event ${event.global_position} (link ${event.chain_index}) does not hash to its link: its content or hash was changed`);
      if (event.prev_hash === null && event.chain_index !== '1') fail('hash chain', `link ${event.chain_index} has no previous hash but is not the first link`);
      if (previous !== null) {
        if (BigInt(event.chain_index) <= BigInt(previous.chain_index)) fail('hash chain', `link ${event.chain_index} comes after link ${previous.chain_index}: the list is not in chain order`);
        if (BigInt(event.chain_index) === BigInt(previous.chain_index) + 1n && event.prev_hash !== previous.hash) fail('hash chain', `link ${event.chain_index} does not follow link ${previous.chain_index}`);
      }
      if (BigInt(event.chain_index) > BigInt(manifest.chain_head.chain_index)) fail('hash chain', `link ${event.chain_index} is beyond the manifest's chain head`);
      if (BigInt(event.global_position) > BigInt(manifest.as_of.log_position)) fail('hash chain', `event ${event.global_position} is after the package's log position`);
      if (event.chain_index === manifest.chain_head.chain_index && event.hash !== manifest.chain_head.hash) fail('hash chain', 'the head link in the list disagrees with the manifest');
      events.set(event.event_id, event);
      previous = event;
    }
    if (events.size !== manifest.counts.source_events) fail('hash chain', `the manifest counts ${manifest.counts.source_events} source events, the list has ${events.size}`);
    checked.push(`hash chain: ${events.size} source events recomputed to their links, in chain order, up to the head`);
  }

  // Entries and events: every journal line names an event in the list; the trial balance balances at the manifest's totals.
  const journal = entries.get('journal.csv');
  if (manifest !== null && journal !== undefined) {
    const rows = parseCsv(journal.toString('utf8'));
    const header = rows.shift() ?? [];
    const eventColumn = header.indexOf('Source event');
    const entryColumn = header.indexOf('Entry');
    if (eventColumn === -1 || entryColumn === -1) fail('journal', 'journal.csv has no Source event or Entry column');
    else {
      const entryIds = new Set<string>();
      for (const row of rows) {
        entryIds.add(row[entryColumn] ?? '');
        if (!events.has(row[eventColumn] ?? '')) fail('journal', `entry ${row[entryColumn]} names event ${row[eventColumn]}, which is not among the source events`);
      }
      if (rows.length !== manifest.counts.journal_lines || entryIds.size !== manifest.counts.journal_entries) fail('journal', 'journal.csv does not have the lines and entries the manifest counts');
    }
    checked.push('journal: every entry’s source event is listed');
  }
  const trial = entries.get('trial-balance.csv');
  if (manifest !== null && trial !== undefined) {
    const rows = parseCsv(trial.toString('utf8'));
    const total = rows[rows.length - 1];
    const totals = manifest.trial_balance_totals;
    if (total === undefined || total[1] !== 'Total' || total.slice(3).join(',') !== [totals.debit, totals.credit, totals.balance_debit, totals.balance_credit].join(',')) fail('trial balance', "trial-balance.csv's total row is not the manifest's totals");
    if (totals.debit !== totals.credit || totals.balance_debit !== totals.balance_credit) fail('trial balance', 'the trial balance does not balance');
    checked.push('trial balance: balances, at the manifest’s totals');
  }

  if (options.pool !== undefined && manifest !== null) await verifyAgainstDatabase(options.pool, manifest, entries, events, fail, checked);
  return { ok: problems.length === 0, manifest, problems, checked };
}

async function verifyAgainstDatabase(
  pool: pg.Pool,
  manifest: Manifest,
  entries: ReadonlyMap<string, Buffer>,
  events: ReadonlyMap<string, z.infer<typeof sourceEventSchema>>,
  fail: (check: string, detail: string) => void,
  checked: string[],
): Promise<void> {
  const head = await chainLink(pool, BigInt(manifest.chain_head.chain_index));
  if (head === null || head.hash !== manifest.chain_head.hash || head.global_position !== manifest.chain_head.global_position) {
    fail('live chain', `the live chain's link ${manifest.chain_head.chain_index} is not the manifest's head`);
  }
  const live = new Map((await chainedEvents(pool, [...events.values()].map((event) => BigInt(event.global_position)))).map((event) => [event.event_id, event]));
  for (const event of events.values()) {
    const link = live.get(event.event_id);
    if (link === undefined || link.hash !== event.hash || link.chain_index !== event.chain_index) fail('live chain', `event ${event.global_position} is not linked in the live chain as the package says`);
  }
  checked.push('live chain: the head and every source event’s link are the live chain’s');

  // The deterministic files, made again as of the manifest's position, must be byte for byte the package's.
  const collect = (): { out: Writable; bytes: () => Buffer } => {
    const chunks: Buffer[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    return { out, bytes: () => Buffer.concat(chunks) };
  };
  const again = new Map<string, Buffer>();
  await inExportSnapshot(pool, async (client) => {
    const as_of = `position:${manifest.as_of.log_position}`;
    const selection = { book_id: manifest.book.book_id, tenant: manifest.book.tenant, as_of, from: manifest.period.from, to: manifest.period.to };
    const created_at = new Date(manifest.generated_at);
    for (const [name, table] of [
      ['trial-balance.csv', trialBalanceTable({ book_id: manifest.book.book_id, tenant: manifest.book.tenant, as_of, to: manifest.period.to })],
      ['general-ledger.csv', generalLedgerTable(selection)],
      ['journal.csv', journalTable(selection)],
    ] as const) {
      const sink = collect();
      await exportTable(client, table, 'csv', sink.out, { created_at });
      again.set(name, sink.bytes());
    }
    let hledger = '';
    await exportHledgerJournal(client, selection, (chunk) => {
      hledger += chunk;
    });
    again.set('journal.hledger', Buffer.from(hledger, 'utf8'));
    const positions = [...events.values()].map((event) => BigInt(event.global_position));
    again.set('source-events.jsonl', Buffer.from((await chainedEvents(client, positions)).map((event) => `${JSON.stringify(sourceEventLine(event))}\n`).join(''), 'utf8'));
  });
  for (const name of DETERMINISTIC_FILES) {
    const packaged = entries.get(name);
    const made = again.get(name);
    if (packaged === undefined || made === undefined || !packaged.equals(made)) fail('books now', `${name} made again as of position ${manifest.as_of.log_position} differs from the package's`);
  }
  checked.push(`books now: ${DETERMINISTIC_FILES.join(', ')} made again as of position ${manifest.as_of.log_position} are byte for byte the package's`);
}

/** RFC 4180 as csv.ts writes it: quoted fields with doubled quotes, CRLF between records. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += char;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}


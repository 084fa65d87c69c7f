import { once } from 'node:events';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { setIspProfile } from '../commands/operator-commands.js';
import { verifyAuditorPackage, writeAuditorPackage } from '../documents/auditor-package.js';
import { exportTable, type ExportFormat } from '../documents/exports.js';
import {
  balanceSheetPdf,
  customerStatementPdf,
  incomeStatementPdf,
  invoicePdf,
  receiptPdf,
  resellerStatementPdf,
  trialBalancePdf,
  writeBillRunPdf,
} from '../documents/pdf-documents.js';
import { billsTable, cardBatchesTable, collectionsTable, customersTable, generalLedgerTable, paymentsTable, trialBalanceTable, type ExportTable } from '../documents/tables.js';
import { BooksQueryError } from '../projections/queries/books-common.js';
import { loadIspProfile } from '../projections/queries/isp-profile.js';
import type { ListScope } from '../projections/queries/list-scope.js';
import { toStandardOutput } from './books.js';
import { loadConfig } from './config.js';
import { commandRuntime, connect, quietLogger, type Connected } from './system.js';

/**
 * Documents and exports on the command line (`ispbills export <what>`): the PDFs (invoice, a bill run's
 * invoices in one file, money receipt, customer and commission statements, trial balance, balance sheet,
 * income statement), the table exports as XLSX or CSV, and the auditor's package; `ispbills verify-package`
 * checks a package; `ispbills isp-profile` shows or sets what the documents print. Everything reads the read
 * models the API reads; progress goes to standard error. Registered from cli/main.ts after the books commands,
 * whose `export journal` it extends to XLSX and CSV.
 */
type Options = Record<string, string | boolean | undefined>;

async function withConnection(work: (connected: Connected) => Promise<void>): Promise<void> {
  const connected = await connect(loadConfig(), quietLogger());
  try {
    await work(connected);
  } finally {
    await connected.close();
  }
}

const progress = (line: string): void => {
  process.stderr.write(`\r${line}\u001b[K`);
};

/** Where a document goes: the file named by --out; standard output only for text (CSV, hledger). */
function outputFor(out: string | undefined, binary: boolean, what: string): { stream: Writable; done: () => Promise<void> } {
  if (out === undefined) {
    if (binary) throw new BooksQueryError('INVALID_INPUT', `${what} is binary: say where to write it with --out <file>`);
    return { stream: toStandardOutput(), done: async () => undefined };
  }
  const stream = createWriteStream(out);
  return {
    stream,
    done: async () => {
      if (!stream.writableFinished) await once(stream, 'finish');
    },
  };
}

function formatOf(value: string | undefined, allowed: readonly string[], fallback: string): string {
  const format = value ?? fallback;
  if (!allowed.includes(format)) throw new BooksQueryError('INVALID_INPUT', `--format ${format}: choose ${allowed.join(' or ')}`);
  return format;
}

/** Options the user did not give stay out, so each query's own defaults apply. */
const defined = (values: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));

async function writeTable(connected: Connected, table: ExportTable, options: Options): Promise<void> {
  const format = formatOf(options.format as string | undefined, ['xlsx', 'csv'], 'xlsx') as ExportFormat;
  const out = outputFor(options.out as string | undefined, format === 'xlsx', `${table.name}.xlsx`);
  const summary = await exportTable(connected.database.pool, table, format, out.stream, {
    created_at: new Date(),
    on_progress: (done) => progress(`${table.name}: ${done.rows.toLocaleString('en')} rows`),
  });
  await out.done();
  process.stderr.write(`\r${table.name}: ${summary.rows.toLocaleString('en')} rows${summary.sheets > 1 ? ` on ${summary.sheets} sheets` : ''}${options.out === undefined ? '' : ` written to ${String(options.out)}`}\u001b[K\n`);
}

async function writePdf(bytes: Buffer, out: string | undefined, what: string): Promise<void> {
  if (out === undefined) throw new BooksQueryError('INVALID_INPUT', `${what} is a PDF: say where to write it with --out <file>`);
  writeFileSync(out, bytes);
  process.stderr.write(`${what}: ${bytes.length.toLocaleString('en')} bytes written to ${out}\n`);
}

/** The ISP's scope for table exports: the whole ISP, or an operator's subtree. */
const scopeOf = (options: Options): ListScope => {
  if (typeof options.isp !== 'string') throw new BooksQueryError('INVALID_INPUT', 'say which ISP with --isp <id>');
  return { tenant: options.isp, operator_id: typeof options.operator === 'string' ? options.operator : null, customer_id: null };
};

/** The ISP a bill, payment or customer belongs to: the CLI works at the ISP level of whatever it is given. */
async function tenantOf(connected: Connected, table: 'bills' | 'payments' | 'customers', column: string, id: string): Promise<string> {
  const found = await connected.database.pool.query<{ tenant: string }>(`SELECT tenant FROM ${table} WHERE ${column} = $1`, [id]);
  if (found.rows[0] === undefined) throw new BooksQueryError('INVALID_INPUT', `there is no ${table.slice(0, -1)} ${id} (in the read models)`);
  return found.rows[0].tenant;
}

export function registerDocumentCommands(program: Command): void {
  const exporter = program.commands.find((command) => command.name() === 'export') ?? program.command('export').description('export data for other tools');
  exporter.description('documents and exports: PDFs, XLSX/CSV tables, the journal for hledger, the auditor’s package');

  const table = (name: string, description: string, make: (options: Options) => ExportTable, extra: (command: Command) => Command = (command) => command): void => {
    extra(
      exporter
        .command(name)
        .description(`${description} (XLSX with typed cells, or CSV)`)
        .requiredOption('--isp <id>', 'the ISP')
        .option('--operator <id>', "only this operator's subtree")
        .option('--format <format>', 'xlsx (default) or csv')
        .option('--out <file>', 'write here (required for xlsx; CSV goes to standard output without it)'),
    ).action(async (options: Options) => withConnection(async (connected) => writeTable(connected, make(options), options)));
  };
  table('customers', 'customers with package, status, expiry, balance due and credit', (o) => customersTable(scopeOf(o), defined({ zone: o.zone as string | undefined, status: o.status as string | undefined, package_id: o.package as string | undefined }) as never), (c) =>
    c.option('--zone <zone>', 'only this zone').option('--status <status>', 'active, suspended, expired or disabled').option('--package <id>', 'only this package'),
  );
  table('bills', 'bills with amounts paid and open', (o) => billsTable(scopeOf(o), defined({ period: o.period as string | undefined, status: o.status as string | undefined, from: o.from as string | undefined, to: o.to as string | undefined }) as never), (c) =>
    c.option('--period <yyyy-mm>', 'only this billing period').option('--status <status>', 'open, partially_paid or paid').option('--from <date>', 'issued on or after').option('--to <date>', 'issued on or before'),
  );
  table('payments', 'payments with method, collector and what they paid for', (o) => paymentsTable(scopeOf(o), defined({ method: o.method as string | undefined, collected_by: o.collector as string | undefined, from: o.from as string | undefined, until: o.until as string | undefined }) as never), (c) =>
    c.option('--method <method>', 'cash, online, card or reseller_wallet').option('--collector <id>', 'only this collector').option('--from <instant>', 'received at or after (ISO 8601)').option('--until <instant>', 'received before (ISO 8601)'),
  );
  table('collections', 'what each collector took in, per day and method, net of refunds', (o) => collectionsTable(scopeOf(o), defined({ from: o.from as string | undefined, to: o.to as string | undefined, collected_by: o.collector as string | undefined })), (c) =>
    c.option('--from <date>', "first day (the ISP's calendar)").option('--to <date>', 'last day').option('--collector <id>', 'only this collector'),
  );
  table('card-batches', 'recharge card batches with their cards by status and the value redeemed', (o) => cardBatchesTable(scopeOf(o), new Date()));

  // The books' tables: journal (also hledger, in cli/books.ts), general ledger, trial balance (also PDF).
  exporter
    .command('general-ledger')
    .description("a book's general ledger: every account's opening balance, lines with the running balance, closing balance (XLSX or CSV)")
    .requiredOption('--book <id>', "the book: its operator's id")
    .option('--account <code>', 'only this account')
    .option('--as-of <when>', 'YYYY-MM-DD or position:<n>; default: now')
    .option('--from <date>', 'first day of the period')
    .option('--to <date>', 'last day of the period')
    .option('--format <format>', 'xlsx (default) or csv')
    .option('--out <file>', 'write here')
    .action(async (options: Options) =>
      withConnection(async (connected) =>
        writeTable(connected, generalLedgerTable({ book_id: String(options.book), ...defined({ as_of: options.asOf as string | undefined, from: options.from as string | undefined, to: options.to as string | undefined, account: options.account as string | undefined }) }), options),
      ),
    );

  exporter
    .command('trial-balance')
    .description("a book's trial balance as PDF, XLSX or CSV")
    .requiredOption('--book <id>', "the book: its operator's id")
    .option('--as-of <when>', 'YYYY-MM-DD or position:<n>; default: now')
    .option('--format <format>', 'pdf (default), xlsx or csv')
    .option('--out <file>', 'write here')
    .action(async (options: Options) =>
      withConnection(async (connected) => {
        const format = formatOf(options.format as string | undefined, ['pdf', 'xlsx', 'csv'], 'pdf');
        const input = { book_id: String(options.book), ...defined({ as_of: options.asOf as string | undefined }) };
        if (format === 'pdf') await writePdf(await trialBalancePdf(connected.database.pool, input, new Date()), options.out as string | undefined, 'trial balance');
        else await writeTable(connected, trialBalanceTable(input), options);
      }),
    );

  const bookPdf = (name: string, description: string, make: (connected: Connected, options: Options) => Promise<Buffer>, extra: (command: Command) => Command): void => {
    extra(exporter.command(name).description(`${description} (PDF)`).requiredOption('--book <id>', "the book: its operator's id").option('--as-of <when>', 'YYYY-MM-DD or position:<n>; default: now').requiredOption('--out <file>', 'the PDF file')).action(
      async (options: Options) => withConnection(async (connected) => writePdf(await make(connected, options), options.out as string, name)),
    );
  };
  bookPdf('balance-sheet', "a book's balance sheet", (c, o) => balanceSheetPdf(c.database.pool, { book_id: String(o.book), ...defined({ as_of: o.asOf as string | undefined }) }, new Date()), (c) => c);
  bookPdf(
    'income-statement',
    "a book's income statement for a period",
    (c, o) => incomeStatementPdf(c.database.pool, { book_id: String(o.book), from: String(o.from), to: String(o.to), ...defined({ as_of: o.asOf as string | undefined }) }, new Date()),
    (c) => c.requiredOption('--from <date>', 'first day').requiredOption('--to <date>', 'last day'),
  );
  bookPdf(
    'reseller-statement',
    "a reseller's commission statement: commission earned, the wallet with its parent, what each child is owed, payment by payment",
    (c, o) => resellerStatementPdf(c.database.pool, { book_id: String(o.book), ...defined({ as_of: o.asOf as string | undefined, from: o.from as string | undefined, to: o.to as string | undefined }) }, new Date()),
    (c) => c.option('--from <date>', 'first day').option('--to <date>', 'last day'),
  );

  exporter
    .command('customer-statement')
    .description("a customer's statement of account (PDF): opening balance, every bill and payment with the balance after it")
    .requiredOption('--customer <id>', 'the customer')
    .option('--book <id>', "whose book (default: the customer's own operator's)")
    .option('--as-of <when>', 'YYYY-MM-DD or position:<n>; default: now')
    .option('--from <date>', 'first day')
    .option('--to <date>', 'last day')
    .requiredOption('--out <file>', 'the PDF file')
    .action(async (options: Options) =>
      withConnection(async (connected) => {
        const customer_id = String(options.customer);
        const tenant = await tenantOf(connected, 'customers', 'customer_id', customer_id);
        const owner = await connected.database.pool.query<{ operator_id: string }>('SELECT operator_id FROM customers WHERE customer_id = $1', [customer_id]);
        const book_id = typeof options.book === 'string' ? options.book : owner.rows[0]!.operator_id;
        const pdf = await customerStatementPdf(
          connected.database.pool,
          { tenant, operator_id: null, customer_id: null },
          { book_id, customer_id, ...defined({ as_of: options.asOf as string | undefined, from: options.from as string | undefined, to: options.to as string | undefined }) },
          new Date(),
        );
        await writePdf(pdf, options.out as string, 'customer statement');
      }),
    );

  exporter
    .command('invoice')
    .description("one bill's invoice (PDF)")
    .requiredOption('--bill <id>', 'the bill, e.g. cus-17:2026-11')
    .requiredOption('--out <file>', 'the PDF file')
    .action(async (options: Options) =>
      withConnection(async (connected) => {
        const bill_id = String(options.bill);
        const tenant = await tenantOf(connected, 'bills', 'bill_id', bill_id);
        await writePdf(await invoicePdf(connected.database.pool, { tenant, operator_id: null, customer_id: null }, bill_id, new Date()), options.out as string, 'invoice');
      }),
    );

  exporter
    .command('invoices')
    .description("every invoice of a bill run as one PDF, by zone and customer name, streamed (memory does not grow with the run)")
    .requiredOption('--isp <id>', 'the ISP')
    .requiredOption('--period <yyyy-mm>', 'the billing period')
    .option('--issued-on <date>', 'only bills issued on this day (one scheduler run)')
    .option('--kind <kind>', 'monthly, first-period or proration')
    .option('--operator <id>', "only this operator's subtree")
    .requiredOption('--out <file>', 'the PDF file')
    .action(async (options: Options) =>
      withConnection(async (connected) => {
        const out = createWriteStream(String(options.out));
        const summary = await writeBillRunPdf(
          connected.database.pool,
          scopeOf(options),
          { period: String(options.period), ...defined({ issued_on: options.issuedOn as string | undefined, kind: options.kind as string | undefined }) } as never,
          out,
          { generated_at: new Date(), on_progress: (done) => progress(`invoices: ${done.invoices.toLocaleString('en')} of ${done.total.toLocaleString('en')}`) },
        );
        process.stderr.write(`\rinvoices: ${summary.invoices.toLocaleString('en')} on ${summary.pages.toLocaleString('en')} pages, ${summary.bytes.toLocaleString('en')} bytes written to ${String(options.out)}\u001b[K\n`);
      }),
    );

  exporter
    .command('receipt')
    .description("one payment's money receipt (PDF)")
    .requiredOption('--payment <id>', 'the payment')
    .requiredOption('--out <file>', 'the PDF file')
    .action(async (options: Options) =>
      withConnection(async (connected) => {
        const payment_id = String(options.payment);
        const tenant = await tenantOf(connected, 'payments', 'payment_id', payment_id);
        await writePdf(await receiptPdf(connected.database.pool, { tenant, operator_id: null, customer_id: null }, payment_id, new Date()), options.out as string, 'receipt');
      }),
    );

  exporter
    .command('auditor-package')
    .description("the auditor's package of a book for a period (ZIP): trial balance, general ledger and journal (XLSX and CSV), the hledger journal, the source events with their hash-chain links, and a manifest of checksums pinned to the chain head")
    .requiredOption('--book <id>', "the book: its operator's id")
    .requiredOption('--from <date>', 'first day of the period')
    .requiredOption('--to <date>', 'last day of the period')
    .requiredOption('--out <file>', 'the ZIP file')
    .action(async (options: Options) =>
      withConnection(async (connected) => {
        const out = createWriteStream(String(options.out));
        const manifest = await writeAuditorPackage(connected.database.pool, { book_id: String(options.book), from: String(options.from), to: String(options.to) }, out, {
          generated_at: new Date(),
          on_progress: (step) => progress(`auditor's package: ${step.step}`),
        });
        process.stderr.write(
          `\rauditor's package of ${manifest.book.book_id}, ${manifest.period.from} to ${manifest.period.to}, as of log position ${manifest.as_of.log_position} (chain link ${manifest.chain_head.chain_index}): ` +
            `${manifest.counts.journal_entries} entries, ${manifest.counts.source_events} source events, written to ${String(options.out)}\u001b[K\n`,
        );
      }),
    );

  program
    .command('verify-package')
    .description("check an auditor's package: its seal, every file's checksum, the source events against their hash-chain links; with --database also against the live chain and the books as of its position (exit 1 when anything fails)")
    .argument('<file>', 'the ZIP')
    .option('--database', 'also check against this installation’s event log and books')
    .option('--json', 'print JSON')
    .action(async (file: string, options: Options) => {
      const bytes = readFileSync(file);
      const verify = async (connected: Connected | null): Promise<void> => {
        const result = await verifyAuditorPackage(bytes, connected === null ? {} : { pool: connected.database.pool });
        if (options.json === true) process.stdout.write(`${JSON.stringify({ ok: result.ok, problems: result.problems, checked: result.checked }, null, 2)}\n`);
        else {
          for (const line of result.checked) process.stdout.write(`checked  ${line}\n`);
          for (const problem of result.problems) process.stdout.write(`FAILED   ${problem.check}: ${problem.detail}\n`);
          process.stdout.write(result.ok ? `${file}: the package verifies\n` : `${file}: the package does NOT verify (${result.problems.length} problem(s))\n`);
        }
        if (!result.ok) process.exitCode = 1;
      };
      if (options.database === true) await withConnection(verify);
      else await verify(null);
      process.exit(process.exitCode ?? 0);
    });

  program
    .command('isp-profile')
    .description("show, or set with the options given, what the ISP's documents print: address, phone, email, locale, logo, payment note")
    .requiredOption('--isp <id>', 'the ISP')
    .option('--address <text>', 'postal address (use \\n for a new line)')
    .option('--phone <text>', 'phone')
    .option('--email <address>', 'email')
    .option('--locale <tag>', 'how amounts and dates are written: en-BD (default), bn-BD, …')
    .option('--logo <file>', 'a PNG or JPEG of at most 64 KiB, or "none"')
    .option('--payment-note <text>', 'how to pay, printed on invoices')
    .option('--by <who>', 'who sets it (recorded on the event)', 'cli')
    .action(async (options: Options) =>
      withConnection(async (connected) => {
        const isp = String(options.isp);
        const current = await loadIspProfile(connected.database.pool, isp);
        if (current === null) throw new BooksQueryError('INVALID_INPUT', `there is no ISP ${isp} (in the read models)`);
        const changing = ['address', 'phone', 'email', 'locale', 'logo', 'paymentNote'].some((key) => options[key] !== undefined);
        if (changing) {
          const logoFile = options.logo as string | undefined;
          const logo =
            logoFile === undefined
              ? current.logo === null
                ? null
                : { media_type: current.logo.media_type, data_base64: current.logo.data_base64 }
              : logoFile === 'none'
                ? null
                : (() => {
                    const bytes = readFileSync(logoFile);
                    return { media_type: bytes[0] === 0xff ? ('image/jpeg' as const) : ('image/png' as const), data_base64: bytes.toString('base64') };
                  })();
          const text = (key: string, now: string | null): string | null => (options[key] === undefined ? now : String(options[key]));
          const result = await setIspProfile(commandRuntime(connected), { tenant: isp, actor: { id: String(options.by), role: 'admin' } }, {
            operator_id: isp,
            address: (text('address', current.address) ?? '').replaceAll('\\n', '\n'),
            phone: text('phone', current.phone),
            email: text('email', current.email),
            locale: text('locale', current.locale),
            logo,
            payment_note: text('paymentNote', current.payment_note),
          });
          if (!result.ok) throw Object.assign(new Error(result.rejection.message), { code: result.rejection.code });
          process.stderr.write(`profile of ${isp} set (the read models show it once the projector has it)\n`);
        }
        const shown = changing ? ((await loadIspProfile(connected.database.pool, isp)) ?? current) : current;
        process.stdout.write(`${JSON.stringify({ ...shown, logo: shown.logo === null ? null : { media_type: shown.logo.media_type, bytes: Buffer.from(shown.logo.data_base64, 'base64').length, sha256: shown.logo.sha256 } }, null, 2)}\n`);
      }),
    );
}

import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { addAccount, closePeriod, postManualEntry, reverseEntry } from '../../commands/book-commands.js';
import { localDateOf } from '../../domain/calendar/local-date.js';
import { arAging, type ArAging } from '../../projections/queries/books-aging.js';
import { entryLookup } from '../../projections/queries/books-entries.js';
import { exportHledgerJournal } from '../../projections/queries/books-hledger.js';
import { customerStatement, generalLedger, journal, type CustomerStatement, type JournalPage, type Ledger } from '../../projections/queries/books-journal.js';
import { resellerStatement, type ResellerStatement } from '../../projections/queries/books-reseller.js';
import { balanceSheet, incomeStatement, trialBalance, type BalanceSheet, type IncomeStatement, type TrialBalance } from '../../projections/queries/books-statements.js';
import { envelopeOf } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { errorReplies } from '../errors.js';
import { consistentWith, customerInScope, operatorInScope, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, replyOf, requiredIdempotencyKey } from './command-reply.js';
import { asOf, booksQuery, daySql, idFromKey, localDay, money, operatorSubtreeSql, pageLimit, text } from './route-kit.js';

/**
 * The books of the operators in my subtree (one book per operator, its id the operator's): the reports, each
 * as of a date or a log position, the journal for hledger, and the bookkeeper's own entries — manual entries,
 * reversals, period closes and accounts (books.write, which needs a passkey step-up; manual entries and
 * reversals move money, so they need an Idempotency-Key too).
 */

// --- reply schemas: the report types, checked against them at compile time ------------------------------------------

type Mutable<T> = T extends readonly (infer Item)[] ? Mutable<Item>[] : T extends object ? { -readonly [Key in keyof T]: Mutable<T[Key]> } : T;
/** The report type must fit the reply schema: a field the report renames or drops breaks the build here, not a reply. */
const mirrors = <Report>() => <Schema extends z.ZodType>(schema: Schema & (Mutable<Report> extends z.input<Schema> ? unknown : never)): Schema => schema;

const bookSummary = z.object({
  book_id: z.string(),
  name: z.string(),
  role: z.string(),
  parent_id: z.string().nullable(),
  currency: z.string(),
  time_zone: z.string(),
  closed_through: z.string().nullable(),
});
const reportHead = { book: bookSummary, as_of: z.string(), currency: z.string() };

const trialBalanceReply = mirrors<TrialBalance>()(
  z.object({
    ...reportHead,
    accounts: z.array(
      z.object({ code: z.string(), name: z.string(), type: z.string(), normal_side: z.string(), debit: z.string(), credit: z.string(), balance: z.string(), balance_debit: z.string(), balance_credit: z.string() }),
    ),
    totals: z.object({ debit: z.string(), credit: z.string(), balance_debit: z.string(), balance_credit: z.string() }),
  }),
);

const section = z.object({ accounts: z.array(z.object({ code: z.string(), name: z.string(), amount: z.string() })), total: z.string() });
const balanceSheetReply = mirrors<BalanceSheet>()(
  z.object({ ...reportHead, assets: section, liabilities: section, equity: section.extend({ current_earnings: z.string() }), liabilities_and_equity: z.string() }),
);
const incomeStatementReply = mirrors<IncomeStatement>()(z.object({ ...reportHead, from: z.string(), to: z.string(), revenue: section, expenses: section, net_income: z.string() }));

const journalReply = mirrors<JournalPage>()(
  z.object({
    ...reportHead,
    entries: z.array(
      z.object({
        entry_id: z.string(),
        date: z.string(),
        global_position: z.string(),
        source_event_id: z.string(),
        source_type: z.string(),
        kind: z.string(),
        memo: z.string(),
        reverses_entry_id: z.string().nullable(),
        reversed_by_entry_id: z.string().nullable(),
        lines: z.array(
          z.object({ line_no: z.number(), account_code: z.string(), account_name: z.string(), party: z.string().nullable(), debit: z.string(), credit: z.string(), due_on: z.string().nullable() }),
        ),
      }),
    ),
    next: z.string().nullable(),
  }),
);

const ledgerFields = {
  ...reportHead,
  account: z.object({ code: z.string(), name: z.string(), type: z.string(), normal_side: z.string() }),
  party: z.string().nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  opening: z.string(),
  page_opening: z.string(),
  lines: z.array(
    z.object({
      date: z.string(),
      entry_id: z.string(),
      line_no: z.number(),
      global_position: z.string(),
      kind: z.string(),
      memo: z.string(),
      party: z.string().nullable(),
      debit: z.string(),
      credit: z.string(),
      due_on: z.string().nullable(),
      balance: z.string(),
    }),
  ),
  closing: z.string(),
  next: z.string().nullable(),
};
const ledgerReply = mirrors<Ledger>()(z.object(ledgerFields));
export const customerStatementReply = mirrors<CustomerStatement>()(z.object({ ...ledgerFields, customer_id: z.string(), owner: z.string().nullable() }));

const counterparty = { operator_id: z.string(), name: z.string().nullable(), opening: z.string(), closing: z.string() };
const resellerStatementReply = mirrors<ResellerStatement>()(
  z.object({
    ...reportHead,
    from: z.string().nullable(),
    to: z.string().nullable(),
    commission_earned: z.string(),
    wallet: z.object({ ...counterparty, account: z.string() }).nullable(),
    children: z.array(z.object(counterparty)),
    commission_lines: z
      .array(z.object({ global_position: z.string(), at: z.string(), kind: z.string(), customer_id: z.string(), payment_id: z.string(), refund_id: z.string().nullable(), amount: z.string() }))
      .nullable(),
    commission_lines_total: z.string().nullable(),
  }),
);

const agingFields = { balance: z.string(), credit: z.string(), current: z.string(), days_1_30: z.string(), days_31_60: z.string(), days_61_90: z.string(), over_90: z.string() };
const agingReply = mirrors<ArAging>()(z.object({ ...reportHead, aged_on: z.string(), customers: z.array(z.object({ customer_id: z.string(), ...agingFields })), totals: z.object(agingFields) }));

// --- routes -----------------------------------------------------------------------------------------------------------

const bookParams = z.object({ operator_id: ID });
const period = { from: localDay.optional(), to: localDay.optional() };
const paging = (max: number, fallback: number) => ({ limit: pageLimit(max, fallback), after: z.string().max(600).optional() });

export const bookRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime, clock }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['books'];
  const books = { capability: 'books.read' as const, scope: 'operator' as const };
  const reports = { capability: 'reports.read' as const, scope: 'operator' as const };

  app.get(
    '/api/v1/books',
    {
      config: { access: { capability: 'books.read', scope: 'tenant', example: { query: {} } } },
      schema: {
        tags,
        summary: 'The books of my operator and the operators below it',
        querystring: z.object({}).strict(),
        response: { 200: z.object({ books: z.array(bookSummary.extend({ tenant: z.string() })) }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['books', 'operators']);
      const found = await pool.query(
        `SELECT b.book_id, b.tenant, b.role, b.parent_id, b.name, b.currency, b.time_zone, ${daySql('b.closed_through')} AS closed_through
           FROM books b JOIN operators o ON o.operator_id = b.book_id
          WHERE b.tenant = $1 AND ${operatorSubtreeSql('o.operator_id', 'o.ancestry', '$2')} ORDER BY b.book_id LIMIT 10000`,
        [caller.tenant, caller.operator_id],
      );
      return { books: found.rows };
    },
  );

  /** A report on one book of my subtree; the report checks its own input and says what was wrong. */
  const report = <Query extends z.ZodRawShape, Reply extends z.ZodType>(
    path: string,
    access: typeof books | typeof reports,
    summary: string,
    query: Query,
    example: Readonly<Record<string, string>>,
    reply: Reply,
    /** The report's own type was checked against `reply` by `mirrors`; its arrays are readonly, the schema's are not. */
    run: (book_id: string, query: z.infer<z.ZodObject<Query>>, tenant: string) => Promise<unknown>,
  ): void => {
    // The reply schema is generic here, which the type provider cannot resolve: the route is typed by hand.
    plugin.get(
      `/api/v1/books/:operator_id/${path}`,
      { config: { access: { ...access, example: { query: example } } }, schema: { tags, summary, params: bookParams, querystring: z.object(query).strict(), response: { 200: reply, ...errorReplies } } },
      async (request) => {
        const caller = callerOf(request);
        const { operator_id } = request.params as z.infer<typeof bookParams>;
        await consistentWith(pool, request.headers[POSITION_HEADER], ['books']);
        await operatorInScope(pool, caller, operator_id);
        return booksQuery(() => run(operator_id, request.query as z.infer<z.ZodObject<Query>>, caller.tenant));
      },
    );
  };

  const defined = <Values extends Record<string, unknown>>(values: Values): Partial<Values> => Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<Values>;

  report('trial-balance', books, 'Trial balance: every account with its debits, credits and balance; both columns sum alike', { as_of: asOf.optional() }, { as_of: '2026-11-30' }, trialBalanceReply, (book_id, query, tenant) =>
    trialBalance(pool, { book_id, tenant, ...defined(query) }),
  );
  report('balance-sheet', books, 'Balance sheet: assets = liabilities + equity (with the earnings to date)', { as_of: asOf.optional() }, {}, balanceSheetReply, (book_id, query, tenant) =>
    balanceSheet(pool, { book_id, tenant, ...defined(query) }),
  );
  report(
    'income-statement',
    books,
    'Income statement: revenue and expenses of a period',
    { as_of: asOf.optional(), from: localDay, to: localDay },
    { from: '2026-11-01', to: '2026-11-30' },
    incomeStatementReply,
    (book_id, query, tenant) => incomeStatement(pool, { book_id, tenant, ...defined(query), from: query.from, to: query.to }),
  );
  report('journal', books, 'The journal: entries in date order with their lines, a page at a time', { as_of: asOf.optional(), ...period, ...paging(1000, 100) }, { limit: '50' }, journalReply, (book_id, query, tenant) =>
    journal(pool, { book_id, tenant, ...defined(query) }),
  );
  report(
    'ledger',
    books,
    'General ledger of one account (optionally one party of it) with its running balance',
    { account: z.string().regex(/^\d{4}$/, 'an account code: four digits'), party: z.string().min(1).max(64).optional(), as_of: asOf.optional(), ...period, ...paging(10_000, 1000) },
    { account: '1000' },
    ledgerReply,
    (book_id, query, tenant) => generalLedger(pool, { book_id, tenant, ...defined(query), account: query.account }),
  );
  report('reseller-statement', reports, "Reseller statement: commission earned, the wallet with the parent, what each child is owed", { as_of: asOf.optional(), ...period }, {}, resellerStatementReply, (book_id, query, tenant) =>
    resellerStatement(pool, { book_id, tenant, ...defined(query) }),
  );
  report(
    'ar-aging',
    reports,
    "Accounts receivable aging: what each customer owes, by how long it is past due (aged_on defaults to the as-of date, else today in the book's zone)",
    { as_of: asOf.optional(), aged_on: localDay.optional() },
    {},
    agingReply,
    async (book_id, query, tenant) => {
      let aged_on = query.aged_on;
      if (aged_on === undefined && !/^\d{4}-\d{2}-\d{2}$/.test(query.as_of ?? '')) {
        const zone = await pool.query<{ time_zone: string }>('SELECT time_zone FROM books WHERE book_id = $1', [book_id]);
        if (zone.rows[0] !== undefined) aged_on = localDateOf(clock.now(), zone.rows[0].time_zone);
      }
      return arAging(pool, { book_id, tenant, ...defined({ as_of: query.as_of, aged_on }) });
    },
  );

  app.get(
    '/api/v1/customers/:customer_id/statement',
    {
      config: { access: { capability: 'reports.read', scope: 'customer', example: { query: {} } } },
      schema: {
        tags,
        summary: "A customer's statement: its account in a book (its own operator's unless book_id names another on its chain) with every bill, payment and refund and the balance after each",
        params: z.object({ customer_id: ID }),
        querystring: z.object({ book_id: ID.optional(), as_of: asOf.optional(), ...period, ...paging(10_000, 1000) }).strict(),
        response: { 200: customerStatementReply, ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['books', 'customers']);
      await customerInScope(pool, caller, request.params.customer_id);
      const { book_id: chosen, ...rest } = request.query;
      const customer = await pool.query<{ operator_id: string }>('SELECT operator_id FROM customers WHERE customer_id = $1', [request.params.customer_id]);
      const book_id = chosen ?? customer.rows[0]!.operator_id;
      // Another book on the customer's chain (the reseller's, the ISP's) must be one the caller may read too.
      if (chosen !== undefined) await operatorInScope(pool, caller, chosen);
      return (await booksQuery(() => customerStatement(pool, { book_id, tenant: caller.tenant, customer_id: request.params.customer_id, ...defined(rest) }))) as z.infer<typeof customerStatementReply>;
    },
  );

  app.get(
    '/api/v1/books/:operator_id/journal.hledger',
    {
      config: { access: { ...books, example: { query: {} } } },
      schema: {
        tags,
        summary: 'The journal as hledger/ledger text, for an independent check (`hledger -f book.journal balance`)',
        params: bookParams,
        querystring: z.object({ as_of: asOf.optional(), ...period }).strict(),
        produces: ['text/plain'],
        response: { 200: z.string(), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['books']);
      await operatorInScope(pool, caller, request.params.operator_id);
      // Streamed a page of entries at a time; a refusal (bad input, no book) comes before the first line is written,
      // and is answered as any refusal; a failure after that can only cut the stream short.
      const body = new PassThrough();
      let writing = false;
      let started!: () => void;
      const first = new Promise<'streaming'>((resolve) => {
        started = () => resolve('streaming');
      });
      const exported = booksQuery(() =>
        exportHledgerJournal(pool, { book_id: request.params.operator_id, tenant: caller.tenant, ...defined(request.query) }, async (chunk) => {
          writing = true;
          started();
          if (!body.write(chunk)) await once(body, 'drain');
        }),
      );
      void exported.then(
        () => body.end(),
        (error: unknown) => {
          if (writing) body.destroy(error instanceof Error ? error : new Error(String(error)));
        },
      );
      await Promise.race([first, exported]);
      return reply.type('text/plain; charset=utf-8').header('content-disposition', `attachment; filename="${request.params.operator_id}.journal"`).send(body as never);
    },
  );

  // --- the bookkeeper's commands -----------------------------------------------------------------------------------

  app.get(
    '/api/v1/books/:operator_id/accounts',
    {
      config: { access: books },
      schema: {
        tags,
        summary: "The book's chart of accounts: the template's and its own",
        params: bookParams,
        response: { 200: z.object({ accounts: z.array(z.object({ code: z.string(), name: z.string(), type: z.string(), normal_side: z.string(), party_kind: z.string().nullable(), custom: z.boolean() })) }), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['books']);
      await operatorInScope(pool, caller, request.params.operator_id);
      const found = await pool.query('SELECT code, name, type, normal_side, party_kind, custom FROM book_accounts WHERE book_id = $1 ORDER BY code', [request.params.operator_id]);
      return { accounts: found.rows };
    },
  );

  const write = { capability: 'books.write' as const, scope: 'operator' as const };

  app.post(
    '/api/v1/books/:operator_id/accounts',
    {
      config: { access: { ...write, example: { body: { code: '5300', name: 'Bank charges' } } } },
      schema: {
        tags,
        summary: 'Add an account to the book (four digits; the first says the type: 1 asset … 5 expense)',
        params: bookParams,
        body: z.object({ code: z.string().regex(/^\d{4}$/, 'four digits'), name: text(80) }).strict(),
        response: { 201: commandReply(z.object({ code: z.string() })), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.params.operator_id);
      return reply.code(201).send(replyOf(await addAccount(runtime, envelopeOf(caller), { book_id: request.params.operator_id, ...request.body })));
    },
  );

  app.post(
    '/api/v1/books/:operator_id/entries',
    {
      config: {
        access: {
          ...write,
          example: { body: { date: '2026-11-16', memo: 'Opening cash', lines: [{ account_code: '1000', debit: '100.00' }, { account_code: '3000', credit: '100.00' }] } },
        },
      },
      schema: {
        tags,
        summary: 'Post a manual entry (balanced; a party on per-party accounts; not in a closed period). Needs an Idempotency-Key.',
        params: bookParams,
        body: z
          .object({
            entry_id: ID.optional(),
            date: localDay,
            memo: text(200),
            lines: z
              .array(z.object({ account_code: z.string().regex(/^\d{4}$/, 'four digits'), party: ID.nullable().optional(), debit: money.optional(), credit: money.optional() }).strict())
              .min(2)
              .max(100),
          })
          .strict(),
        response: { 201: commandReply(z.object({ entry_id: z.string() })), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const key = requiredIdempotencyKey(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.params.operator_id);
      const entry_id = request.body.entry_id ?? idFromKey('man', key);
      return reply.code(201).send(replyOf(await postManualEntry(runtime, envelopeOf(caller, key), { book_id: request.params.operator_id, ...request.body, entry_id })));
    },
  );

  app.post(
    '/api/v1/books/:operator_id/entries/:entry_id/reversal',
    {
      config: { access: { ...write, example: { body: { reason: 'posted twice' } } } },
      schema: {
        tags,
        summary: 'Reverse an entry: a new entry with the opposite lines, dated in the open period (once per entry). Needs an Idempotency-Key.',
        params: bookParams.extend({ entry_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'an entry id as the journal shows it') }),
        body: z.object({ reason: text(200), reversal_entry_id: ID.optional() }).strict(),
        response: { 201: commandReply(z.object({ reversal_entry_id: z.string() })), ...errorReplies },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const key = requiredIdempotencyKey(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['books']);
      await operatorInScope(pool, caller, request.params.operator_id);
      const result = await reverseEntry(
        runtime,
        envelopeOf(caller, key),
        { book_id: request.params.operator_id, entry_id: request.params.entry_id, reversal_entry_id: request.body.reversal_entry_id ?? idFromKey('rev', key), reason: request.body.reason },
        entryLookup(pool),
      );
      return reply.code(201).send(replyOf(result));
    },
  );

  app.post(
    '/api/v1/books/:operator_id/period-close',
    {
      config: { access: { ...write, example: { body: { through: '2026-10-31' } } } },
      schema: {
        tags,
        summary: 'Close the book through a day: no entry may be dated on or before it afterwards (corrections land in the open period); never reopened',
        params: bookParams,
        body: z.object({ through: localDay }).strict(),
        response: { 200: commandReply(z.null()), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      await operatorInScope(pool, caller, request.params.operator_id);
      return replyOf(await closePeriod(runtime, envelopeOf(caller), { book_id: request.params.operator_id, through: request.body.through }));
    },
  );
};


import { PassThrough, type Writable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { setIspProfile } from '../../commands/operator-commands.js';
import { MAX_LOGO_BYTES } from '../../domain/operators/operator.js';
import { writeAuditorPackage } from '../../documents/auditor-package.js';
import { CONTENT_TYPES, EXPORT_FORMATS, exportTable, type ExportFormat } from '../../documents/exports.js';
import {
  balanceSheetPdf,
  customerStatementPdf,
  incomeStatementPdf,
  invoicePdf,
  receiptPdf,
  resellerStatementPdf,
  trialBalancePdf,
  writeBillRunPdf,
} from '../../documents/pdf-documents.js';
import { billsTable, cardBatchesTable, collectionsTable, customersTable, generalLedgerTable, journalTable, paymentsTable, trialBalanceTable, type ExportTable } from '../../documents/tables.js';
import { loadIspProfile } from '../../projections/queries/isp-profile.js';
import type { ListScope } from '../../projections/queries/list-scope.js';
import { envelopeOf, requireCapability, type Caller } from '../access/caller.js';
import { callerOf } from '../access/route-access.js';
import type { ApiDependencies } from '../dependencies.js';
import { ApiError, errorReplies } from '../errors.js';
import { consistentWith, customerInScope, operatorInScope, POSITION_HEADER } from '../scope.js';
import { commandReply, ID, replyOf } from './command-reply.js';
import { asOf, atIspLevel, booksQuery, localDay, RECORD_ID, yearMonth } from './route-kit.js';

/**
 * Documents and exports over HTTP: the PDFs (an invoice, a bill run's invoices in one file, a money receipt,
 * statements, the books' reports), the table exports as XLSX or CSV, the auditor's package, and the ISP profile
 * the documents print. Every document is made by documents/ from the same read-model queries the JSON routes
 * use, within the caller's subtree. Big ones (a bill run, exports, the package) stream: a refusal comes before
 * the first byte as any refusal does; a failure after it can only cut the download short.
 */
const bookParams = z.object({ operator_id: ID });
const format = z.enum(EXPORT_FORMATS).default('xlsx');

/** Staff see their subtree; the ISP's own people see the whole ISP (their operator is the ISP, which every chain holds). */
const scopeOf = (caller: Caller): ListScope => ({ tenant: caller.tenant, operator_id: caller.operator_id, customer_id: null });

/**
 * A customer acting for itself (the portal): its own rows only. These two routes are `authenticated` (see below),
 * so the portal's rule is applied here: a customer's login or token with self.read sees its own bills and
 * payments; anyone else has none ("me" is not a customer), which reads as not found.
 */
function customerScope(caller: Caller, clock: ApiDependencies['clock']): ListScope {
  if (caller.principal_kind !== 'customer') throw new ApiError('NOT_FOUND', 'a staff login has no bills or payments of its own: these are the customer portal’s routes; staff use /api/v1/bills and /api/v1/payments');
  requireCapability(caller, 'self.read', clock);
  return { tenant: caller.tenant, operator_id: null, customer_id: caller.principal_id };
}

const fileName = (text: string): string => text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);

function sendPdf(reply: FastifyReply, bytes: Buffer, name: string): FastifyReply {
  return reply.type(CONTENT_TYPES.pdf).header('content-disposition', `inline; filename="${fileName(name)}.pdf"`).send(bytes);
}

/**
 * Streams what `work` writes. The reply starts with the first byte written; until then a refusal (bad input,
 * nothing found) is answered as any refusal, with its code.
 */
async function streamDownload(reply: FastifyReply, content_type: string, name: string, work: (out: Writable) => Promise<unknown>): Promise<FastifyReply> {
  const body = new PassThrough();
  let streaming = false;
  let started!: () => void;
  const first = new Promise<'streaming'>((resolve) => {
    started = () => {
      streaming = true;
      resolve('streaming');
    };
  });
  const gate = new PassThrough();
  gate.once('data', () => started());
  gate.pipe(body);
  const working = booksQuery(() => work(gate));
  void working.then(
    () => {
      if (!gate.writableEnded) gate.end();
    },
    (error: unknown) => {
      // Before the first byte the refusal is the reply; after it, the download is cut short.
      if (streaming) body.destroy(error instanceof Error ? error : new Error(String(error)));
    },
  );
  await Promise.race([first, working]);
  return reply.type(content_type).header('content-disposition', `attachment; filename="${fileName(name)}"`).send(body);
}

const profileReply = z.object({
  isp_id: z.string(),
  name: z.string(),
  currency: z.string(),
  time_zone: z.string(),
  address: z.string(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  locale: z.string().nullable(),
  logo: z.object({ media_type: z.string(), bytes: z.number(), sha256: z.string() }).nullable(),
  payment_note: z.string().nullable(),
});

export const documentRoutes: FastifyPluginAsync<ApiDependencies> = async (plugin, { pool, runtime, clock }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>();
  const tags = ['documents'];
  const pdf = { 200: z.any().describe('application/pdf'), ...errorReplies };
  const file = { 200: z.any().describe('the file'), ...errorReplies };

  // --- bills and payments -------------------------------------------------------------------------------------------

  app.get(
    '/api/v1/bills/:bill_id/invoice.pdf',
    {
      config: { access: { capability: 'customers.read', scope: 'customer' } },
      schema: { tags, summary: "A bill's invoice (PDF): the ISP's letterhead, period and package, payments applied, balance due, due date and payment reference", params: z.object({ bill_id: RECORD_ID }), produces: [CONTENT_TYPES.pdf], response: pdf },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing', 'customers', 'operators']);
      return sendPdf(reply, await invoicePdf(pool, scopeOf(caller), request.params.bill_id, clock.now()), `invoice-${request.params.bill_id}`);
    },
  );

  app.get(
    '/api/v1/payments/:payment_id/receipt.pdf',
    {
      config: { access: { capability: 'customers.read', scope: 'customer' } },
      schema: { tags, summary: 'A payment’s money receipt (PDF): from whom, the sum in figures and words, how and by whom, what it paid', params: z.object({ payment_id: RECORD_ID }), produces: [CONTENT_TYPES.pdf], response: pdf },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing', 'customers', 'operators']);
      return sendPdf(reply, await receiptPdf(pool, scopeOf(caller), request.params.payment_id, clock.now()), `receipt-${request.params.payment_id}`);
    },
  );

  // The portal's copies. They are `authenticated` rather than `self.read` because the rule is "my own bill":
  // the authorisation matrix aims every route at fixtures of other people, and a customer's own bill is not one
  // of them. customerScope() applies the portal's rule (a customer, with self.read) before anything is read.
  app.get(
    '/api/v1/me/bills/:bill_id/invoice.pdf',
    {
      config: { access: { capability: 'authenticated', scope: 'none' } },
      schema: { tags: ['portal', ...tags], summary: 'My invoice for one of my bills (PDF)', params: z.object({ bill_id: RECORD_ID }), produces: [CONTENT_TYPES.pdf], response: pdf },
    },
    async (request, reply) => {
      const scope = customerScope(callerOf(request), clock);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing', 'customers', 'operators']);
      return sendPdf(reply, await invoicePdf(pool, scope, request.params.bill_id, clock.now()), `invoice-${request.params.bill_id}`);
    },
  );

  app.get(
    '/api/v1/me/payments/:payment_id/receipt.pdf',
    {
      config: { access: { capability: 'authenticated', scope: 'none' } },
      schema: { tags: ['portal', ...tags], summary: 'My money receipt for one of my payments (PDF)', params: z.object({ payment_id: RECORD_ID }), produces: [CONTENT_TYPES.pdf], response: pdf },
    },
    async (request, reply) => {
      const scope = customerScope(callerOf(request), clock);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing', 'customers', 'operators']);
      return sendPdf(reply, await receiptPdf(pool, scope, request.params.payment_id, clock.now()), `receipt-${request.params.payment_id}`);
    },
  );

  app.get(
    '/api/v1/bill-runs/invoices.pdf',
    {
      config: { access: { capability: 'customers.read', scope: 'tenant', example: { query: { period: '2026-11' } } } },
      schema: {
        tags,
        summary: "Every invoice of a bill run as one PDF (the bills of a period in my subtree, or one operator's; optionally those issued on one day), by zone and customer name; streamed",
        querystring: z.object({ period: yearMonth, issued_on: localDay.optional(), kind: z.enum(['monthly', 'first-period', 'proration']).optional(), operator_id: ID.optional() }).strict(),
        produces: [CONTENT_TYPES.pdf],
        response: pdf,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['billing', 'customers', 'operators']);
      const { operator_id, ...selection } = request.query;
      if (operator_id !== undefined) await operatorInScope(pool, caller, operator_id);
      const scope = { ...scopeOf(caller), operator_id: operator_id ?? caller.operator_id };
      return streamDownload(reply, CONTENT_TYPES.pdf, `invoices-${selection.period}.pdf`, (out) => writeBillRunPdf(pool, scope, selection, out, { generated_at: clock.now() }));
    },
  );

  // --- statements and the books' reports ---------------------------------------------------------------------------------

  app.get(
    '/api/v1/customers/:customer_id/statement.pdf',
    {
      config: { access: { capability: 'reports.read', scope: 'customer', example: { query: {} } } },
      schema: {
        tags,
        summary: "A customer's statement of account (PDF), in its own operator's book unless book_id names another on its chain",
        params: z.object({ customer_id: ID }),
        querystring: z.object({ book_id: ID.optional(), as_of: asOf.optional(), from: localDay.optional(), to: localDay.optional() }).strict(),
        produces: [CONTENT_TYPES.pdf],
        response: pdf,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['books', 'customers']);
      await customerInScope(pool, caller, request.params.customer_id);
      const { book_id: chosen, ...rest } = request.query;
      const owner = await pool.query<{ operator_id: string }>('SELECT operator_id FROM customers WHERE customer_id = $1', [request.params.customer_id]);
      if (chosen !== undefined) await operatorInScope(pool, caller, chosen);
      const book_id = chosen ?? owner.rows[0]!.operator_id;
      const bytes = await booksQuery(() => customerStatementPdf(pool, scopeOf(caller), { book_id, customer_id: request.params.customer_id, ...defined(rest) }, clock.now()));
      return sendPdf(reply, bytes, `statement-${request.params.customer_id}`);
    },
  );

  const bookPdf = <Query extends z.ZodRawShape>(
    path: string,
    capability: 'books.read' | 'reports.read',
    summary: string,
    query: Query,
    example: Readonly<Record<string, string>>,
    make: (book_id: string, query: Record<string, string | undefined>, tenant: string) => Promise<Buffer>,
  ): void => {
    plugin.get(
      `/api/v1/books/:operator_id/${path}.pdf`,
      { config: { access: { capability, scope: 'operator', example: { query: example } } }, schema: { tags, summary, params: bookParams, querystring: z.object(query).strict(), produces: [CONTENT_TYPES.pdf], response: pdf } },
      async (request, reply) => {
        const caller = callerOf(request);
        const { operator_id } = request.params as z.infer<typeof bookParams>;
        await consistentWith(pool, request.headers[POSITION_HEADER], ['books']);
        await operatorInScope(pool, caller, operator_id);
        const bytes = await booksQuery(() => make(operator_id, request.query as Record<string, string | undefined>, caller.tenant));
        return sendPdf(reply, bytes, `${path}-${operator_id}`);
      },
    );
  };
  bookPdf('trial-balance', 'books.read', 'Trial balance (PDF), as of a date or a log position', { as_of: asOf.optional() }, {}, (book_id, query, tenant) =>
    trialBalancePdf(pool, { book_id, tenant, ...defined(query) }, clock.now()),
  );
  bookPdf('balance-sheet', 'books.read', 'Balance sheet (PDF), as of a date or a log position', { as_of: asOf.optional() }, {}, (book_id, query, tenant) =>
    balanceSheetPdf(pool, { book_id, tenant, ...defined(query) }, clock.now()),
  );
  bookPdf('income-statement', 'books.read', 'Income statement of a period (PDF)', { as_of: asOf.optional(), from: localDay, to: localDay }, { from: '2026-11-01', to: '2026-11-30' }, (book_id, query, tenant) =>
    incomeStatementPdf(pool, { book_id, tenant, ...defined(query), from: query.from!, to: query.to! }, clock.now()),
  );
  bookPdf(
    'reseller-statement',
    'reports.read',
    "Reseller's commission statement (PDF): commission earned, the wallet with the parent, what each child is owed, payment by payment",
    { as_of: asOf.optional(), from: localDay.optional(), to: localDay.optional() },
    {},
    (book_id, query, tenant) => resellerStatementPdf(pool, { book_id, tenant, ...defined(query) }, clock.now()),
  );

  // --- table exports ---------------------------------------------------------------------------------------------------------

  const download = (reply: FastifyReply, table: ExportTable, chosen: ExportFormat): Promise<FastifyReply> =>
    streamDownload(reply, CONTENT_TYPES[chosen], `${table.name}.${chosen}`, (out) => exportTable(pool, table, chosen, out, { created_at: clock.now() }));

  const tableExport = <Query extends z.ZodRawShape>(
    name: string,
    capability: 'customers.read' | 'cards.read',
    summary: string,
    query: Query,
    make: (caller: Caller, query: Record<string, string | undefined>) => Promise<ExportTable>,
  ): void => {
    plugin.get(
      `/api/v1/exports/${name}`,
      {
        config: { access: { capability, scope: 'tenant', example: { query: { format: 'csv' } } } },
        schema: { tags, summary: `${summary}: XLSX (typed cells, frozen and filtered header) or CSV, streamed`, querystring: z.object({ format, ...query }).strict(), produces: [CONTENT_TYPES.xlsx, CONTENT_TYPES.csv], response: file },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        await consistentWith(pool, request.headers[POSITION_HEADER], ['customers', 'billing', 'operators', 'cards', 'dashboard']);
        const { format: chosen, ...rest } = request.query as { format: ExportFormat } & Record<string, string | undefined>;
        return download(reply, await make(caller, defined(rest)), chosen);
      },
    );
  };
  const withOperator = async (caller: Caller, operator_id: string | undefined): Promise<ListScope> => {
    if (operator_id === undefined) return scopeOf(caller);
    await operatorInScope(pool, caller, operator_id);
    return { ...scopeOf(caller), operator_id };
  };
  tableExport(
    'customers',
    'customers.read',
    'Customers in my subtree (or one operator’s) with package, status, expiry, balance due and credit',
    { operator_id: ID.optional(), zone: z.string().min(1).max(64).optional(), status: z.enum(['active', 'suspended', 'expired', 'disabled']).optional(), package_id: ID.optional() },
    async (caller, { operator_id, ...filter }) => customersTable(await withOperator(caller, operator_id), filter),
  );
  tableExport(
    'bills',
    'customers.read',
    'Bills in my subtree with what is paid and open',
    { operator_id: ID.optional(), period: yearMonth.optional(), status: z.enum(['open', 'partially_paid', 'paid']).optional(), from: localDay.optional(), to: localDay.optional() },
    async (caller, { operator_id, ...filter }) => billsTable(await withOperator(caller, operator_id), filter),
  );
  tableExport(
    'payments',
    'customers.read',
    'Payments in my subtree: method, collector, what each paid for',
    { operator_id: ID.optional(), method: z.enum(['cash', 'online', 'card', 'reseller_wallet']).optional(), collected_by: z.string().min(1).max(64).optional(), from: z.iso.datetime({ offset: true }).optional(), until: z.iso.datetime({ offset: true }).optional() },
    async (caller, { operator_id, ...filter }) => paymentsTable(await withOperator(caller, operator_id), filter),
  );
  tableExport(
    'collections',
    'customers.read',
    "Collections per collector: what each took in per day (the ISP's days) and method, net of refunds",
    { operator_id: ID.optional(), from: localDay.optional(), to: localDay.optional(), collected_by: z.string().min(1).max(64).optional() },
    async (caller, { operator_id, ...filter }) => collectionsTable(await withOperator(caller, operator_id), filter),
  );
  tableExport('card-batches', 'cards.read', 'Card batches with their cards by status and the value redeemed (the cards I hold, or all at the ISP level)', {}, async (caller) =>
    cardBatchesTable(atIspLevel(caller) ? { tenant: caller.tenant, operator_id: null, customer_id: null } : scopeOf(caller), clock.now()),
  );

  const bookExport = <Query extends z.ZodRawShape>(name: string, summary: string, query: Query, make: (book_id: string, tenant: string, query: Record<string, string | undefined>) => ExportTable): void => {
    plugin.get(
      `/api/v1/books/:operator_id/exports/${name}`,
      {
        config: { access: { capability: 'books.read', scope: 'operator', example: { query: { format: 'csv' } } } },
        schema: { tags, summary: `${summary}: XLSX or CSV, streamed`, params: bookParams, querystring: z.object({ format, as_of: asOf.optional(), ...query }).strict(), produces: [CONTENT_TYPES.xlsx, CONTENT_TYPES.csv], response: file },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { operator_id } = request.params as z.infer<typeof bookParams>;
        await consistentWith(pool, request.headers[POSITION_HEADER], ['books']);
        await operatorInScope(pool, caller, operator_id);
        const { format: chosen, ...rest } = request.query as { format: ExportFormat } & Record<string, string | undefined>;
        return download(reply, make(operator_id, caller.tenant, defined(rest)), chosen);
      },
    );
  };
  bookExport('journal', 'The journal, one row per line with its entry and source event', { from: localDay.optional(), to: localDay.optional() }, (book_id, tenant, query) => journalTable({ book_id, tenant, ...query }));
  bookExport(
    'general-ledger',
    "The general ledger: every account's (or one's) opening balance, lines with the running balance, closing balance",
    { from: localDay.optional(), to: localDay.optional(), account: z.string().regex(/^\d{4}$/, 'an account code: four digits').optional() },
    (book_id, tenant, query) => generalLedgerTable({ book_id, tenant, ...query }),
  );
  bookExport('trial-balance', 'The trial balance with a total row', {}, (book_id, tenant, query) => trialBalanceTable({ book_id, tenant, ...query }));

  app.get(
    '/api/v1/books/:operator_id/auditor-package.zip',
    {
      config: { access: { capability: 'books.read', scope: 'operator', example: { query: { from: '2026-11-01', to: '2026-11-30' } } } },
      schema: {
        tags,
        summary:
          "The auditor's package of a book for a period (ZIP): trial balance, general ledger and journal (XLSX and CSV), the hledger journal, the source events with their hash-chain links, a manifest pinned to the chain head with every file's SHA-256; sealed. Check it with `ispbills verify-package`.",
        params: bookParams,
        querystring: z.object({ from: localDay, to: localDay }).strict(),
        produces: [CONTENT_TYPES.zip],
        response: file,
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      await operatorInScope(pool, caller, request.params.operator_id);
      const { from, to } = request.query;
      return streamDownload(reply, CONTENT_TYPES.zip, `auditor-package-${request.params.operator_id}-${from}-${to}.zip`, (out) =>
        writeAuditorPackage(pool, { book_id: request.params.operator_id, tenant: caller.tenant, from, to }, out, { generated_at: clock.now() }),
      );
    },
  );

  // --- the ISP's profile ----------------------------------------------------------------------------------------------------

  app.get(
    '/api/v1/isp/profile',
    {
      config: { access: { capability: 'operators.read', scope: 'tenant' } },
      schema: { tags, summary: "What the ISP's documents print: name, address, contacts, locale, logo (its size and digest), payment note", response: { 200: profileReply, ...errorReplies } },
    },
    async (request) => {
      const caller = callerOf(request);
      await consistentWith(pool, request.headers[POSITION_HEADER], ['operators']);
      const profile = await loadIspProfile(pool, caller.tenant);
      if (profile === null) throw new ApiError('NOT_FOUND', 'the ISP is not in the read models yet');
      return { ...profile, logo: profile.logo === null ? null : { media_type: profile.logo.media_type, bytes: Buffer.from(profile.logo.data_base64, 'base64').length, sha256: profile.logo.sha256 } };
    },
  );

  app.get(
    '/api/v1/isp/logo',
    {
      config: { access: { capability: 'operators.read', scope: 'tenant' } },
      schema: { tags, summary: "The ISP's logo as set (PNG or JPEG)", produces: ['image/png', 'image/jpeg'], response: file },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const profile = await loadIspProfile(pool, caller.tenant);
      if (profile === null) throw new ApiError('NOT_FOUND', 'the ISP is not in the read models yet');
      // A reachable answer without a logo: the matrix and a panel both get a 204 rather than an error.
      if (profile.logo === null) return reply.code(204).send();
      return reply.type(profile.logo.media_type).header('cache-control', 'private, max-age=300').send(Buffer.from(profile.logo.data_base64, 'base64'));
    },
  );

  app.put(
    '/api/v1/isp/profile',
    {
      config: {
        access: {
          capability: 'operators.write',
          scope: 'tenant',
          example: { body: { address: 'House 12, Road 5, Dhanmondi, Dhaka 1205', phone: '+880 9612 000111', email: 'billing@isp.example', locale: 'en-BD', logo: null, payment_note: 'bKash merchant 01700-000111' } },
        },
      },
      schema: {
        tags,
        summary: `Set what the ISP's documents print (the ISP level only): address, phone, email, locale (en-BD, bn-BD, …), a PNG or JPEG logo of at most ${MAX_LOGO_BYTES} bytes as base64 (null: none), payment note`,
        body: z
          .object({
            address: z.string().min(1).max(300),
            phone: z.string().max(40).nullable().default(null),
            email: z.string().max(254).nullable().default(null),
            locale: z.string().min(2).max(35).nullable().default(null),
            logo: z.object({ media_type: z.enum(['image/png', 'image/jpeg']), data_base64: z.string().max(Math.ceil(MAX_LOGO_BYTES / 3) * 4 + 4) }).strict().nullable().default(null),
            payment_note: z.string().max(300).nullable().default(null),
          })
          .strict(),
        response: { 200: commandReply(z.null()), ...errorReplies },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      if (!atIspLevel(caller)) throw new ApiError('NOT_PERMITTED', "the documents print the ISP's profile; only the ISP sets it");
      return replyOf(await setIspProfile(runtime, envelopeOf(caller), { operator_id: caller.tenant, ...request.body }));
    },
  );
};

/** Query fields the caller left out stay out, so each report's own defaults apply. */
function defined<Values extends Record<string, unknown>>(values: Values): { [Key in keyof Values]?: Exclude<Values[Key], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [Key in keyof Values]?: Exclude<Values[Key], undefined> };
}

import type { FastifyInstance } from 'fastify';
import ExcelJS from 'exceljs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { createLogin } from '../../api/access/logins.js';
import { settingsFor } from '../../api/dependencies.js';
import { parseCsv, verifyAuditorPackage } from '../../documents/auditor-package.js';
import { PostgresEventStore } from '../../eventstore/postgres/postgres-event-store.js';
import { as, logIn, type Session } from '../api/harness.js';
import { keep, pdfPages, pdfText } from './poppler.js';
import { buildDocumentsWorld, testLogo, type DocumentsWorld } from './world.js';

/**
 * The documents over HTTP, as the panels and an integration fetch them: PDFs, streamed exports and the
 * auditor's package, each within the caller's part of the network; the portal's own invoices and receipts; the
 * ISP profile the documents print.
 */
const PASSWORD = 'correct horse battery';
let world: DocumentsWorld;
let app: FastifyInstance;
let admin: Session;
let sub: Session;
let customer: Session;

beforeAll(async () => {
  world = await buildDocumentsWorld();
  app = await buildApp({ pool: world.database.pool, store: new PostgresEventStore(world.database.pool), logger: pino({ level: 'silent' }), clock: world.clock, runtime: world.runtime, settings: settingsFor('http://localhost:3000') });
  await app.ready();
  const login = async (name: string, principal_kind: 'operator' | 'customer', principal_id: string): Promise<Session> => {
    await createLogin(world.database.pool, world.clock, { tenant: world.tenant, login: `${name}@${world.tenant}`, password: PASSWORD, principal_kind, principal_id });
    return logIn(app, `${name}@${world.tenant}`, PASSWORD);
  };
  admin = await login('admin', 'operator', world.tenant);
  sub = await login('sub', 'operator', world.scenario.sub_reseller);
  customer = await login('customer', 'customer', world.run.bengali);
}, 180_000);
afterAll(async () => {
  await app?.close();
  await world?.close();
});

const get = (session: Session, url: string) => app.inject(as(session, { method: 'GET', url }));

describe('documents over HTTP', () => {
  it('an invoice and a receipt as PDFs for staff in scope, and the portal’s own copies for the customer', async () => {
    const bill = `${world.run.bengali}:2027-01`;
    const invoice = await get(sub, `/api/v1/bills/${encodeURIComponent(bill)}/invoice.pdf`);
    expect(invoice.statusCode, invoice.body).toBe(200);
    expect(invoice.headers['content-type']).toBe('application/pdf');
    expect(await pdfText(keep('api-invoice.pdf', invoice.rawPayload))).toContain(world.bengali_name);

    const mine = await get(customer, `/api/v1/me/bills/${encodeURIComponent(bill)}/invoice.pdf`);
    expect(mine.statusCode, mine.body).toBe(200);
    const theirs = await get(customer, `/api/v1/me/bills/${encodeURIComponent(`${world.run.paid}:2027-01`)}/invoice.pdf`);
    expect(theirs.statusCode).toBe(404);
    expect((await get(customer, `/api/v1/bills/${encodeURIComponent(bill)}/invoice.pdf`)).json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await get(sub, `/api/v1/me/bills/${encodeURIComponent(bill)}/invoice.pdf`)).json()).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const payment = (await world.database.pool.query<{ payment_id: string }>('SELECT payment_id FROM payments WHERE customer_id = $1', [world.run.bengali])).rows[0]!.payment_id;
    const receipt = await get(customer, `/api/v1/me/payments/${payment}/receipt.pdf`);
    expect(receipt.statusCode, receipt.body).toBe(200);
    expect(await pdfText(keep('api-receipt.pdf', receipt.rawPayload))).toContain('MONEY RECEIPT');
    expect((await get(admin, `/api/v1/payments/${payment}/receipt.pdf`)).statusCode).toBe(200);
  });

  it("a bill run's invoices stream as one PDF; a statement and the books' reports as PDFs", async () => {
    const run = await get(admin, '/api/v1/bill-runs/invoices.pdf?period=2027-01');
    expect(run.statusCode, run.body.slice(0, 300)).toBe(200);
    expect(run.headers['content-disposition']).toContain('invoices-2027-01.pdf');
    expect(await pdfPages(keep('api-bill-run.pdf', run.rawPayload))).toBe(6);
    const none = await get(admin, '/api/v1/bill-runs/invoices.pdf?period=2030-01');
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ error: { code: 'INVALID_INPUT' } });

    const statement = await get(sub, `/api/v1/customers/${world.run.partly}/statement.pdf`);
    expect(statement.statusCode, statement.body.slice(0, 300)).toBe(200);
    expect(await pdfText(keep('api-statement.pdf', statement.rawPayload))).toContain('Fatema Begum');
    for (const url of [
      `/api/v1/books/${world.tenant}/trial-balance.pdf`,
      `/api/v1/books/${world.tenant}/balance-sheet.pdf?as_of=2027-01-05`,
      `/api/v1/books/${world.tenant}/income-statement.pdf?from=2026-11-01&to=2027-01-31`,
      `/api/v1/books/${world.scenario.reseller}/reseller-statement.pdf`,
    ]) {
      const reply = await get(admin, url);
      expect(reply.statusCode, `${url}: ${reply.body.slice(0, 200)}`).toBe(200);
      expect(reply.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    }
    // A sub-reseller may not read its parent's book.
    expect((await get(sub, `/api/v1/books/${world.tenant}/trial-balance.pdf`)).statusCode).toBe(404);
  });

  it('exports stream as CSV and XLSX within the caller’s subtree', async () => {
    const everyone = parseCsv((await get(admin, '/api/v1/exports/customers?format=csv')).body);
    const mine = await get(sub, '/api/v1/exports/customers?format=csv');
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['content-type']).toContain('text/csv');
    const rows = parseCsv(mine.body);
    const subtree = (await world.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers WHERE $1 = ANY(chain)', [world.scenario.sub_reseller])).rows[0]!.n;
    expect(rows.length - 1).toBe(subtree);
    expect(everyone.length).toBeGreaterThanOrEqual(rows.length);

    const xlsx = await get(admin, '/api/v1/exports/bills');
    expect(xlsx.statusCode).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const bills = (await world.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bills WHERE tenant = $1', [world.tenant])).rows[0]!.n;
    expect(workbook.worksheets[0]!.rowCount).toBe(bills + 1);

    for (const url of ['/api/v1/exports/payments?format=csv', '/api/v1/exports/collections?format=csv', '/api/v1/exports/card-batches?format=csv', `/api/v1/books/${world.scenario.sub_reseller}/exports/journal?format=csv`, `/api/v1/books/${world.scenario.sub_reseller}/exports/general-ledger`, `/api/v1/books/${world.scenario.sub_reseller}/exports/trial-balance?format=csv`]) {
      const reply = await get(sub, url);
      expect(reply.statusCode, `${url}: ${reply.body.slice(0, 200)}`).toBe(200);
    }
    const elsewhere = await get(sub, `/api/v1/exports/customers?format=csv&operator_id=${world.scenario.reseller}`);
    expect(elsewhere.statusCode).toBe(404);
  });

  it("the auditor's package downloads and verifies", async () => {
    const reply = await get(admin, `/api/v1/books/${world.scenario.sub_reseller}/auditor-package.zip?from=2026-11-01&to=2027-01-31`);
    expect(reply.statusCode, reply.body.slice(0, 300)).toBe(200);
    expect(reply.headers['content-type']).toBe('application/zip');
    const verified = await verifyAuditorPackage(reply.rawPayload, { pool: world.database.pool });
    expect(verified.problems).toEqual([]);
    const backwards = await get(admin, `/api/v1/books/${world.scenario.sub_reseller}/auditor-package.zip?from=2027-02-01&to=2027-01-31`);
    expect(backwards.statusCode).toBe(400);
  });

  it('the ISP sets its profile (and logo); a reseller may not; bad input changes nothing', async () => {
    const logo = testLogo();
    const body = { address: 'Plot 7, Gulshan 2, Dhaka', phone: '+880 1700 000333', email: 'accounts@demo.example', locale: 'bn-BD', logo: { media_type: 'image/png', data_base64: logo.toString('base64') }, payment_note: null };
    const set = await app.inject(as(admin, { method: 'PUT', url: '/api/v1/isp/profile', payload: body }));
    expect(set.statusCode, set.body).toBe(200);
    await world.settle();
    const profile = await get(admin, '/api/v1/isp/profile');
    expect(profile.json()).toMatchObject({ address: body.address, locale: 'bn-BD', logo: { media_type: 'image/png', bytes: logo.length } });
    const served = await get(sub, '/api/v1/isp/logo');
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.rawPayload.equals(logo)).toBe(true);
    const refused = await app.inject(as(sub, { method: 'PUT', url: '/api/v1/isp/profile', payload: body }));
    expect(refused.json()).toMatchObject({ error: { code: 'NOT_PERMITTED' } });
    const before = (await world.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
    const bad = await app.inject(as(admin, { method: 'PUT', url: '/api/v1/isp/profile', payload: { ...body, email: 'nope' } }));
    expect(bad.statusCode).toBe(400);
    expect((await world.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n).toBe(before);

    // The invoice is now written in Bengali digits for this ISP.
    const invoice = await get(admin, `/api/v1/bills/${encodeURIComponent(`${world.run.partly}:2027-01`)}/invoice.pdf`);
    expect(await pdfText(keep('api-invoice-bn.pdf', invoice.rawPayload))).toContain('১১৯.৩৫৳');
  });
});

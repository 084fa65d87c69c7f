import { createHash } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, logIn, PASSWORD, startApiWorld, type ApiWorld, type Session } from './harness.js';

/**
 * The whole business through HTTP only (after the harness has registered the ISP and its admin login): the ISP
 * admin creates a reseller, the reseller a sub-reseller (terms, packages, top-ups), the sub-reseller its
 * customers; money comes in as cash, from the sub-reseller's wallet and by recharge card; a monthly customer is
 * billed by the bill run; the ISP refunds part of a payment. Then the books, the reseller statement and the
 * customer statement are read back through the API and must agree with each other and with the worked example:
 * the reseller's share is 60 %, the sub-reseller gets 50 % of that, so of each 500.00 the ISP keeps 200.00
 * (40 %), the reseller 150.00 and the sub-reseller 150.00.
 */
let world: ApiWorld;
/** The newest position any command returned: every request asks to see at least that much (X-Consistent-With). */
let seen = '0.0';

beforeAll(async () => {
  world = await startApiWorld();
}, 120_000);
afterAll(async () => world?.close());

const newer = (a: string, b: string): string => {
  const [ac, ap] = a.split('.').map(BigInt) as [bigint, bigint];
  const [bc, bp] = b.split('.').map(BigInt) as [bigint, bigint];
  return ac > bc || (ac === bc && ap > bp) ? a : b;
};

async function send(session: Session | null, method: InjectOptions['method'], url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const response = await world.app.inject(
    as(session, { method, url, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }), headers: { 'x-consistent-with': seen, ...headers } }),
  );
  if (response.statusCode < 300 && response.headers['content-type']?.toString().startsWith('application/json')) {
    const position = (response.json() as { position?: unknown }).position;
    if (typeof position === 'string') seen = newer(seen, position);
  }
  return response;
}

/** A request that must succeed; its JSON reply. */
async function must<Reply = any>(session: Session, method: InjectOptions['method'], url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await send(session, method, url, payload, headers);
  if (response.statusCode >= 300) throw new Error(`${method} ${url} answered ${response.statusCode}: ${response.body}`);
  return response.json<Reply>();
}

const key = (name: string): Record<string, string> => ({ 'idempotency-key': `scenario-${name}` });

/**
 * A passkey step-up for this session. The WebAuthn ceremony itself is tested with a software authenticator in
 * the passkey tests; here the session row is marked exactly as POST /api/v1/auth/passkeys/step-up/verify marks it.
 */
async function stepUp(session: Session): Promise<void> {
  const token = session.cookie.slice('ispbills_session='.length);
  await world.database.pool.query('UPDATE sessions SET step_up_until = $2 WHERE session_hash = $1', [createHash('sha256').update(token).digest(), new Date(world.clock.now().getTime() + 10 * 60_000)]);
}

type Line = { account_code: string; party: string | null; debit: string; credit: string };
const linesOf = (lines: readonly Line[]): string[] =>
  lines.map((line) => `${line.debit !== '0.00' ? 'Dr' : 'Cr'} ${line.account_code}${line.party === null ? '' : `[${line.party}]`} ${line.debit !== '0.00' ? line.debit : line.credit}`).sort();

describe('the business through HTTP', () => {
  it('runs ISP → reseller → sub-reseller → customers, takes money every way, bills, refunds, and the books and statements agree', async () => {
    const tenant = world.a.tenant;
    const package_id = world.a.package_id;
    let admin = world.sessions.admin!;

    // --- the ISP sets up a reseller -----------------------------------------------------------------------------
    const isp_revenue_before = (await must(admin, 'GET', `/api/v1/books/${tenant}/income-statement?from=2026-01-01&to=2027-12-31`)).revenue.accounts.find((a: { code: string }) => a.code === '4000').amount as string;
    const reseller = (await must(admin, 'POST', '/api/v1/operators', { parent_id: tenant, name: 'Dhaka Resellers Ltd' })).result.operator_id as string;
    await must(admin, 'PUT', `/api/v1/operators/${reseller}/commission-terms`, { effective_from: '2026-11-01', terms: { kind: 'share', percent: '60' } });
    await must(admin, 'POST', `/api/v1/operators/${reseller}/packages`, { package_id, wholesale_price: '200.00', effective_from: '2026-11-01' });
    const topped = await must(admin, 'POST', `/api/v1/operators/${reseller}/wallet/top-ups`, { amount: '10000.00', method: 'bank' }, key('reseller-top-up'));
    expect(topped.result.balance).toBe('10000.00');
    // The same key and body again: the first answer, nothing new.
    const again = await must(admin, 'POST', `/api/v1/operators/${reseller}/wallet/top-ups`, { amount: '10000.00', method: 'bank' }, key('reseller-top-up'));
    expect([again.replayed, again.result.balance]).toEqual([true, '10000.00']);
    const clash = await send(admin, 'POST', `/api/v1/operators/${reseller}/wallet/top-ups`, { amount: '20000.00', method: 'bank' }, key('reseller-top-up'));
    expect([clash.statusCode, clash.json().error.code]).toEqual([409, 'IDEMPOTENCY_KEY_REUSED']);
    await must(admin, 'POST', '/api/v1/logins', { login: 'dhaka@resellers', password: PASSWORD, principal_kind: 'operator', principal_id: reseller });
    let r = await logIn(world.app, 'dhaka@resellers', PASSWORD);
    expect(r.role).toBe('reseller');

    // --- the reseller sets up its sub-reseller --------------------------------------------------------------------
    const sub = (await must(r, 'POST', '/api/v1/operators', { parent_id: reseller, name: 'Mirpur Net' })).result.operator_id as string;
    expect((await must(r, 'GET', `/api/v1/operators/${sub}`)).role).toBe('sub_reseller');
    await must(r, 'PUT', `/api/v1/operators/${sub}/commission-terms`, { effective_from: '2026-11-01', terms: { kind: 'share', percent: '50' } });
    await must(r, 'POST', `/api/v1/operators/${sub}/packages`, { package_id, wholesale_price: '350.00', effective_from: '2026-11-01' });
    await must(r, 'POST', `/api/v1/operators/${sub}/wallet/top-ups`, { amount: '5000.00', method: 'cash' }, key('sub-top-up'));
    // The sub-reseller's prices are the reseller's business, not the ISP's; and nobody credits their own wallet.
    const overreach = await send(admin, 'POST', `/api/v1/operators/${sub}/packages`, { package_id, wholesale_price: '210.00', effective_from: '2026-11-01' });
    expect([overreach.statusCode, overreach.json().error.code]).toEqual([403, 'OPERATOR_NOT_IN_SUBTREE']);
    const self = await send(r, 'POST', `/api/v1/operators/${reseller}/wallet/top-ups`, { amount: '1.00', method: 'cash' }, key('self-top-up'));
    expect([self.statusCode, self.json().error.code]).toEqual([403, 'OPERATOR_NOT_IN_SUBTREE']);
    await must(r, 'POST', '/api/v1/logins', { login: 'mirpur@net', password: PASSWORD, principal_kind: 'operator', principal_id: sub });
    let s = await logIn(world.app, 'mirpur@net', PASSWORD);

    // --- the sub-reseller registers customers ------------------------------------------------------------------------
    const register = async (name: string, username: string, profile: unknown): Promise<string> =>
      (await must(s, 'POST', '/api/v1/customers', { operator_id: sub, connection_type: 'pppoe', name, mobile: '+8801700000000', zone: 'Mirpur 10', username, password: 'pppoe-secret', package_id, profile })).result.customer_id;
    const daily = await register('Karim (daily)', 'karim', { kind: 'daily' });
    const monthly = await register('Salma (monthly)', 'salma', { kind: 'monthly', due_day: 1, mode: 'prepaid', grace_days: 5 });
    const card_customer = await register('Rafiq (card)', 'rafiq', { kind: 'daily' });
    await must(s, 'POST', '/api/v1/logins', { login: 'rafiq@portal', password: PASSWORD, principal_kind: 'customer', principal_id: card_customer });

    // --- money in: cash and the sub-reseller's wallet (recharges) ------------------------------------------------------
    const missingKey = await send(s, 'POST', `/api/v1/customers/${daily}/payments`, { amount: '500.00', method: 'cash', recharge_package_id: package_id });
    expect([missingKey.statusCode, missingKey.json().error.code]).toEqual([400, 'INVALID_INPUT']);
    const cash = await must(s, 'POST', `/api/v1/customers/${daily}/payments`, { amount: '500.00', method: 'cash', recharge_package_id: package_id }, key('cash-1'));
    const cash_payment = cash.result.payment_id as string;
    expect(cash.result.expires_at).toBe('2026-12-16T18:00:00.000Z');
    const wallet = await must(s, 'POST', `/api/v1/customers/${daily}/payments`, { amount: '500.00', method: 'reseller_wallet', recharge_package_id: package_id }, key('wallet-1'));
    expect(wallet.result.expires_at).toBe('2027-01-15T18:00:00.000Z');
    const detail = await must(s, 'GET', `/api/v1/payments/${encodeURIComponent(cash_payment)}`);
    expect(detail.commission).toEqual([
      { operator_id: tenant, amount: '200.00' },
      { operator_id: reseller, amount: '150.00' },
      { operator_id: sub, amount: '150.00' },
    ]);

    // --- a recharge card: generated by the ISP, handed down, redeemed by the customer in the portal ------------------------
    await stepUp(admin);
    const batch = (await must(admin, 'POST', '/api/v1/card-batches', { count: 3, value: '500.00', expires_on: '2027-06-30' })).result as { batch_id: string; cards: { serial: string; pin: string }[] };
    expect(batch.cards.map((card) => card.pin)).toEqual(batch.cards.map(() => expect.stringMatching(/^\d{16}$/)));
    const card = batch.cards[0]!;
    await must(admin, 'POST', `/api/v1/card-batches/${batch.batch_id}/assignments`, { serials: batch.cards.map((c) => c.serial), to_operator_id: reseller });
    await stepUp(r);
    await must(r, 'POST', `/api/v1/card-batches/${batch.batch_id}/assignments`, { serials: [card.serial], to_operator_id: sub });
    // The reseller cannot hand out a card it does not hold any more.
    const notHeld = await send(r, 'POST', `/api/v1/card-batches/${batch.batch_id}/assignments`, { serials: [card.serial], to_operator_id: sub });
    expect([notHeld.statusCode, notHeld.json().error.code]).toEqual([403, 'CARD_NOT_ASSIGNED_TO_YOU']);
    const subCards = await must(s, 'GET', `/api/v1/cards?batch_id=${batch.batch_id}`);
    expect(subCards.cards.map((c: { serial: string; status: string }) => [c.serial, c.status])).toEqual([[card.serial, 'assigned']]);
    const rafiq = await logIn(world.app, 'rafiq@portal', PASSWORD);
    const wrongPin = await send(rafiq, 'POST', `/api/v1/customers/${card_customer}/card-redemptions`, { batch_id: batch.batch_id, serial: card.serial, pin: '0000000000000000' }, key('card-wrong'));
    expect([wrongPin.statusCode, wrongPin.json().error.code]).toEqual([422, 'CARD_WRONG_PIN']);
    const redeemed = await must(rafiq, 'POST', `/api/v1/customers/${card_customer}/card-redemptions`, { batch_id: batch.batch_id, serial: card.serial, pin: card.pin }, key('card-1'));
    expect(redeemed.result.expires_at).toBe('2026-12-16T18:00:00.000Z');
    const twice = await send(rafiq, 'POST', `/api/v1/customers/${card_customer}/card-redemptions`, { batch_id: batch.batch_id, serial: card.serial, pin: card.pin }, key('card-2'));
    expect([twice.statusCode, twice.json().error.code]).toEqual([409, 'CARD_ALREADY_REDEEMED']);
    const mine = await must(rafiq, 'GET', '/api/v1/me/payments');
    expect(mine.payments.map((p: { method: string; amount: string; collector_operator_id: string }) => [p.method, p.amount, p.collector_operator_id])).toEqual([['card', '500.00', sub]]);
    expect((await must(rafiq, 'GET', '/api/v1/me')).status).toBe('active');

    // --- the monthly customer: its first (prorated) bill, then the December bill run, then it pays in cash --------------
    expect((await must(s, 'GET', `/api/v1/bills?customer_id=${monthly}`)).bills.map((b: { amount: string; period: string }) => [b.period, b.amount])).toEqual([['2026-11', '250.00']]);
    const early = await send(s, 'POST', `/api/v1/customers/${monthly}/bills`, { period: '2026-12' });
    expect([early.statusCode, early.json().error.code]).toEqual([422, 'BILL_NOT_DUE_YET']);
    world.clock.set('2026-12-01T06:00:00Z');
    // Sessions are twelve hours long: a new day, a new login.
    admin = await logIn(world.app, `admin@${tenant}`, PASSWORD);
    r = await logIn(world.app, 'dhaka@resellers', PASSWORD);
    s = await logIn(world.app, 'mirpur@net', PASSWORD);
    const run = await must(s, 'POST', '/api/v1/bill-runs', { period: '2026-12' });
    expect(run).toMatchObject({ period: '2026-12', customers: 1, issued: 1, unchanged: 0, refused: [] });
    expect((await must(s, 'POST', `/api/v1/customers/${monthly}/bills`, { period: '2026-12' })).result).toEqual({ issued: false });
    expect((await must(s, 'POST', '/api/v1/bill-runs', { period: '2026-12' })).issued).toBe(0);
    const paid = await must(s, 'POST', `/api/v1/customers/${monthly}/payments`, { amount: '750.00', method: 'cash' }, key('monthly-cash'));
    expect([paid.result.balance_due, paid.result.credit]).toEqual(['0.00', '0.00']);
    const bills = (await must(s, 'GET', `/api/v1/bills?customer_id=${monthly}`)).bills as { amount: string; status: string }[];
    expect(bills.map((b) => [b.amount, b.status]).sort()).toEqual([
      ['250.00', 'paid'],
      ['500.00', 'paid'],
    ]);

    // --- a refund of part of the cash recharge, by the ISP after a passkey step-up ---------------------------------------
    const refundBody = { payment_id: cash_payment, amount: '100.00', reason: 'service outage in Mirpur' };
    const unconfirmed = await send(admin, 'POST', `/api/v1/customers/${daily}/refunds`, refundBody, key('refund-1'));
    expect([unconfirmed.statusCode, unconfirmed.json().error.code]).toEqual([403, 'STEP_UP_REQUIRED']);
    await stepUp(admin);
    await must(admin, 'POST', `/api/v1/customers/${daily}/refunds`, refundBody, key('refund-1'));
    const refunded = await must(admin, 'GET', `/api/v1/payments/${encodeURIComponent(cash_payment)}`);
    expect([refunded.refunded, refunded.refunds.map((x: { commission_clawback: unknown }) => x.commission_clawback)]).toEqual([
      '100.00',
      [
        [
          { operator_id: tenant, amount: '40.00' },
          { operator_id: reseller, amount: '30.00' },
          { operator_id: sub, amount: '30.00' },
        ],
      ],
    ]);

    // --- the books, read back ------------------------------------------------------------------------------------------
    // Four payments of 500.00 worth (cash, wallet, card; the monthly 750.00 counts as 1.5), less the refund's 100.00.
    for (const book of [tenant, reseller, sub]) {
      const trial = await must(admin, 'GET', `/api/v1/books/${book}/trial-balance`);
      expect([book, trial.totals.debit, trial.totals.balance_debit]).toEqual([book, trial.totals.credit, trial.totals.balance_credit]);
    }
    const income = async (book: string, code: string): Promise<string> =>
      (await must(admin, 'GET', `/api/v1/books/${book}/income-statement?from=2026-01-01&to=2027-12-31`)).revenue.accounts.find((a: { code: string }) => a.code === code).amount;
    // ISP: 200 × 3 + 300 − 40 = 860.00; reseller and sub-reseller: 150 × 3 + 225 − 30 = 645.00 each.
    expect(Number(await income(tenant, '4000')) - Number(isp_revenue_before)).toBe(860);
    expect(await income(reseller, '4100')).toBe('645.00');
    expect(await income(sub, '4100')).toBe('645.00');

    // The worked example's postings of the cash recharge, in each book's journal.
    const entryFor = async (book: string) => {
      const journal = await must(admin, 'GET', `/api/v1/books/${book}/journal?limit=1000`);
      return linesOf(journal.entries.find((entry: { memo: string }) => entry.memo === `Payment 500.00 BDT (cash) from customer ${daily}`).lines);
    };
    expect(await entryFor(sub)).toEqual([`Cr 1200[${reseller}] 350.00`, 'Cr 4100 150.00', 'Dr 1000 500.00']);
    expect(await entryFor(reseller)).toEqual([`Cr 1200[${tenant}] 200.00`, 'Cr 4100 150.00', `Dr 2100[${sub}] 350.00`]);
    expect(await entryFor(tenant)).toEqual(['Cr 4000 200.00', `Dr 2100[${reseller}] 200.00`]);

    // --- the statements agree with the books, the wallets and each other ----------------------------------------------
    const wallets = { reseller: (await must(r, 'GET', `/api/v1/operators/${reseller}`)).wallet_balance, sub: (await must(s, 'GET', `/api/v1/operators/${sub}`)).wallet_balance };
    // Reseller: 10000 − 200 × 3 − 300 + 40; sub-reseller: 5000 − 350 × 3 − 525 + 70.
    expect(wallets).toEqual({ reseller: '9140.00', sub: '3495.00' });
    const statement = await must(r, 'GET', `/api/v1/books/${reseller}/reseller-statement`);
    expect(statement.commission_earned).toBe('645.00');
    expect(statement.commission_lines_total).toBe('645.00');
    expect(statement.wallet).toMatchObject({ operator_id: tenant, closing: wallets.reseller });
    expect(statement.children).toEqual([expect.objectContaining({ operator_id: sub, closing: wallets.sub })]);
    const subStatement = await must(s, 'GET', `/api/v1/books/${sub}/reseller-statement`);
    expect([subStatement.commission_earned, subStatement.wallet.closing]).toEqual(['645.00', wallets.sub]);
    const commission = await must(r, 'GET', `/api/v1/operators/${reseller}/commission`);
    expect(commission.totals).toEqual({ commission: '675.00', clawback: '-30.00', net: '645.00' });
    const walletStatement = await must(r, 'GET', `/api/v1/operators/${reseller}/wallet`);
    expect(walletStatement.entries[0].balance_after).toBe(wallets.reseller);
    // The ISP's side mirrors the reseller's: what it owes the reseller's wallet is what the reseller is owed.
    const ispStatement = await must(admin, 'GET', `/api/v1/books/${tenant}/reseller-statement`);
    expect(ispStatement.children).toEqual(expect.arrayContaining([expect.objectContaining({ operator_id: reseller, closing: wallets.reseller })]));

    // The monthly customer's statement: both bills, then the payment that settled them.
    const customerStatement = await must(s, 'GET', `/api/v1/customers/${monthly}/statement`);
    expect(customerStatement.book.book_id).toBe(sub);
    expect(customerStatement.lines.map((line: { debit: string; credit: string }) => [line.debit, line.credit])).toEqual([
      ['250.00', '0.00'],
      ['500.00', '0.00'],
      ['0.00', '750.00'],
    ]);
    expect(customerStatement.closing).toBe('0.00');
    const billed = bills.reduce((total, bill) => total + Number(bill.amount), 0);
    const received = (await must(s, 'GET', `/api/v1/payments?customer_id=${monthly}`)).payments.reduce((total: number, payment: { amount: string }) => total + Number(payment.amount), 0);
    expect([billed, received]).toEqual([750, 750]);
    const aging = await must(s, 'GET', `/api/v1/books/${sub}/ar-aging`);
    expect(aging.totals.balance).toBe('0.00');

    // As of a position before the refund, the cash payment was whole.
    const timeline = await must(s, 'GET', `/api/v1/customers/${daily}/timeline`);
    const refundEvent = timeline.timeline.find((line: { type: string }) => line.type === 'payment-refunded').event as string;
    const before = await must(admin, 'GET', `/api/v1/customers/${daily}/as-of?as_of=position:${BigInt(refundEvent) - 1n}`);
    expect(before.payments).toEqual(expect.arrayContaining([expect.objectContaining({ payment_id: cash_payment, refunded: '0.00' })]));

    // And the hledger export of the reseller's book carries every entry.
    const exported = await send(admin, 'GET', `/api/v1/books/${reseller}/journal.hledger`);
    expect(exported.statusCode).toBe(200);
    expect(exported.body).toContain('4100 Commission income');
    expect(exported.body.match(/^\d{4}-\d{2}-\d{2} /gm)?.length).toBe((await must(admin, 'GET', `/api/v1/books/${reseller}/journal?limit=1000`)).entries.length);
  }, 120_000);

  it('staff: added with a login, permissions changed, removed — and a removed accountant, not only a manager, can do nothing at once', async () => {
    // The first case moved the clock past the harness sessions' twelve hours: log in afresh.
    const r = await logIn(world.app, `reseller@${world.a.tenant}`, PASSWORD);
    const admin = await logIn(world.app, `admin@${world.a.tenant}`, PASSWORD);
    const reseller = world.a.reseller;
    const hire = async (role: string, permissions: string[]): Promise<string> =>
      (await must(r, 'POST', '/api/v1/staff', { operator_id: reseller, role, name: `A ${role}`, permissions })).result.staff_id;
    const manager = await hire('manager', ['customers.read']);
    const accountant = await hire('accountant', []);
    await must(r, 'POST', '/api/v1/logins', { login: 'desk@reseller', password: PASSWORD, principal_kind: 'staff', principal_id: manager });
    await must(r, 'POST', '/api/v1/logins', { login: 'books@reseller', password: PASSWORD, principal_kind: 'staff', principal_id: accountant });
    const desk = await logIn(world.app, 'desk@reseller', PASSWORD);
    const books = await logIn(world.app, 'books@reseller', PASSWORD);
    expect((await send(desk, 'GET', '/api/v1/customers')).statusCode).toBe(200);
    expect((await send(desk, 'GET', '/api/v1/bills')).statusCode).toBe(200);
    expect((await send(books, 'GET', `/api/v1/books/${reseller}/trial-balance`)).statusCode).toBe(200);

    await must(r, 'PUT', `/api/v1/staff/${manager}/permissions`, { permissions: [] });
    // Permissions are read from the staff read model: reading the staff member back (X-Consistent-With) waits for it.
    expect((await must(r, 'GET', `/api/v1/staff/${manager}`)).permissions).toEqual([]);
    const narrowed = await send(desk, 'GET', '/api/v1/customers');
    expect([narrowed.statusCode, narrowed.json().error.code]).toEqual([403, 'FORBIDDEN']);

    await must(r, 'DELETE', `/api/v1/staff/${accountant}`);
    expect((await must(r, 'GET', `/api/v1/staff/${accountant}`)).removed).toBe(true);
    const gone = await send(books, 'GET', `/api/v1/books/${reseller}/trial-balance`);
    expect([gone.statusCode, gone.json().error.code]).toEqual([403, 'FORBIDDEN']);
    // Another operator's staff stays out of reach: the sibling reseller's people are not this reseller's to manage.
    const sibling_staff = (await must(admin, 'POST', '/api/v1/staff', { operator_id: world.a.sibling, role: 'auditor', name: 'Sibling auditor' })).result.staff_id;
    const foreign = await send(r, 'DELETE', `/api/v1/staff/${sibling_staff}`);
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, 'STAFF_NOT_FOUND']);
  }, 60_000);
});

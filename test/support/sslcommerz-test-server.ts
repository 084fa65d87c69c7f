import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local SSLCommerz for tests: the parts of its documented v4 protocol a merchant talks to (see
 * api/gateways/sslcommerz.ts for the sources), written from the protocol and not from our client, so a
 * misunderstanding in one does not hide in the other.
 *
 * - `POST /gwprocess/v4/api.php` (form): checks the store credentials and the mandatory fields, opens a session
 *   and answers `{ status: 'SUCCESS', sessionkey, GatewayPageURL }` or `{ status: 'FAILED', failedreason }`.
 * - `GET /validator/api/validationserverAPI.php?val_id&store_id&store_passwd&v=1&format=json`: VALID the first
 *   time a val_id is validated, VALIDATED afterwards, INVALID_TRANSACTION for an unknown one; APIConnect
 *   INVALID_REQUEST for wrong credentials.
 * - What the customer does on the payment page is a method (`complete`), which returns the signed fields
 *   SSLCommerz would send; `deliverIpn` POSTs them to the session's ipn_url, `browserReturn` to its
 *   success_url / fail_url / cancel_url, as the customer's browser would (form-encoded, redirects not followed).
 * - For browser tests, `GatewayPageURL` is a page too: Pay / Fail / Cancel buttons, after which the IPN is sent
 *   (on Pay) and the browser is sent back to the merchant with a form POST, as SSLCommerz' page does.
 */
export type TestGatewaySession = {
  tran_id: string;
  sessionkey: string;
  total_amount: string;
  currency: string;
  fields: Readonly<Record<string, string>>;
  val_id: string | null;
  validations: number;
};

export type PaymentOutcome = Readonly<{
  status: 'VALID' | 'FAILED' | 'CANCELLED';
  /** What the validation API says was paid, when it differs from the session (a gateway-side discrepancy). */
  confirmed_amount?: string;
  risk_level?: '0' | '1';
}>;

export type Delivery = Readonly<{ status: number; body: string; location: string | null }>;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** The fields SSLCommerz lists in verify_key of a notification (those present are signed). */
const SIGNED_KEYS = [
  'amount', 'bank_tran_id', 'base_fair', 'card_brand', 'card_issuer', 'card_issuer_country', 'card_issuer_country_code', 'card_no', 'card_type',
  'currency', 'currency_amount', 'currency_rate', 'currency_type', 'risk_level', 'risk_title', 'status', 'store_amount', 'store_id', 'tran_date',
  'tran_id', 'val_id', 'value_a', 'value_b', 'value_c', 'value_d',
];

/** SSLCommerz's notification signature: md5 of the signed fields plus md5(store password), sorted, `k=v&…`. */
export function signFields(fields: Record<string, string>, store_password: string, keys: readonly string[] = SIGNED_KEYS.filter((key) => key in fields)): Record<string, string> {
  const data: Record<string, string> = {};
  for (const key of keys) if (key in fields) data[key] = fields[key]!;
  data.store_passwd = md5(store_password);
  const text = Object.keys(data)
    .sort()
    .map((key) => `${key}=${data[key]}`)
    .join('&');
  return { ...fields, verify_sign: md5(text), verify_key: keys.join(',') };
}

const MANDATORY = ['store_id', 'store_passwd', 'total_amount', 'currency', 'tran_id', 'success_url', 'fail_url', 'cancel_url', 'product_name', 'product_category', 'product_profile', 'cus_name', 'cus_email', 'cus_add1', 'cus_city', 'cus_country', 'cus_phone', 'shipping_method'];

export class SslcommerzTestServer {
  readonly sessions = new Map<string, TestGatewaySession>();
  readonly #byValId = new Map<string, { session: TestGatewaySession; outcome: PaymentOutcome; bank_tran_id: string }>();
  /** Calls seen, for tests that check what was (not) asked. */
  readonly calls = { session: 0, validation: 0 };
  /** The next session request is refused with this reason (a store problem at SSLCommerz). */
  failNextSession: string | null = null;
  #server: http.Server | null = null;
  url = '';

  constructor(
    readonly store_id: string,
    readonly store_password: string,
  ) {}

  async start(): Promise<this> {
    this.#server = http.createServer((request, response) => {
      void this.#handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server === null ? resolve() : this.#server.close(() => resolve())));
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const json = (body: unknown): void => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (request.method === 'POST' && url.pathname === '/gwprocess/v4/api.php') {
      this.calls.session += 1;
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const fields = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      return json(this.#openSession(fields));
    }
    if (request.method === 'GET' && url.pathname === '/validator/api/validationserverAPI.php') {
      this.calls.validation += 1;
      return json(this.#validate(Object.fromEntries(url.searchParams)));
    }
    const checkout = /^\/EasyCheckOut\/testcde([0-9a-f]{32})(\/(pay|fail|cancel))?$/.exec(url.pathname);
    if (checkout !== null) return this.#checkout(request, response, checkout[1]!, checkout[3] ?? null);
    response.writeHead(404).end('not found');
  }

  /**
   * The hosted payment page, for browser tests: the customer chooses to pay (or fails, or cancels); SSLCommerz then
   * sends its IPN to the merchant and the customer's browser back to success_url / fail_url / cancel_url with the
   * signed fields, as a form POST from its own page (cross-site, as in life).
   */
  async #checkout(request: http.IncomingMessage, response: http.ServerResponse, key: string, action: string | null): Promise<void> {
    const session = [...this.sessions.values()].find((candidate) => candidate.sessionkey.toLowerCase() === key);
    const html = (body: string): void => void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>SSLCommerz (test)</title><link rel="icon" href="data:,"></head><body>${body}</body></html>`);
    if (session === undefined) {
      response.writeHead(404).end('no such payment session');
      return;
    }
    if (request.method === 'GET' && action === null) {
      const button = (what: string, label: string) => `<form method="post" action="/EasyCheckOut/testcde${key}/${what}"><button type="submit" id="${what}">${label}</button></form>`;
      return html(`<h1>SSLCommerz test payment</h1><p>${escapeHtml(session.fields.product_name ?? '')}: ${escapeHtml(session.total_amount)} ${escapeHtml(session.currency)}</p>${button('pay', 'Pay')}${button('fail', 'Fail')}${button('cancel', 'Cancel')}`);
    }
    if (request.method !== 'POST' || action === null) {
      response.writeHead(405).end();
      return;
    }
    for await (const _chunk of request) {
      // The form carries nothing the test gateway needs.
    }
    const fields = this.complete(session.tran_id, { status: action === 'pay' ? 'VALID' : action === 'fail' ? 'FAILED' : 'CANCELLED' });
    if (action === 'pay') await this.deliverIpn(fields);
    const target = action === 'pay' ? session.fields.success_url : action === 'fail' ? session.fields.fail_url : session.fields.cancel_url;
    const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('');
    return html(`<p>Returning to the merchant…</p><form method="post" action="${escapeHtml(target ?? '')}">${inputs}<noscript><button type="submit">Continue</button></noscript></form><script>document.forms[0].submit();</script>`);
  }

  #openSession(fields: Record<string, string>): Record<string, unknown> {
    const failed = (failedreason: string) => ({ status: 'FAILED', failedreason, sessionkey: '', GatewayPageURL: '' });
    if (fields.store_id !== this.store_id || fields.store_passwd !== this.store_password) return failed('Store Credential Error Or Store is De-active');
    const missing = MANDATORY.filter((name) => (fields[name] ?? '') === '');
    if (missing.length > 0) return failed(`Invalid Information: ${missing.join(', ')} missing`);
    if (this.failNextSession !== null) {
      const reason = this.failNextSession;
      this.failNextSession = null;
      return failed(reason);
    }
    if (!/^\d{1,8}(\.\d{1,2})?$/.test(fields.total_amount!)) return failed('Invalid amount');
    const [whole, fraction = ''] = fields.total_amount!.split('.');
    const paisa = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
    if (fields.currency === 'BDT' && (paisa < 1_000n || paisa > 50_000_000n)) return failed('Amount must be between 10.00 and 500000.00 BDT');
    if (fields.tran_id!.length > 30) return failed('tran_id is longer than 30 characters');
    const sessionkey = randomBytes(16).toString('hex').toUpperCase();
    this.sessions.set(fields.tran_id!, { tran_id: fields.tran_id!, sessionkey, total_amount: fields.total_amount!, currency: fields.currency!, fields, val_id: null, validations: 0 });
    return { status: 'SUCCESS', failedreason: '', sessionkey, GatewayPageURL: `${this.url}/EasyCheckOut/testcde${sessionkey.toLowerCase()}`, storeBanner: '', storeLogo: '' };
  }

  #validate(query: Record<string, string>): Record<string, unknown> {
    if (query.store_id !== this.store_id || query.store_passwd !== this.store_password) return { status: 'INVALID_REQUEST', APIConnect: 'INVALID_REQUEST' };
    const found = this.#byValId.get(query.val_id ?? '');
    if (found === undefined || found.outcome.status !== 'VALID') return { status: 'INVALID_TRANSACTION', APIConnect: 'DONE' };
    const { session, outcome, bank_tran_id } = found;
    session.validations += 1;
    const amount = outcome.confirmed_amount ?? session.total_amount;
    return {
      status: session.validations === 1 ? 'VALID' : 'VALIDATED',
      tran_date: '2026-11-16 12:00:00',
      tran_id: session.tran_id,
      val_id: query.val_id,
      amount,
      store_amount: amount,
      currency: 'BDT',
      bank_tran_id,
      card_type: 'BKASH-BKash',
      card_no: '',
      card_issuer: 'BKash Mobile Banking',
      card_brand: 'MOBILEBANKING',
      card_issuer_country: 'Bangladesh',
      card_issuer_country_code: 'BD',
      currency_type: session.currency,
      currency_amount: amount,
      currency_rate: '1.0000',
      base_fair: '0.00',
      value_a: session.fields.value_a ?? '',
      value_b: '',
      value_c: '',
      value_d: '',
      risk_level: outcome.risk_level ?? '0',
      risk_title: outcome.risk_level === '1' ? 'Risky' : 'Safe',
      APIConnect: 'DONE',
      validated_on: '2026-11-16 12:00:05',
      gw_version: '',
    };
  }

  /** The customer finishes on the payment page: the fields SSLCommerz then sends (signed), for IPN and browser. */
  complete(tran_id: string, outcome: PaymentOutcome): Record<string, string> {
    const session = this.sessions.get(tran_id);
    if (session === undefined) throw new Error(`the test gateway has no session ${tran_id}`);
    const val_id = outcome.status === 'VALID' ? `${new Date().toISOString().slice(2, 10).replaceAll('-', '')}${randomBytes(6).toString('hex')}` : '';
    const bank_tran_id = `BT${randomBytes(6).toString('hex').toUpperCase()}`;
    if (outcome.status === 'VALID') {
      session.val_id = val_id;
      this.#byValId.set(val_id, { session, outcome, bank_tran_id });
    }
    const fields: Record<string, string> = {
      tran_id,
      val_id,
      amount: outcome.confirmed_amount ?? session.total_amount,
      card_type: outcome.status === 'VALID' ? 'BKASH-BKash' : '',
      store_amount: session.total_amount,
      card_no: '',
      bank_tran_id: outcome.status === 'VALID' ? bank_tran_id : '',
      status: outcome.status,
      tran_date: '2026-11-16 12:00:00',
      error: outcome.status === 'VALID' ? '' : outcome.status === 'FAILED' ? 'Insufficient balance' : 'Cancelled by the customer',
      currency: 'BDT',
      card_issuer: 'BKash Mobile Banking',
      card_brand: 'MOBILEBANKING',
      card_issuer_country: 'Bangladesh',
      card_issuer_country_code: 'BD',
      store_id: this.store_id,
      currency_type: session.currency,
      currency_amount: outcome.confirmed_amount ?? session.total_amount,
      currency_rate: '1.0000',
      base_fair: '0.00',
      value_a: session.fields.value_a ?? '',
      value_b: '',
      value_c: '',
      value_d: '',
      risk_level: outcome.risk_level ?? '0',
      risk_title: outcome.risk_level === '1' ? 'Risky' : 'Safe',
    };
    return signFields(fields, this.store_password);
  }

  /** SSLCommerz's server POSTs the notification to the session's ipn_url. */
  deliverIpn(fields: Readonly<Record<string, string>>): Promise<Delivery> {
    const session = this.sessions.get(fields.tran_id ?? '');
    const target = session?.fields.ipn_url;
    if (target === undefined) throw new Error('no ipn_url for this transaction');
    return postForm(target, fields);
  }

  /** The customer's browser is sent back to success_url, fail_url or cancel_url with the same fields. */
  browserReturn(fields: Readonly<Record<string, string>>): Promise<Delivery> {
    const session = this.sessions.get(fields.tran_id ?? '');
    if (session === undefined) throw new Error('no session for this transaction');
    const target = fields.status === 'VALID' ? session.fields.success_url : fields.status === 'FAILED' ? session.fields.fail_url : session.fields.cancel_url;
    return postForm(target!, fields);
  }
}

/** A form POST to any URL (also for forged callbacks in tests). */
export async function postForm(url: string, fields: Readonly<Record<string, string>>): Promise<Delivery> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(fields as Record<string, string>), redirect: 'manual' });
  return { status: response.status, body: await response.text(), location: response.headers.get('location') };
}

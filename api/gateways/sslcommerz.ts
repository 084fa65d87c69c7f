import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { GatewayConfirmation, GatewayNotice, PaymentGateway, StartedPayment, StartPayment } from './gateway.js';
import type { SslcommerzSettings } from './settings.js';

/**
 * SSLCommerz (Bangladesh), hosted checkout, API v4. What this relies on, from SSLCommerz's documentation and
 * its own integration libraries:
 *
 * - Session: `POST {api}/gwprocess/v4/api.php`, form-encoded, with store_id, store_passwd, total_amount
 *   (decimal (10,2); 10.00–500000.00 BDT), currency, tran_id (ours, unique, ≤ 30 characters), success_url,
 *   fail_url, cancel_url, ipn_url, the cus_* and product_* fields. The JSON answer has `status` SUCCESS or
 *   FAILED, `failedreason`, `sessionkey` and `GatewayPageURL`, where the customer's browser goes.
 *   (developer.sslcommerz.com/doc/v4 "Create and Get Session"; github.com/sslcommerz/SSLCommerz-PHP
 *   lib/SslCommerzNotification.php setRequiredInfo, config/config.php `make_payment`.)
 * - IPN: SSLCommerz POSTs form fields to ipn_url (and the customer's browser POSTs the same fields to
 *   success_url / fail_url / cancel_url): status (VALID, FAILED, CANCELLED, UNATTEMPTED, EXPIRED), tran_id,
 *   val_id, amount, currency, bank_tran_id, …, verify_sign and verify_key. The signature: take the fields
 *   named in verify_key (comma-separated), add store_passwd = md5(store password), sort by key, join as
 *   `key=value&…`, md5 it; it must equal verify_sign (SSLCommerz-PHP SSLCOMMERZ_hash_varify; the same in
 *   sagormax/SSLCommerzIPN and SSLCommerz-WHMCS).
 * - Validation: `GET {api}/validator/api/validationserverAPI.php?val_id=…&store_id=…&store_passwd=…&v=1&format=json`
 *   answers `status` VALID (first validation) or VALIDATED (validated before) for a real payment, else
 *   INVALID_TRANSACTION; with tran_id, amount, currency_type, currency_amount, bank_tran_id, risk_level and
 *   APIConnect (DONE when the store credentials were accepted). The docs: "You must validate your transaction
 *   and amount by calling our Order Validation API", and "if risk_level = 1 and status = VALID, then please
 *   hold the transaction and verify the customer" (developer.sslcommerz.com, Integration steps 2 and 3).
 *   For BDT the official library compares `amount`; for other currencies `currency_amount` and
 *   `currency_type` (SslCommerzNotification::validate). It allows a difference below 1; we allow none, since
 *   we record exactly the amount we asked for.
 */
export const SSLCOMMERZ = 'sslcommerz';

const SESSION_PATH = '/gwprocess/v4/api.php';
const VALIDATION_PATH = '/validator/api/validationserverAPI.php';
/** Answers of either API are a few kilobytes; anything much larger is not SSLCommerz talking. */
const MAX_REPLY_BYTES = 256 * 1024;
/** Fields every signed callback must have signed, or it could be a genuine signature over other fields. */
const ALWAYS_SIGNED = ['tran_id', 'status'] as const;

const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

/** The md5 signature SSLCommerz puts in verify_sign, over the fields named in verify_key. */
export function sslcommerzSignature(fields: Readonly<Record<string, string>>, keys: readonly string[], store_password: string): string {
  const signed = new Map<string, string>();
  for (const key of keys) if (Object.hasOwn(fields, key)) signed.set(key, fields[key]!);
  // Set after the named fields, as SSLCommerz does, so a field called store_passwd cannot stand in for it.
  signed.set('store_passwd', md5(store_password));
  const sorted = [...signed.keys()].sort();
  return md5(sorted.map((key) => `${key}=${signed.get(key)}`).join('&'));
}

const OUTCOMES: Readonly<Record<string, GatewayNotice['outcome']>> = {
  VALID: 'paid',
  VALIDATED: 'paid',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  EXPIRED: 'cancelled',
  UNATTEMPTED: 'pending',
};

export class Sslcommerz implements PaymentGateway {
  readonly name = SSLCOMMERZ;

  constructor(private readonly settings: SslcommerzSettings) {}

  limits(currency: string): Readonly<{ min: string; max: string }> | null {
    return currency === 'BDT' ? { min: '10.00', max: '500000.00' } : null;
  }

  async start(request: StartPayment): Promise<StartedPayment> {
    const form = new URLSearchParams({
      store_id: this.settings.store_id,
      store_passwd: this.settings.store_password,
      total_amount: request.amount,
      currency: request.currency,
      tran_id: request.tran_id,
      success_url: request.urls.success,
      fail_url: request.urls.fail,
      cancel_url: request.urls.cancel,
      ipn_url: request.urls.ipn,
      product_name: request.description.slice(0, 255),
      product_category: 'internet',
      product_profile: 'non-physical-goods',
      shipping_method: 'NO',
      num_of_item: '1',
      cus_name: request.customer.name.slice(0, 50),
      cus_email: request.customer.email.slice(0, 50),
      cus_add1: request.customer.city.slice(0, 50),
      cus_city: request.customer.city.slice(0, 50),
      cus_country: 'Bangladesh',
      cus_phone: request.customer.mobile.slice(0, 20),
      // Echoed back in the callbacks; informational only, the session row is what we trust.
      value_a: request.customer.customer_id,
    });
    const reply = await this.#call('session', `${this.settings.api_url}${SESSION_PATH}`, { method: 'POST', body: form });
    const url = typeof reply.GatewayPageURL === 'string' ? reply.GatewayPageURL : '';
    if (reply.status !== 'SUCCESS' || !/^https?:\/\//.test(url)) {
      const reason = typeof reply.failedreason === 'string' && reply.failedreason !== '' ? reply.failedreason : `status ${String(reply.status)}`;
      throw new ApiError('GATEWAY_VALIDATION_FAILED', `SSLCommerz did not open a payment session: ${reason.slice(0, 300)}`);
    }
    return { redirect_url: url, gateway_session_key: typeof reply.sessionkey === 'string' ? reply.sessionkey : null };
  }

  authenticate(fields: Readonly<Record<string, string>>): GatewayNotice {
    const sign = fields.verify_sign;
    const key = fields.verify_key;
    if (sign === undefined || key === undefined || sign === '' || key === '') {
      throw new ApiError('GATEWAY_SIGNATURE_INVALID', 'an SSLCommerz notification must carry verify_sign and verify_key');
    }
    const keys = key.split(',').map((name) => name.trim()).filter((name) => name !== '');
    const status = fields.status ?? '';
    const required = status === 'VALID' || status === 'VALIDATED' ? [...ALWAYS_SIGNED, 'val_id'] : ALWAYS_SIGNED;
    const unsigned = required.filter((name) => !keys.includes(name) || fields[name] === undefined);
    if (unsigned.length > 0) throw new ApiError('GATEWAY_SIGNATURE_INVALID', `the notification's signature does not cover ${unsigned.join(', ')}`);
    const expected = Buffer.from(sslcommerzSignature(fields, keys, this.settings.store_password), 'utf8');
    const given = Buffer.from(sign.toLowerCase(), 'utf8');
    // Compared in constant time: the signature is the only thing standing between a forger and a recharge.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ApiError('GATEWAY_SIGNATURE_INVALID', 'the notification is not signed with this store’s password (verify_sign does not match)');
    }
    const outcome = OUTCOMES[status] ?? 'pending';
    return { tran_id: fields.tran_id!, outcome, validation_id: outcome === 'paid' ? fields.val_id! : null, status_text: status.slice(0, 40) };
  }

  async confirm(notice: GatewayNotice): Promise<GatewayConfirmation> {
    if (notice.validation_id === null) throw new ApiError('GATEWAY_VALIDATION_FAILED', 'there is no val_id to validate');
    const query = new URLSearchParams({ val_id: notice.validation_id, store_id: this.settings.store_id, store_passwd: this.settings.store_password, v: '1', format: 'json' });
    const reply = await this.#call('validation', `${this.settings.api_url}${VALIDATION_PATH}?${query}`, { method: 'GET' });
    if (reply.APIConnect !== undefined && reply.APIConnect !== 'DONE') {
      throw new ApiError('GATEWAY_VALIDATION_FAILED', `SSLCommerz refused our validation request (APIConnect ${String(reply.APIConnect).slice(0, 40)}); check the store id and password`);
    }
    if (reply.status !== 'VALID' && reply.status !== 'VALIDATED') {
      throw new ApiError('GATEWAY_VALIDATION_FAILED', `SSLCommerz does not confirm this payment (validation status ${String(reply.status).slice(0, 40)})`);
    }
    const currency = text(reply.currency_type) ?? text(reply.currency);
    const amount = currency === 'BDT' ? text(reply.amount) : text(reply.currency_amount);
    const tran_id = text(reply.tran_id);
    if (currency === null || amount === null || tran_id === null) throw new ApiError('GATEWAY_VALIDATION_FAILED', 'the SSLCommerz validation answer lacks tran_id, amount or currency');
    return {
      tran_id,
      amount,
      currency,
      gateway_transaction_id: text(reply.bank_tran_id),
      risky: String(reply.risk_level ?? '0') === '1',
      detail: `validation ${String(reply.status)}${reply.risk_title === undefined ? '' : `, risk: ${String(reply.risk_title).slice(0, 60)}`}`,
    };
  }

  /** One call to SSLCommerz, bounded in time and size; any failure is the gateway's (502). */
  async #call(what: string, url: string, init: { method: 'GET' | 'POST'; body?: URLSearchParams }): Promise<Record<string, unknown>> {
    let body: string;
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.settings.timeout_ms), redirect: 'error' });
      body = await response.text();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      throw new ApiError('GATEWAY_VALIDATION_FAILED', `SSLCommerz's ${what} API could not be reached: ${error instanceof Error ? error.message : String(error)}; try again later`);
    }
    if (body.length > MAX_REPLY_BYTES) throw new ApiError('GATEWAY_VALIDATION_FAILED', `SSLCommerz's ${what} API answered with ${body.length} bytes; that is not its answer`);
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      return parsed as Record<string, unknown>;
    } catch {
      throw new ApiError('GATEWAY_VALIDATION_FAILED', `SSLCommerz's ${what} API did not answer with JSON`);
    }
  }
}

/** Only strings: an amount that arrives as a JSON number has already been through a float, so it is refused. */
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

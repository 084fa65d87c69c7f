import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { OperatorAggregate } from '../../commands/aggregates.js';
import type { Clock, CommandEnvelope, CommandResult, CommandRuntime } from '../../commands/command-runtime.js';
import { loadCustomer, loadPackage } from '../../commands/customer-commands.js';
import { receivePayment, type PaymentReceipt } from '../../commands/payment-commands.js';
import { operatorStream } from '../../commands/streams.js';
import type { OperatorState } from '../../domain/operators/operator.js';
import { Money } from '../../domain/money/money.js';
import { decideReceivePayment, type ReceivePayment } from '../../domain/payments/receive-payment.js';
import type { Actor } from '../../domain/shared/command-context.js';
import type { RejectionCode } from '../../domain/shared/rejection.js';
import { ApiError, fromRejection } from '../errors.js';
import { formatPosition } from '../scope.js';
import type { GatewayConfirmation, PaymentGateway } from './gateway.js';

/**
 * Online payments through one gateway, the same for every gateway: open a session for an amount we fix, then
 * turn the gateway's callbacks into at most one `payment-received` event.
 *
 * Safe to receive twice or out of order: the IPN and the customer's browser may arrive in either order, at
 * the same time, or again later. Each is authenticated (signature), then confirmed with the gateway itself,
 * then recorded by `receivePayment` with an idempotency key and a payment id made from our transaction id and
 * the transaction id as gateway reference, so whichever comes second finds the payment there (the command's
 * own duplicate check, or the stored idempotency record) and appends nothing. A callback that says the
 * payment failed or was cancelled appends nothing either; a forged one is refused before anything is read.
 */
export type OnlinePaymentStatus = 'pending' | 'failed' | 'cancelled' | 'paid' | 'held' | 'rejected';

export type SessionView = Readonly<{
  tran_id: string;
  gateway: string;
  customer_id: string;
  amount: string;
  currency: string;
  recharge_package_id: string | null;
  status: OnlinePaymentStatus;
  payment_id: string | null;
  detail: string | null;
  created_at: string;
  paid_at: string | null;
}>;

export type Started = Readonly<{ tran_id: string; gateway: string; redirect_url: string; amount: string; currency: string; status: OnlinePaymentStatus }>;

export type Received = Readonly<{
  tran_id: string;
  /** recorded: this callback appended the payment; already_recorded: an earlier one did; the rest append nothing. */
  outcome: 'recorded' | 'already_recorded' | 'failed' | 'cancelled' | 'pending' | 'held';
  payment_id: string | null;
  position: string | null;
}>;

type SessionRow = {
  tran_id: string;
  gateway: string;
  tenant: string;
  customer_id: string;
  amount: string;
  currency: string;
  recharge_package_id: string | null;
  status: OnlinePaymentStatus;
  payment_id: string | null;
};

/** Refusals that concern only the recharge part: the money is then kept as the customer's credit instead. */
const RECHARGE_REFUSALS: ReadonlySet<RejectionCode> = new Set(['WRONG_BILLING_PROFILE', 'PACKAGE_NOT_FOUND', 'PACKAGE_RETIRED', 'PACKAGE_NOT_ASSIGNED', 'PAYMENT_AMOUNT_TOO_SMALL']);

/** Sessions listed per customer at most. */
const LIST_LIMIT = 100;

/** Our transaction id: unguessable, ≤ 30 characters (SSLCommerz's limit), letters and digits only. */
const newTranId = (): string => `ib${randomBytes(12).toString('hex')}`;

const SESSION_COLUMNS = `tran_id, gateway, customer_id, amount::text AS amount, currency, recharge_package_id, status, payment_id, detail,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
  to_char(paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS paid_at`;

/**
 * An amount as a gateway writes it ("500", "500.00", "500.0000") in the currency's minor units, or null when
 * it is not a plain amount or has more precision than the currency: trailing zeros are not a difference.
 */
export function gatewayAmount(text: string, currency: string): Money | null {
  const match = /^(\d{1,15})(?:\.(\d{1,8}))?$/.exec(text);
  if (match === null) return null;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  try {
    return Money.parse(fraction === '' ? match[1]! : `${match[1]}.${fraction}`, currency);
  } catch {
    return null;
  }
}

export type OnlinePaymentsOptions = Readonly<{
  pool: pg.Pool;
  runtime: CommandRuntime;
  clock: Clock;
  gateway: PaymentGateway;
  /** Origin the gateway and the customer's browser call back (the public URL, or GATEWAY_CALLBACK_URL). */
  callback_origin: string;
  /** Where the browser lands after paying: an absolute URL on our origin, given ?payment=…&outcome=…. */
  return_url: string;
  /** Sent to the gateway as the customer's e-mail when the customer has none (the gateway requires one). */
  fallback_email: string;
}>;

export class OnlinePayments {
  readonly gateway: PaymentGateway;

  constructor(private readonly options: OnlinePaymentsOptions) {
    this.gateway = options.gateway;
  }

  /** The callback URLs of this gateway; the route plugin serves them. */
  static callbackPaths(gateway: string) {
    return {
      ipn: `/api/v1/gateways/${gateway}/ipn`,
      success: `/api/v1/gateways/${gateway}/return/success`,
      fail: `/api/v1/gateways/${gateway}/return/fail`,
      cancel: `/api/v1/gateways/${gateway}/return/cancel`,
    };
  }

  /** The `receivePayment` a confirmed callback runs; decided once at start as a preview, so doomed payments never begin. */
  #command(session: Pick<SessionRow, 'tran_id' | 'tenant' | 'amount' | 'recharge_package_id'>): ReceivePayment {
    return {
      payment_id: `pay-${session.tran_id}`,
      method: 'online',
      amount: session.amount,
      collected_by: this.gateway.name,
      // Online money reaches the ISP's account; the chain settles commission from there.
      collector_operator_id: session.tenant,
      gateway: this.gateway.name,
      gateway_reference: session.tran_id,
      card: null,
      recharge_package_id: session.recharge_package_id,
    };
  }

  #actor(): Actor {
    return { id: `gateway:${this.gateway.name}`, role: 'system' };
  }

  /**
   * Opens a session at the gateway for a customer (the caller checked that it may, and that the customer is in
   * its subtree) and returns where to send the customer's browser. Refuses, before anything is opened, an amount
   * the gateway does not take and a payment the domain would refuse now (a disabled customer, a recharge the
   * amount does not cover).
   */
  async start(started_by: Actor, tenant: string, input: Readonly<{ customer_id: string; amount: string; recharge_package_id: string | null }>): Promise<Started> {
    const { pool, runtime, clock } = this.options;
    const customer = await loadCustomer(runtime, tenant, input.customer_id);
    if (customer === null) throw new ApiError('CUSTOMER_NOT_FOUND', `no customer ${input.customer_id} in this ISP`);
    const currency = customer.state.currency;
    const parsed = gatewayAmount(input.amount, currency);
    if (parsed === null || !parsed.isPositive()) throw new ApiError('INVALID_AMOUNT', `${input.amount} is not an amount > 0 in ${currency}`);
    const limits = this.gateway.limits(currency);
    if (limits !== null && (parsed.compare(Money.parse(limits.min, currency)) < 0 || parsed.compare(Money.parse(limits.max, currency)) > 0)) {
      throw new ApiError('INVALID_AMOUNT', `${this.gateway.name} takes ${limits.min}–${limits.max} ${currency} per payment, not ${parsed.toString()}`);
    }
    const amount = parsed.toString();
    const tran_id = newTranId();
    const command = this.#command({ tran_id, tenant, amount, recharge_package_id: input.recharge_package_id });

    // The preview: the same decision the callback will make, on the state as it is now.
    const chain = (await runtime.loadMany(customer.state.chain.map((operator_id) => ({ type: OperatorAggregate, stream_id: operatorStream(operator_id) })))).map(
      (loaded) => loaded.state as OperatorState,
    );
    const pkg = await loadPackage(runtime, tenant, input.recharge_package_id ?? customer.state.package_id);
    const now = clock.now();
    const preview = decideReceivePayment(customer.state, chain, pkg.state, command, { tenant, actor: this.#actor(), now });
    if (!preview.ok) throw fromRejection(preview.rejection);

    await pool.query(
      `INSERT INTO gateway_sessions (tran_id, gateway, tenant, customer_id, amount, currency, recharge_package_id, started_by_id, started_by_role, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $10)`,
      [tran_id, this.gateway.name, tenant, input.customer_id, amount, currency, input.recharge_package_id, started_by.id, started_by.role, now],
    );
    const paths = OnlinePayments.callbackPaths(this.gateway.name);
    const origin = this.options.callback_origin;
    let opened;
    try {
      opened = await this.gateway.start({
        tran_id,
        amount,
        currency,
        description: input.recharge_package_id === null ? 'Internet service payment' : `Internet recharge (${pkg.state.spec?.name ?? input.recharge_package_id})`,
        customer: {
          customer_id: input.customer_id,
          name: customer.state.name,
          mobile: customer.state.mobile,
          email: customer.state.contact?.email ?? this.options.fallback_email,
          city: customer.state.zone,
        },
        urls: { ipn: origin + paths.ipn, success: origin + paths.success, fail: origin + paths.fail, cancel: origin + paths.cancel },
      });
    } catch (error) {
      await this.#mark(tran_id, 'failed', error instanceof Error ? error.message : String(error));
      throw error;
    }
    await pool.query('UPDATE gateway_sessions SET gateway_session_key = $2, updated_at = $3 WHERE tran_id = $1', [tran_id, opened.gateway_session_key, clock.now()]);
    return { tran_id, gateway: this.gateway.name, redirect_url: opened.redirect_url, amount, currency, status: 'pending' };
  }

  /**
   * A callback from the gateway (its IPN or the customer's browser coming back), in any order, any number of
   * times. Refusals come in this order: not signed with our secret (400, before anything is read); an unknown
   * transaction (404); the gateway does not confirm the payment or confirms something else than we asked for
   * (502, and the session is marked for a person). Nothing is appended on any of them.
   */
  async receive(fields: Readonly<Record<string, string>>): Promise<Received> {
    const notice = this.gateway.authenticate(fields);
    const session = await this.#session(notice.tran_id);
    if (session.status === 'paid') return { tran_id: session.tran_id, outcome: 'already_recorded', payment_id: session.payment_id, position: null };
    if (notice.outcome !== 'paid') {
      // A failure or cancellation is not final at the gateway (the customer may try again on the same page), and
      // it never undoes a payment: only sessions not yet paid take it.
      if (notice.outcome !== 'pending') await this.#mark(session.tran_id, notice.outcome, `${this.gateway.name}: ${notice.status_text}`, ['pending', 'failed', 'cancelled']);
      return { tran_id: session.tran_id, outcome: notice.outcome, payment_id: null, position: null };
    }
    const confirmation = await this.gateway.confirm(notice);
    const problem = this.#disagreement(session, confirmation);
    if (problem !== null) {
      await this.#mark(session.tran_id, 'rejected', problem);
      throw new ApiError('GATEWAY_VALIDATION_FAILED', problem, { tran_id: session.tran_id });
    }
    if (confirmation.risky) {
      await this.#mark(session.tran_id, 'held', `${this.gateway.name} flags this payment as risky (${confirmation.detail}); verify the customer, then record it by hand`);
      return { tran_id: session.tran_id, outcome: 'held', payment_id: null, position: null };
    }
    const recorded = await this.#record(session);
    if (!recorded.ok) {
      // The gateway took the money but the domain refuses it now (the customer was disabled meanwhile, say):
      // nothing is appended and a person decides; the gateway is told we have it, so it stops retrying.
      await this.#mark(session.tran_id, 'held', `paid at ${this.gateway.name} but not recorded: ${recorded.rejection.code}: ${recorded.rejection.message}`);
      return { tran_id: session.tran_id, outcome: 'held', payment_id: null, position: null };
    }
    const receipt = recorded.value;
    await this.options.pool.query(
      `UPDATE gateway_sessions SET status = 'paid', payment_id = $2, validation_id = $3, gateway_transaction_id = $4, detail = $5, paid_at = coalesce(paid_at, $6), updated_at = $6
        WHERE tran_id = $1`,
      [session.tran_id, receipt.payment_id, notice.validation_id, confirmation.gateway_transaction_id, confirmation.detail, this.options.clock.now()],
    );
    const first = !recorded.replayed && !receipt.duplicate;
    return { tran_id: session.tran_id, outcome: first ? 'recorded' : 'already_recorded', payment_id: receipt.payment_id, position: formatPosition(recorded.position) };
  }

  /** Where the customer's browser goes after a callback through it. */
  returnUrl(tran_id: string | null, outcome: string): string {
    const url = new URL(this.options.return_url);
    if (tran_id !== null) url.searchParams.set('payment', tran_id);
    url.searchParams.set('outcome', outcome);
    return url.toString();
  }

  async list(tenant: string, customer_id: string): Promise<SessionView[]> {
    const found = await this.options.pool.query<SessionView>(
      `SELECT ${SESSION_COLUMNS} FROM gateway_sessions WHERE tenant = $1 AND customer_id = $2 ORDER BY created_at DESC, tran_id LIMIT ${LIST_LIMIT}`,
      [tenant, customer_id],
    );
    return found.rows;
  }

  /**
   * Records the payment. A recharge the domain refuses now (the package's price rose, say) is recorded as credit
   * instead, under its own idempotency key, since the money has been taken; either way the payment id and the
   * gateway reference are the transaction's, so only one of the two can ever be appended.
   */
  async #record(session: SessionRow): Promise<CommandResult<PaymentReceipt>> {
    const { runtime } = this.options;
    const envelope: CommandEnvelope = { tenant: session.tenant, actor: this.#actor(), idempotency_key: `${this.gateway.name}:${session.tran_id}` };
    const command = { ...this.#command(session), customer_id: session.customer_id };
    const first = await receivePayment(runtime, envelope, command);
    if (first.ok || session.recharge_package_id === null || !RECHARGE_REFUSALS.has(first.rejection.code)) return first;
    return receivePayment(runtime, { ...envelope, idempotency_key: `${envelope.idempotency_key}:credit` }, { ...command, recharge_package_id: null });
  }

  /** Why the gateway's confirmation is not the payment we started, or null when it is. */
  #disagreement(session: SessionRow, confirmation: GatewayConfirmation): string | null {
    if (confirmation.tran_id !== session.tran_id) return `${this.gateway.name} confirms transaction ${confirmation.tran_id.slice(0, 40)}, not ${session.tran_id}`;
    if (confirmation.currency !== session.currency) return `${this.gateway.name} confirms a payment in ${confirmation.currency.slice(0, 8)}; it was started in ${session.currency}`;
    const paid = gatewayAmount(confirmation.amount, session.currency);
    if (paid === null || !paid.equals(Money.parse(session.amount, session.currency))) {
      return `${this.gateway.name} confirms ${confirmation.amount.slice(0, 24)} ${session.currency}; the payment was started for ${session.amount} ${session.currency}`;
    }
    return null;
  }

  async #session(tran_id: string): Promise<SessionRow> {
    // Ours are letters and digits; anything else was not started here (and a NUL must not reach PostgreSQL).
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(tran_id)) throw new ApiError('NOT_FOUND', `no ${this.gateway.name} payment was started with transaction id ${JSON.stringify(tran_id.slice(0, 64))}`);
    const found = await this.options.pool.query<SessionRow>(
      `SELECT tran_id, gateway, tenant, customer_id, amount::text AS amount, currency, recharge_package_id, status, payment_id FROM gateway_sessions WHERE tran_id = $1 AND gateway = $2`,
      [tran_id, this.gateway.name],
    );
    const row = found.rows[0];
    if (row === undefined) throw new ApiError('NOT_FOUND', `no ${this.gateway.name} payment was started with transaction id ${tran_id}`);
    // numeric drops nothing, but normalise to the currency's minor units for the command's amount.
    return { ...row, amount: gatewayAmount(row.amount, row.currency)!.toString() };
  }

  /** Moves a session that is not paid to another status, with the reason; a paid session never moves. */
  async #mark(tran_id: string, status: Exclude<OnlinePaymentStatus, 'paid'>, detail: string, from: readonly OnlinePaymentStatus[] = ['pending', 'failed', 'cancelled', 'held', 'rejected']): Promise<void> {
    await this.options.pool.query('UPDATE gateway_sessions SET status = $2, detail = $3, updated_at = $4 WHERE tran_id = $1 AND status = ANY($5::text[])', [
      tran_id,
      status,
      // The detail may quote the gateway; PostgreSQL text cannot hold NUL.
      detail.replaceAll('\u0000', '').slice(0, 500),
      this.options.clock.now(),
      from,
    ]);
  }
}

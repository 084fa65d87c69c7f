import { sql, type Kysely } from 'kysely';

/**
 * Online payments in flight (api/gateways). A payment gateway knows a payment by the transaction id we gave it
 * when the customer was sent to pay; when its notification comes back, this row says which customer, how much,
 * in which currency and for what (a recharge or a bill payment) we asked for, so nothing the notification says
 * about those is trusted. The money itself is recorded as a `payment-received` event (method `online`, the
 * transaction id as its gateway reference); this table is the working state around it, like an outbox.
 *
 * `status` follows what we learnt: `pending` until the gateway says more; `failed`/`cancelled` when it said so
 * (the customer may still retry on the same session, so these are not final); `paid` once the payment event is
 * appended (final); `held` when the gateway flags the payment as risky and it waits for a person; `rejected`
 * when the gateway's own validation disagreed with what we started (amount, currency) — also for a person.
 * Times come from the application's injected clock.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE gateway_sessions (
      tran_id text PRIMARY KEY,
      gateway text NOT NULL,
      tenant text NOT NULL,
      customer_id text NOT NULL,
      amount numeric NOT NULL CHECK (amount > 0),
      currency text NOT NULL,
      recharge_package_id text,
      started_by_id text NOT NULL,
      started_by_role text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'failed', 'cancelled', 'paid', 'held', 'rejected')),
      gateway_session_key text,
      validation_id text,
      gateway_transaction_id text,
      payment_id text,
      detail text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      paid_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX gateway_sessions_customer ON gateway_sessions (tenant, customer_id, created_at DESC)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE gateway_sessions`.execute(db);
}

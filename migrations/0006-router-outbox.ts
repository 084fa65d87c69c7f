import { sql, type Kysely } from 'kysely';

/**
 * The router-agent (DESIGN §8). Its subscription writes, in one transaction per batch of events: its checkpoint,
 * the little state it needs to turn events into router commands (routers, customers, packages, each ISP's
 * RADIUS policy; kept here rather than read from read models, which may lag behind its checkpoint), and the
 * commands themselves in `router_outbox`. So a crash leaves all three together: an event is turned into
 * commands exactly once. Each command is then carried out on its router in order, retried with backoff up to
 * a limit, and its outcome is appended to the event log (`routeros-<router>` streams) from the row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE router_agent_checkpoint (
      name text PRIMARY KEY,
      position_commit bigint NOT NULL DEFAULT 0,
      position_prepare bigint NOT NULL DEFAULT 0,
      -- Events recorded before the agent first ran only build its state: acting on years of history would
      -- kick sessions for suspensions long over. Each router's first reconciliation settles the present.
      live_from timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE router_agent_routers (
      router_id text PRIMARY KEY,
      tenant text NOT NULL,
      name text NOT NULL,
      nas_ip text NOT NULL,
      removed boolean NOT NULL DEFAULT false,
      connection jsonb,
      setup jsonb,
      status text NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'up', 'down', 'refused')),
      last_contact_at timestamptz,
      last_error text,
      failures integer NOT NULL DEFAULT 0,
      retry_at timestamptz,
      overflowed boolean NOT NULL DEFAULT false,
      last_reconciled_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX router_agent_routers_tenant ON router_agent_routers (tenant)`.execute(db);
  await sql`
    CREATE TABLE router_agent_customers (
      customer_id text PRIMARY KEY,
      tenant text NOT NULL,
      operator_id text NOT NULL,
      connection_type text NOT NULL,
      username text,
      mac text,
      static_ip text,
      package_id text NOT NULL,
      suspended boolean NOT NULL DEFAULT false,
      expired boolean NOT NULL DEFAULT false,
      disabled boolean NOT NULL DEFAULT false
    )`.execute(db);
  await sql`CREATE INDEX router_agent_customers_tenant ON router_agent_customers (tenant)`.execute(db);
  await sql`
    CREATE TABLE router_agent_packages (
      package_id text PRIMARY KEY,
      tenant text NOT NULL,
      down_kbps integer NOT NULL,
      up_kbps integer NOT NULL
    )`.execute(db);
  await sql`CREATE TABLE router_agent_policies (tenant text PRIMARY KEY, policy jsonb NOT NULL)`.execute(db);
  await sql`
    CREATE TABLE router_outbox (
      id bigserial PRIMARY KEY,
      router_id text NOT NULL,
      tenant text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('kick', 'static', 'check-rate', 'setup', 'reconcile')),
      -- Commands with the same key run strictly in order; '*' (setup, reconcile) waits for everything before it.
      ordering_key text NOT NULL,
      payload jsonb NOT NULL,
      source_event_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      not_before timestamptz NOT NULL DEFAULT now(),
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      outcome jsonb,
      finished_at timestamptz,
      publish_batch uuid,
      published boolean NOT NULL DEFAULT false,
      UNIQUE (source_event_id, router_id, kind)
    )`.execute(db);
  await sql`CREATE INDEX router_outbox_pending ON router_outbox (router_id, id) WHERE state = 'pending'`.execute(db);
  await sql`CREATE INDEX router_outbox_unpublished ON router_outbox (id) WHERE state <> 'pending' AND NOT published`.execute(db);
  await sql`CREATE INDEX router_outbox_finished ON router_outbox (finished_at) WHERE published`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['router_outbox', 'router_agent_policies', 'router_agent_packages', 'router_agent_customers', 'router_agent_routers', 'router_agent_checkpoint']) {
    await sql`DROP TABLE ${sql.table(table)}`.execute(db);
  }
}

import { sql, type Kysely } from 'kysely';

/**
 * The hotspot portal's working state (api/routes/hotspot.ts), and an index for the customer portal's usage page.
 *
 * `hotspot_codes`: one-time codes sent by SMS to prove a mobile number at a hotspot. Like passwords, they are
 * security records, not business facts, so they live here and not in the log: only a scrypt hash of each code is
 * kept (a six-digit code is guessable by its hash alone unless the hash is slow), with when it expires, how often
 * it was tried and when it was used. The rows also count the codes sent per number, device and address, which is
 * how sending is throttled. Registering or signing in with a code is an event as usual.
 *
 * `hotspot_sites`: what a router's hotspot offers to people who sign up there — whose customers they become (the
 * ISP, or a reseller whose area the router serves) and which packages they may buy. A router without a row
 * offers the ISP's current packages and makes the ISP's own customers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE hotspot_codes (
      code_id uuid PRIMARY KEY,
      tenant text NOT NULL,
      router_id text NOT NULL,
      purpose text NOT NULL CHECK (purpose IN ('register', 'sign_in')),
      mobile text NOT NULL,
      mac text NOT NULL,
      address text NOT NULL,
      code_hash text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX hotspot_codes_mobile ON hotspot_codes (tenant, mobile, created_at DESC)`.execute(db);
  await sql`CREATE INDEX hotspot_codes_mac ON hotspot_codes (tenant, mac, created_at DESC)`.execute(db);
  await sql`CREATE INDEX hotspot_codes_address ON hotspot_codes (address, created_at DESC)`.execute(db);
  // Rows older than the longest throttle window are deleted as new codes are sent.
  await sql`CREATE INDEX hotspot_codes_created ON hotspot_codes (created_at)`.execute(db);
  await sql`
    CREATE TABLE hotspot_sites (
      router_id text PRIMARY KEY,
      tenant text NOT NULL,
      owner_operator_id text NOT NULL,
      /** Empty: every current package the owner may sell. */
      package_ids text[] NOT NULL DEFAULT '{}',
      self_registration boolean NOT NULL DEFAULT true,
      updated_by text NOT NULL,
      updated_at timestamptz NOT NULL
    )`.execute(db);
  // A customer's sessions, newest first (the portal's usage page); radacct's own indexes start with the time.
  await sql`CREATE INDEX radacct_user_start ON radacct (username, acctstarttime DESC)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX radacct_user_start`.execute(db);
  await sql`DROP TABLE hotspot_sites`.execute(db);
  await sql`DROP TABLE hotspot_codes`.execute(db);
}

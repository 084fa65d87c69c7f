import { sql, type Kysely } from 'kysely';

/**
 * RADIUS accounting in FreeRADIUS 3.2's own PostgreSQL schema (`radacct`, `radpostauth`, `nasreload`; from
 * `raddb/mods-config/sql/main/postgresql/schema.sql`, lower-case columns), so radius-bridge and a stock FreeRADIUS
 * with rlm_sql can write the same tables side by side. These rows are operational records, not events: a router
 * sends an interim update every few minutes for every online customer, and replaying them would teach nothing.
 *
 * `ispbills_radacct_apply` runs a batch of accounting requests in one round trip, each through the same chain
 * of statements FreeRADIUS 3.2's `queries.conf` runs for its `Acct-Status-Type` (the next statement runs when the
 * previous one changed no row), in the order they arrived.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE radacct (
      radacctid bigserial PRIMARY KEY,
      acctsessionid text NOT NULL,
      acctuniqueid text NOT NULL UNIQUE,
      username text,
      realm text,
      nasipaddress inet NOT NULL,
      nasportid text,
      nasporttype text,
      acctstarttime timestamptz,
      acctupdatetime timestamptz,
      acctstoptime timestamptz,
      acctinterval bigint,
      acctsessiontime bigint,
      acctauthentic text,
      connectinfo_start text,
      connectinfo_stop text,
      acctinputoctets bigint,
      acctoutputoctets bigint,
      calledstationid text,
      callingstationid text,
      acctterminatecause text,
      servicetype text,
      framedprotocol text,
      framedipaddress inet,
      framedipv6address inet,
      framedipv6prefix inet,
      framedinterfaceid text,
      delegatedipv6prefix inet,
      class text,
      usage_recorded_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX radacct_active_session_idx ON radacct (acctuniqueid) WHERE acctstoptime IS NULL`.execute(db);
  await sql`CREATE INDEX radacct_bulk_close ON radacct (nasipaddress, acctstarttime) WHERE acctstoptime IS NULL`.execute(db);
  await sql`CREATE INDEX radacct_start_user_idx ON radacct (acctstarttime, username)`.execute(db);
  await sql`CREATE INDEX radacct_calss_idx ON radacct (class)`.execute(db);
  // Not in FreeRADIUS' schema (its queries name their columns, so extra ones are harmless): Simultaneous-Use and
  // Disconnect look up a user's open sessions, and every finished session, whichever server wrote it, becomes
  // one usage event (`usage_recorded_at` marks it done, so radacct is the outbox).
  await sql`CREATE INDEX radacct_open_user_idx ON radacct (username) WHERE acctstoptime IS NULL`.execute(db);
  await sql`CREATE INDEX radacct_usage_pending_idx ON radacct (acctstoptime) WHERE acctstoptime IS NOT NULL AND usage_recorded_at IS NULL`.execute(db);
  await sql`
    CREATE TABLE radpostauth (
      id bigserial PRIMARY KEY,
      username text NOT NULL,
      pass text,
      reply text,
      calledstationid text,
      callingstationid text,
      authdate timestamptz NOT NULL DEFAULT now(),
      class text
    )`.execute(db);
  await sql`CREATE INDEX radpostauth_username_idx ON radpostauth (username)`.execute(db);
  await sql`CREATE INDEX radpostauth_class_idx ON radpostauth (class)`.execute(db);
  await sql`
    CREATE TABLE nasreload (
      nasipaddress inet PRIMARY KEY,
      reloadtime timestamptz NOT NULL
    )`.execute(db);
  // Where radius-bridge's Disconnect/CoA sender has read the event log up to (one row per reactor).
  await sql`
    CREATE TABLE radius_checkpoints (
      name text PRIMARY KEY,
      position_commit bigint NOT NULL,
      position_prepare bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql.raw(RECORD_TYPE).execute(db);
  await sql.raw(APPLY_FUNCTION).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION ispbills_radacct_apply(jsonb)`.execute(db);
  await sql`DROP TYPE ispbills_radacct_record`.execute(db);
  await sql`DROP TABLE radius_checkpoints`.execute(db);
  await sql`DROP TABLE nasreload`.execute(db);
  await sql`DROP TABLE radpostauth`.execute(db);
  await sql`DROP TABLE radacct`.execute(db);
}

/**
 * One record per accounting request, as FreeRADIUS expands its xlats: strings are '' when the attribute is
 * absent (`'%{Connect-Info}'`), nullable ones are null (`NULLIF('%{Framed-IP-Address}', '')`), `epoch` is
 * Event-Timestamp (or the arrival time less Acct-Delay-Time, as rlm_preprocess adds it), `session_time` is
 * null when Acct-Session-Time is absent, the octet counters are already (gigawords << 32) + octets.
 * Returns, per record in order, how many rows the chain changed and whether the session is open afterwards.
 */
const RECORD_TYPE = `
CREATE TYPE ispbills_radacct_record AS (
  status text, acctsessionid text, acctuniqueid text, username text, realm text, nasipaddress inet, nasportid text,
  nasporttype text, epoch bigint, session_time bigint, acctauthentic text, connectinfo text, input_octets bigint,
  output_octets bigint, calledstationid text, callingstationid text, terminatecause text, servicetype text,
  framedprotocol text, framedipaddress inet, framedipv6address inet, framedipv6prefix inet, framedinterfaceid text,
  delegatedipv6prefix inet
)`;

const APPLY_FUNCTION = `
CREATE FUNCTION ispbills_radacct_apply(records jsonb)
RETURNS TABLE (ordinal integer, changed bigint, session_open boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
  r ispbills_radacct_record;
  i integer := 0;
  n bigint;
  v_open boolean;
  ts timestamptz;
  v_epoch bigint;
BEGIN
  FOR r IN SELECT * FROM jsonb_populate_recordset(NULL::ispbills_radacct_record, records) LOOP
    i := i + 1;
    n := 0;
    v_open := NULL;
    v_epoch := r.epoch;
    ts := to_timestamp(v_epoch);
    CASE r.status
    WHEN 'start' THEN
      INSERT INTO radacct (acctsessionid, acctuniqueid, username, realm, nasipaddress, nasportid, nasporttype,
          acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctauthentic, connectinfo_start, connectinfo_stop,
          acctinputoctets, acctoutputoctets, calledstationid, callingstationid, acctterminatecause, servicetype,
          framedprotocol, framedipaddress, framedipv6address, framedipv6prefix, framedinterfaceid, delegatedipv6prefix)
        VALUES (r.acctsessionid, r.acctuniqueid, r.username, r.realm, r.nasipaddress,
          r.nasportid, r.nasporttype, ts, ts, NULL, 0, r.acctauthentic, r.connectinfo, NULL, 0, 0,
          r.calledstationid, r.callingstationid, NULL, r.servicetype, r.framedprotocol,
          r.framedipaddress, r.framedipv6address, r.framedipv6prefix,
          r.framedinterfaceid, r.delegatedipv6prefix)
        ON CONFLICT (acctuniqueid) DO UPDATE
          SET acctstarttime = ts, acctupdatetime = ts, connectinfo_start = r.connectinfo
          WHERE radacct.acctuniqueid = r.acctuniqueid AND radacct.acctstoptime IS NULL
        RETURNING acctstoptime IS NULL INTO v_open;
      GET DIAGNOSTICS n = ROW_COUNT;
      IF n = 0 THEN
        UPDATE radacct SET acctstarttime = ts, acctupdatetime = ts, connectinfo_start = r.connectinfo
          WHERE acctuniqueid = r.acctuniqueid
          RETURNING acctstoptime IS NULL INTO v_open;
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
    WHEN 'interim-update' THEN
      UPDATE radacct SET
          framedipaddress = r.framedipaddress,
          framedipv6address = r.framedipv6address,
          framedipv6prefix = r.framedipv6prefix,
          framedinterfaceid = r.framedinterfaceid,
          delegatedipv6prefix = r.delegatedipv6prefix,
          acctsessiontime = r.session_time,
          acctinterval = (v_epoch - EXTRACT(EPOCH FROM (COALESCE(acctupdatetime, acctstarttime)))),
          acctupdatetime = ts,
          acctinputoctets = r.input_octets,
          acctoutputoctets = r.output_octets
        WHERE acctuniqueid = r.acctuniqueid AND acctstoptime IS NULL
        RETURNING acctstoptime IS NULL INTO v_open;
      GET DIAGNOSTICS n = ROW_COUNT;
      IF n = 0 THEN
        -- The Start was lost: the session begins here, as FreeRADIUS 3.2 records it.
        INSERT INTO radacct (acctsessionid, acctuniqueid, username, realm, nasipaddress, nasportid, nasporttype,
            acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctauthentic, connectinfo_start, connectinfo_stop,
            acctinputoctets, acctoutputoctets, calledstationid, callingstationid, acctterminatecause, servicetype,
            framedprotocol, framedipaddress, framedipv6address, framedipv6prefix, framedinterfaceid, delegatedipv6prefix)
          VALUES (r.acctsessionid, r.acctuniqueid, r.username, r.realm, r.nasipaddress,
            r.nasportid, r.nasporttype, ts, ts, NULL, r.session_time, r.acctauthentic,
            r.connectinfo, NULL, r.input_octets, r.output_octets,
            r.calledstationid, r.callingstationid, NULL, r.servicetype, r.framedprotocol,
            r.framedipaddress, r.framedipv6address, r.framedipv6prefix,
            r.framedinterfaceid, r.delegatedipv6prefix)
          ON CONFLICT (acctuniqueid) DO NOTHING
          RETURNING acctstoptime IS NULL INTO v_open;
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
    WHEN 'stop' THEN
      UPDATE radacct SET
          acctstoptime = ts,
          acctupdatetime = ts,
          acctsessiontime = COALESCE(r.session_time, (v_epoch - EXTRACT(EPOCH FROM (acctstarttime)))),
          acctinputoctets = r.input_octets,
          acctoutputoctets = r.output_octets,
          acctterminatecause = r.terminatecause,
          framedipaddress = r.framedipaddress,
          framedipv6address = r.framedipv6address,
          framedipv6prefix = r.framedipv6prefix,
          framedinterfaceid = r.framedinterfaceid,
          delegatedipv6prefix = r.delegatedipv6prefix,
          connectinfo_stop = r.connectinfo
        WHERE acctuniqueid = r.acctuniqueid AND acctstoptime IS NULL;
      GET DIAGNOSTICS n = ROW_COUNT;
      IF n = 0 THEN
        -- Start and interims lost: the whole session from one Stop, its start reckoned from Acct-Session-Time.
        INSERT INTO radacct (acctsessionid, acctuniqueid, username, realm, nasipaddress, nasportid, nasporttype,
            acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctauthentic, connectinfo_start, connectinfo_stop,
            acctinputoctets, acctoutputoctets, calledstationid, callingstationid, acctterminatecause, servicetype,
            framedprotocol, framedipaddress, framedipv6address, framedipv6prefix, framedinterfaceid, delegatedipv6prefix)
          VALUES (r.acctsessionid, r.acctuniqueid, r.username, r.realm, r.nasipaddress,
            r.nasportid, r.nasporttype, to_timestamp(v_epoch - COALESCE(r.session_time, 0)), ts, ts,
            r.session_time, r.acctauthentic, r.connectinfo, NULL,
            r.input_octets, r.output_octets, r.calledstationid, r.callingstationid,
            r.terminatecause, r.servicetype, r.framedprotocol, r.framedipaddress,
            r.framedipv6address, r.framedipv6prefix, r.framedinterfaceid,
            r.delegatedipv6prefix)
          ON CONFLICT (acctuniqueid) DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
      IF n = 0 THEN
        UPDATE radacct SET
            acctstoptime = ts,
            acctupdatetime = ts,
            acctsessiontime = COALESCE(r.session_time, (v_epoch - EXTRACT(EPOCH FROM (acctstarttime)))),
            acctinputoctets = r.input_octets,
            acctoutputoctets = r.output_octets,
            acctterminatecause = r.terminatecause,
            framedipaddress = r.framedipaddress,
            framedipv6address = r.framedipv6address,
            framedipv6prefix = r.framedipv6prefix,
            framedinterfaceid = r.framedinterfaceid,
            delegatedipv6prefix = r.delegatedipv6prefix,
            connectinfo_stop = r.connectinfo
          WHERE acctuniqueid = r.acctuniqueid;
        GET DIAGNOSTICS n = ROW_COUNT;
      END IF;
      v_open := CASE WHEN n > 0 THEN false END;
    WHEN 'accounting-on', 'accounting-off' THEN
      UPDATE radacct SET
          acctstoptime = ts,
          acctupdatetime = ts,
          acctsessiontime = (v_epoch - EXTRACT(EPOCH FROM (acctstarttime))),
          acctterminatecause = r.terminatecause
        WHERE acctstoptime IS NULL AND nasipaddress = r.nasipaddress AND acctstarttime <= ts;
      GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
      -- Other status types (Failed, none at all) are acknowledged and not recorded, as FreeRADIUS does.
      n := 0;
    END CASE;
    ordinal := i;
    changed := n;
    session_open := v_open;
    RETURN NEXT;
  END LOOP;
END
$fn$`;

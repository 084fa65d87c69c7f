import type { RecordedEvent } from '../../eventstore/event-store.js';
import type { CustomerEvent } from '../../domain/customers/customer.js';
import type { OperatorEvent } from '../../domain/operators/operator.js';
import type { PackageEvent } from '../../domain/packages/package.js';
import type { StaffEvent } from '../../domain/staff/staff.js';
import { put, ref, remove, type Projection, type Row, type RowChange, type RowRef } from '../projection.js';
import { actorOf, asDomain, minus, occurredAt, plus, tenantOf } from './event-fields.js';

/**
 * The operator tree with wallet balances, each wallet's statement (every movement with the balance after it),
 * commission statements (what each operator earned and had clawed back, payment by payment), the package
 * catalogue with what each reseller pays for it, staff, and each ISP's profile (what its documents print).
 */
export const OPERATORS = 'operators';
export const WALLET_ENTRIES = 'wallet_entries';
export const COMMISSION_LINES = 'commission_lines';
export const PACKAGES = 'packages';
export const PACKAGE_ASSIGNMENTS = 'package_assignments';
export const STAFF = 'staff';
export const ISP_PROFILES = 'isp_profiles';

export const operatorsProjection: Projection = {
  name: 'operators',
  // 2: isp_profiles (address, contacts, locale, logo and payment note for the documents).
  version: 2,
  tables: [
    {
      name: OPERATORS,
      key: ['operator_id'],
      columns: {
        operator_id: 'text',
        tenant: 'text',
        role: 'text',
        parent_id: 'text',
        ancestry: 'text[]',
        name: 'text',
        currency: 'text',
        time_zone: 'text',
        status: 'text',
        billing_mode: 'text',
        credit_limit: 'numeric',
        wallet_balance: 'numeric',
        commission_terms: 'jsonb',
        created_at: 'timestamptz',
        updated_at: 'timestamptz',
      },
      indexes: ['CREATE INDEX ON {table} (tenant, parent_id)', 'CREATE INDEX ON {table} USING gin (ancestry)'],
    },
    {
      name: WALLET_ENTRIES,
      write_once: true,
      key: ['operator_id', 'global_position'],
      columns: {
        operator_id: 'text',
        global_position: 'bigint',
        tenant: 'text',
        at: 'timestamptz',
        kind: 'text',
        reason: 'text',
        amount: 'numeric',
        balance_after: 'numeric',
        customer_id: 'text',
        payment_id: 'text',
        reference: 'text',
        recorded_by: 'text',
      },
      indexes: ['CREATE INDEX ON {table} (operator_id, at)'],
    },
    {
      name: COMMISSION_LINES,
      write_once: true,
      key: ['operator_id', 'global_position'],
      columns: {
        operator_id: 'text',
        global_position: 'bigint',
        tenant: 'text',
        at: 'timestamptz',
        kind: 'text',
        customer_id: 'text',
        payment_id: 'text',
        refund_id: 'text',
        currency: 'text',
        amount: 'numeric',
      },
      indexes: ['CREATE INDEX ON {table} (operator_id, at)', 'CREATE INDEX ON {table} (payment_id)'],
    },
    {
      name: PACKAGES,
      key: ['package_id'],
      columns: {
        package_id: 'text',
        tenant: 'text',
        name: 'text',
        down_kbps: 'integer',
        up_kbps: 'integer',
        burst: 'jsonb',
        price: 'numeric',
        currency: 'text',
        validity_days: 'integer',
        ip_pool: 'text',
        data_quota_mb: 'integer',
        retired: 'boolean',
      },
      indexes: ['CREATE INDEX ON {table} (tenant, name)'],
    },
    {
      name: PACKAGE_ASSIGNMENTS,
      key: ['operator_id', 'package_id'],
      columns: { operator_id: 'text', package_id: 'text', tenant: 'text', wholesale_price: 'numeric', effective_from: 'date' },
    },
    {
      name: STAFF,
      key: ['staff_id'],
      columns: { staff_id: 'text', tenant: 'text', operator_id: 'text', role: 'text', name: 'text', permissions: 'text[]', removed: 'boolean' },
      indexes: ['CREATE INDEX ON {table} (operator_id)'],
    },
    {
      name: ISP_PROFILES,
      key: ['operator_id'],
      columns: {
        operator_id: 'text',
        address: 'text',
        phone: 'text',
        email: 'text',
        locale: 'text',
        logo_media_type: 'text',
        logo_base64: 'text',
        logo_sha256: 'text',
        payment_note: 'text',
        updated_at: 'timestamptz',
      },
    },
  ],
  reads: (recorded) => {
    if (recorded.stream_id.startsWith('operator-')) return [ref(OPERATORS, { operator_id: (recorded.data as { operator_id: string }).operator_id })];
    if (recorded.stream_id.startsWith('staff-')) return [ref(STAFF, { staff_id: (recorded.data as { staff_id: string }).staff_id })];
    if (recorded.stream_id.startsWith('package-')) return [ref(PACKAGES, { package_id: (recorded.data as { package_id: string }).package_id })];
    return [] as RowRef[];
  },
  handle: (recorded, rows) => {
    if (recorded.stream_id.startsWith('operator-')) return operatorChanges(recorded, rows.get(OPERATORS, { operator_id: (recorded.data as { operator_id: string }).operator_id }));
    if (recorded.stream_id.startsWith('staff-')) return staffChanges(recorded, rows.get(STAFF, { staff_id: (recorded.data as { staff_id: string }).staff_id }));
    if (recorded.stream_id.startsWith('package-')) return packageChanges(recorded, rows.get(PACKAGES, { package_id: (recorded.data as { package_id: string }).package_id }));
    if (recorded.stream_id.startsWith('customer-')) return commissionChanges(recorded);
    return [];
  },
};

function operatorChanges(recorded: RecordedEvent, before: Row | undefined): RowChange[] {
  const event = asDomain<OperatorEvent>(recorded);
  const at = occurredAt(recorded);
  if (event.type === 'isp-registered') {
    const d = event.data;
    return [
      put(ISP_PROFILES, { operator_id: d.operator_id, address: d.address, phone: null, email: null, locale: null, logo_media_type: null, logo_base64: null, logo_sha256: null, payment_note: null, updated_at: at }),
      put(OPERATORS, {
        operator_id: d.operator_id,
        tenant: tenantOf(recorded),
        role: 'admin',
        parent_id: null,
        ancestry: [],
        name: d.name,
        currency: d.currency,
        time_zone: d.time_zone,
        status: 'active',
        billing_mode: 'prepaid',
        credit_limit: '0',
        wallet_balance: '0',
        commission_terms: null,
        created_at: at,
        updated_at: at,
      }),
    ];
  }
  if (event.type === 'operator-created') {
    const d = event.data;
    return [
      put(OPERATORS, {
        operator_id: d.operator_id,
        tenant: tenantOf(recorded),
        role: d.role,
        parent_id: d.parent_id,
        ancestry: d.ancestry,
        name: d.name,
        currency: d.currency,
        time_zone: d.time_zone,
        status: 'active',
        billing_mode: d.billing_mode,
        credit_limit: d.credit_limit,
        wallet_balance: '0',
        commission_terms: null,
        created_at: at,
        updated_at: at,
      }),
    ];
  }
  if (before === undefined) return [];
  const row: Row = { ...before, updated_at: at };
  const currency = row.currency as string;
  const wallet = (kind: string, signed: string, reason: string, customer_id: string | null, payment_id: string | null, reference: string | null): RowChange[] => {
    const balance_after = plus(row.wallet_balance as string, signed, currency);
    return [
      put(OPERATORS, { ...row, wallet_balance: balance_after }),
      put(WALLET_ENTRIES, {
        operator_id: row.operator_id as string,
        global_position: recorded.global_position.toString(),
        tenant: row.tenant as string,
        at,
        kind,
        reason,
        amount: signed,
        balance_after,
        customer_id,
        payment_id,
        reference,
        recorded_by: actorOf(recorded),
      }),
    ];
  };
  switch (event.type) {
    case 'operator-suspended':
      return [put(OPERATORS, { ...row, status: 'suspended' })];
    case 'operator-reinstated':
      return [put(OPERATORS, { ...row, status: 'active' })];
    case 'operator-billing-mode-set':
      return [put(OPERATORS, { ...row, billing_mode: event.data.billing_mode, credit_limit: event.data.credit_limit })];
    case 'commission-terms-set':
      return [put(OPERATORS, { ...row, commission_terms: { ...event.data.terms, effective_from: event.data.effective_from } })];
    case 'package-assigned':
      return [
        put(PACKAGE_ASSIGNMENTS, {
          operator_id: event.data.operator_id,
          package_id: event.data.package_id,
          tenant: row.tenant as string,
          wholesale_price: event.data.wholesale_price,
          effective_from: event.data.effective_from,
        }),
      ];
    case 'package-unassigned':
      return [remove(PACKAGE_ASSIGNMENTS, { operator_id: event.data.operator_id, package_id: event.data.package_id })];
    case 'isp-profile-set': {
      const d = event.data;
      return [
        put(ISP_PROFILES, {
          operator_id: d.operator_id,
          address: d.address,
          phone: d.phone,
          email: d.email,
          locale: d.locale,
          logo_media_type: d.logo?.media_type ?? null,
          logo_base64: d.logo?.data_base64 ?? null,
          logo_sha256: d.logo_sha256,
          payment_note: d.payment_note,
          updated_at: at,
        }),
      ];
    }
    case 'wallet-topped-up':
      return wallet('top_up', event.data.amount, event.data.method, null, null, event.data.reference);
    case 'wallet-debited':
      return wallet('debit', minus('0', event.data.amount, currency), event.data.reason, event.data.customer_id, event.data.payment_id, null);
    case 'wallet-credited':
      return wallet('credit', event.data.amount, event.data.reason, event.data.customer_id, event.data.payment_id, null);
    default:
      return [];
  }
}

function staffChanges(recorded: RecordedEvent, before: Row | undefined): RowChange[] {
  const event = asDomain<StaffEvent>(recorded);
  switch (event.type) {
    case 'staff-added':
      return [
        put(STAFF, {
          staff_id: event.data.staff_id,
          tenant: tenantOf(recorded),
          operator_id: event.data.operator_id,
          role: event.data.role,
          name: event.data.name,
          permissions: event.data.permissions,
          removed: false,
        }),
      ];
    case 'staff-permissions-set':
      return before === undefined ? [] : [put(STAFF, { ...before, permissions: event.data.permissions })];
    case 'staff-removed':
      return before === undefined ? [] : [put(STAFF, { ...before, removed: true })];
  }
}

function packageChanges(recorded: RecordedEvent, before: Row | undefined): RowChange[] {
  const event = asDomain<PackageEvent>(recorded);
  switch (event.type) {
    case 'package-created':
    case 'package-updated': {
      const d = event.data;
      const identity = event.type === 'package-created' ? { tenant: event.data.tenant, currency: event.data.currency } : { tenant: before?.tenant ?? tenantOf(recorded), currency: before?.currency ?? null };
      return [
        put(PACKAGES, {
          package_id: d.package_id,
          ...identity,
          name: d.name,
          down_kbps: d.down_kbps,
          up_kbps: d.up_kbps,
          burst: d.burst,
          price: d.price,
          validity_days: d.validity_days,
          ip_pool: d.ip_pool,
          data_quota_mb: d.data_quota_mb,
          retired: false,
        }),
      ];
    }
    case 'package-retired':
      return before === undefined ? [] : [put(PACKAGES, { ...before, retired: true })];
  }
}

/** Commission earned on payments and clawed back on refunds: one line per operator of the chain. */
function commissionChanges(recorded: RecordedEvent): RowChange[] {
  const event = asDomain<CustomerEvent>(recorded);
  const line = (operator_id: string, kind: string, amount: string, currency: string, payment_id: string, refund_id: string | null): RowChange =>
    put(COMMISSION_LINES, {
      operator_id,
      global_position: recorded.global_position.toString(),
      tenant: tenantOf(recorded),
      at: occurredAt(recorded),
      kind,
      customer_id: event.data.customer_id,
      payment_id,
      refund_id,
      currency,
      amount,
    });
  if (event.type === 'payment-received') return event.data.commission.map((share) => line(share.operator_id, 'commission', share.amount, event.data.currency, event.data.payment_id, null));
  if (event.type === 'payment-refunded') {
    const d = event.data;
    return d.commission_clawback.map((share) => line(share.operator_id, 'clawback', minus('0', share.amount, d.currency), d.currency, d.payment_id, d.refund_id));
  }
  return [];
}

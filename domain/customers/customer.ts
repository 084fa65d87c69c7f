import type { LocalDate } from '../calendar/local-date.js';
import type { DomainEvent } from '../shared/decider.js';

/**
 * A subscriber, in its stream `customer-<id>`: who it is, how it connects, what it buys, its bills, payments
 * and credit. Bills live inside the customer stream, so a payment that settles bills is one atomic append and
 * "one bill per customer per period" is enforced by the stream itself.
 */
export type ConnectionType = 'pppoe' | 'hotspot' | 'static_ip';

export type BillingProfile =
  | Readonly<{ kind: 'daily' }>
  | Readonly<{ kind: 'monthly'; due_day: number; mode: 'prepaid' | 'postpaid'; grace_days: number }>;

export type PaymentMethod = 'cash' | 'online' | 'card' | 'reseller_wallet';

/** How the customer is told about bills, reminders and locks (notifications/), and in which language. */
export type NotificationChannel = 'sms' | 'email' | 'whatsapp';
export type NotificationLanguage = 'en' | 'bn';
export type ContactPreferences = Readonly<{
  email: string | null;
  /** null: the ISP's default language. */
  language: NotificationLanguage | null;
  /** null: the ISP's default channels; [] asks for no notifications at all. */
  channels: readonly NotificationChannel[] | null;
}>;

export type Credentials = Readonly<{
  username: string | null;
  /** Kept as given: CHAP needs the clear text on the RADIUS side. */
  password: string | null;
  mac: string | null;
  static_ip: string | null;
}>;

export type Allocation = Readonly<{ bill_id: string; amount: string }>;
export type CommissionShare = Readonly<{ operator_id: string; amount: string }>;
export type WalletMovement = Readonly<{ operator_id: string; amount: string; direction: 'debit' | 'credit' }>;

export type CustomerEvent =
  | DomainEvent<
      'customer-registered',
      Credentials & {
        customer_id: string;
        tenant: string;
        operator_id: string;
        /** From the ISP down to the owning operator: the commission chain. */
        chain: readonly string[];
        connection_type: ConnectionType;
        name: string;
        mobile: string;
        zone: string;
        package_id: string;
        profile: BillingProfile;
        special_price: string | null;
        currency: string;
        time_zone: string;
        registered_on: LocalDate;
        self_registered: boolean;
      }
    >
  | DomainEvent<'customer-details-changed', { customer_id: string; name: string; mobile: string; zone: string }>
  | DomainEvent<'customer-recharged', { customer_id: string; payment_id: string; package_id: string; days: number; price: string; expires_at_before: string | null; expires_at_after: string }>
  | DomainEvent<
      'payment-received',
      {
        payment_id: string;
        customer_id: string;
        method: PaymentMethod;
        amount: string;
        currency: string;
        received_at: string;
        /** The person who took the money (staff, operator or customer id) and the operator they act for. */
        collected_by: string;
        collector_operator_id: string;
        gateway: string | null;
        gateway_reference: string | null;
        card: Readonly<{ batch_id: string; serial: string }> | null;
        allocations: readonly Allocation[];
        /** Of amount + credit_used: what bought a recharge (daily), and what is left over as credit. */
        to_recharge: string;
        to_credit: string;
        /** Existing credit spent on the recharge together with this payment. */
        credit_used: string;
        /** The operator chain's split of `amount` (what each keeps) and the wallet movements that settle it. */
        chain: readonly string[];
        commission: readonly CommissionShare[];
        wallet_movements: readonly WalletMovement[];
      }
    >
  | DomainEvent<
      'payment-refunded',
      {
        refund_id: string;
        payment_id: string;
        customer_id: string;
        amount: string;
        currency: string;
        reason: string;
        reopened: readonly Allocation[];
        credit_reduced: string;
        recharge_reversed: string;
        commission_clawback: readonly CommissionShare[];
        wallet_movements: readonly WalletMovement[];
      }
    >
  | DomainEvent<
      'bill-issued',
      {
        bill_id: string;
        customer_id: string;
        kind: 'monthly' | 'first-period' | 'proration';
        period: string;
        covers_from: LocalDate;
        covers_until: LocalDate;
        package_id: string;
        amount: string;
        currency: string;
        issued_on: LocalDate;
        due_on: LocalDate;
      }
    >
  | DomainEvent<'credit-applied', { customer_id: string; bill_id: string; amount: string }>
  | DomainEvent<'credit-granted', { customer_id: string; amount: string; reason: 'proration' | 'adjustment' }>
  | DomainEvent<'customer-suspended', { customer_id: string; reason: string; by: string }>
  | DomainEvent<'customer-resumed', { customer_id: string; by: string }>
  | DomainEvent<'customer-expired', { customer_id: string; expired_at: string }>
  | DomainEvent<'customer-locked', { customer_id: string; reason: 'unpaid'; overdue_bill_ids: readonly string[] }>
  | DomainEvent<'customer-reactivated', { customer_id: string; reason: 'recharged' | 'bills-paid' | 'expiry-extended' | 'quota-renewed' }>
  | DomainEvent<'customer-disabled', { customer_id: string; reason: string; by: string }>
  | DomainEvent<'customer-enabled', { customer_id: string; by: string }>
  | DomainEvent<'expiry-set', { customer_id: string; expires_at: string; reason: string; by: string }>
  | DomainEvent<'mac-bound', { customer_id: string; mac: string }>
  | DomainEvent<'mac-unbound', { customer_id: string; mac: string }>
  | DomainEvent<
      'package-changed',
      { customer_id: string; from_package_id: string; to_package_id: string; credit: string; charge: string; net: string; changed_on: LocalDate }
    >
  | DomainEvent<'special-price-set', { customer_id: string; special_price: string | null }>
  | DomainEvent<'customer-moved', { customer_id: string; from_operator_id: string; to_operator_id: string; chain: readonly string[] }>
  | DomainEvent<'billing-profile-changed', { customer_id: string; from: BillingProfile; to: BillingProfile; billing_starts_on: LocalDate | null; expires_at: string | null }>
  /**
   * The package's data quota is used up for the usage period (daily: the current validity; monthly: the billing
   * period). Always followed in the same append by `customer-expired`, which is what RADIUS and the routers act
   * on; this event says why. A recharge (daily) or the next period's bill (monthly) reactivates the customer.
   */
  | DomainEvent<'data-quota-reached', { customer_id: string; package_id: string; quota_mb: number; used_octets: string; usage_period: string }>
  | DomainEvent<'contact-preferences-set', ContactPreferences & { customer_id: string }>;

export type Bill = Readonly<{
  bill_id: string;
  period: string;
  kind: 'monthly' | 'first-period' | 'proration';
  amount: string;
  open: string;
  issued_on: LocalDate;
  due_on: LocalDate;
}>;

export type PaymentRecord = Readonly<{
  payment_id: string;
  method: PaymentMethod;
  amount: string;
  refunded: string;
  allocations: readonly Allocation[];
  to_recharge: string;
  to_credit: string;
  chain: readonly string[];
  collector_operator_id: string;
  commission: readonly CommissionShare[];
  package_id: string;
  gateway_reference: string | null;
  /** The refunds of this payment so far, part by part, so a later refund takes back only what is left. */
  refunds: readonly RefundRecord[];
}>;

export type RefundRecord = Readonly<{
  refund_id: string;
  amount: string;
  reopened: readonly Allocation[];
  credit_reduced: string;
  recharge_reversed: string;
  commission_clawback: readonly CommissionShare[];
}>;

export type CustomerState = Readonly<{
  exists: boolean;
  customer_id: string;
  tenant: string;
  operator_id: string;
  chain: readonly string[];
  connection_type: ConnectionType;
  credentials: Credentials;
  name: string;
  mobile: string;
  zone: string;
  package_id: string;
  profile: BillingProfile;
  special_price: string | null;
  currency: string;
  time_zone: string;
  registered_on: LocalDate;
  /** Daily customers: service runs until this instant (ISO). Monthly customers: null. */
  expires_at: string | null;
  suspended: boolean;
  disabled: boolean;
  /** Validity ran out (daily) or locked for unpaid bills (monthly). */
  expired: boolean;
  locked_for_unpaid: boolean;
  credit: string;
  bills: readonly Bill[];
  /**
   * The end (exclusive) of the service time monthly bills have covered so far. A bill run bills from here, so a
   * change of due day or mode never leaves days unbilled nor bills a day twice.
   */
  billed_until: LocalDate | null;
  /** Monthly billing starts with the period that begins on or after this date (after a switch from daily). */
  billing_starts_on: LocalDate | null;
  payments: Readonly<Record<string, PaymentRecord>>;
  /** What each recharge bought, by the payment that paid for it (refunds take the days back). */
  recharges: Readonly<Record<string, Readonly<{ package_id: string; days: number }>>>;
  gateway_references: readonly string[];
  /** Set by `data-quota-reached` to the usage period whose quota ran out; cleared by `customer-reactivated`. */
  quota_locked_period: string | null;
  contact: ContactPreferences;
}>;

export type CustomerStatus = 'active' | 'suspended' | 'expired' | 'disabled';

/** One word for people and for RADIUS; the precedence is disabled, then suspended, then expired. */
export function customerStatus(state: Pick<CustomerState, 'disabled' | 'suspended' | 'expired'>): CustomerStatus {
  if (state.disabled) return 'disabled';
  if (state.suspended) return 'suspended';
  if (state.expired) return 'expired';
  return 'active';
}

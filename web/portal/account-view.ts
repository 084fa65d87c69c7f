/**
 * The customer's own API replies (/api/v1/me…) as the portal's pages show them: what a person asks first — is it
 * working, until when, what do I owe — worked out once here, so the overview and the hotspot's account page say
 * the same thing.
 */
export type Account = Readonly<{
  customer_id: string;
  name: string;
  username: string | null;
  mobile: string;
  connection_type: string;
  zone: string;
  status: 'active' | 'expired' | 'suspended' | 'disabled';
  billing_profile: string;
  expires_at: string | null;
  balance_due: string;
  credit: string;
  currency: string;
  package: Readonly<{ package_id: string; name: string | null; down_kbps: number | null; up_kbps: number | null; price: string | null; validity_days: number | null }>;
  operator: Readonly<{ operator_id: string; name: string | null }>;
  mac: string | null;
  isp: Readonly<{ operator_id: string; name: string | null; time_zone: string | null }>;
}>;

export type BillRow = Readonly<{ bill_id: string; period: string; kind: string; amount: string; paid: string; open: string; status: string; issued_on: string; due_on: string; currency: string }>;
export type PaymentRow = Readonly<{ payment_id: string; method: string; amount: string; refunded: string; received_at: string; currency: string; gateway: string | null; card_serial: string | null; to_recharge: string; to_credit: string }>;
export type OnlinePaymentRow = Readonly<{ tran_id: string; amount: string; currency: string; status: string; created_at: string; detail: string | null }>;
export type UsageSession = Readonly<{ session_id: string; login: string | null; nas_ip: string; framed_ip: string | null; started_at: string | null; stopped_at: string | null; seconds: string | null; input_octets: string; output_octets: string; terminate_cause: string | null }>;
export type Usage = Readonly<{
  usage_period: string;
  period_octets: string;
  quota_octets: string | null;
  since: string;
  online: boolean;
  totals: Readonly<{ sessions: number; seconds: string; input_octets: string; output_octets: string }>;
  sessions: readonly UsageSession[];
}>;

const STATUS_TEXT: Readonly<Record<Account['status'], Readonly<{ label: string; tone: string; note: string }>>> = {
  active: { label: 'Active', tone: 'ok', note: 'Your connection is on.' },
  expired: { label: 'Expired', tone: 'warn', note: 'Your package has run out. Recharge to get back online.' },
  suspended: { label: 'Suspended', tone: 'bad', note: 'Your connection is paused by the ISP. Contact them to resume it.' },
  disabled: { label: 'Disabled', tone: 'muted', note: 'This account is closed. Contact the ISP.' },
};

const MONTH = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
const monthName = (period: string): string => {
  const match = /^(\d{4})-(\d{2})$/.exec(period);
  return match === null ? period : MONTH.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)));
};

const untilFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * When a validity ends, as people say it. Validity runs out at a local midnight, which people call the end of the
 * day before ("until 27 Nov, 23:59"), not the start of the next ("until 28 Nov, 00:00").
 */
export function validUntilText(expires_at: string, time_zone: string): string {
  let format = untilFormats.get(time_zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: time_zone });
    untilFormats.set(time_zone, format);
  }
  const instant = new Date(expires_at);
  const midnight = format.formatToParts(instant).some((part) => part.type === 'hour' && part.value === '00') && format.formatToParts(instant).some((part) => part.type === 'minute' && part.value === '00');
  return format.format(midnight ? new Date(instant.getTime() - 60_000) : instant);
}

export function accountView(account: Account, now: Date) {
  const status = STATUS_TEXT[account.status] ?? STATUS_TEXT.disabled;
  const expires = account.expires_at === null ? null : new Date(account.expires_at);
  const ms_left = expires === null ? null : expires.getTime() - now.getTime();
  let left: string | null = null;
  if (ms_left !== null && ms_left > 0) {
    const hours = Math.floor(ms_left / 3_600_000);
    left = hours >= 48 ? `${Math.floor(hours / 24)} days left` : hours >= 1 ? `${hours} hour${hours === 1 ? '' : 's'} left` : 'less than an hour left';
  }
  const owes = /[1-9]/.test(account.balance_due);
  const has_credit = /[1-9]/.test(account.credit);
  return {
    ...account,
    status_label: status.label,
    status_tone: status.tone,
    status_note: account.status === 'expired' && account.billing_profile !== 'daily' ? 'Your connection is locked for an unpaid bill. Pay it and it opens again at once.' : status.note,
    daily: account.billing_profile === 'daily',
    left,
    until: account.expires_at === null ? null : validUntilText(account.expires_at, account.isp.time_zone ?? 'UTC'),
    /** Never had a package yet (a sign-up that has not paid): nothing "ran out". */
    new_customer: account.expires_at === null && account.billing_profile === 'daily' && account.status === 'expired',
    ending_soon: ms_left !== null && ms_left > 0 && ms_left < 3 * 86_400_000,
    owes,
    has_credit,
    speed: account.package.down_kbps === null ? null : { down: account.package.down_kbps, up: account.package.up_kbps },
  };
}

/** The data used this period against the quota, as a share for the bar (exact on bigint octets). */
export function usageView(usage: Usage, account: Account) {
  const used = BigInt(usage.period_octets);
  const quota = usage.quota_octets === null ? null : BigInt(usage.quota_octets);
  const percent = quota === null || quota === 0n ? null : Number(used >= quota ? 100n : (used * 100n) / quota);
  // RADIUS counts from the router's side: input is what the customer sent (upload), output what it received.
  const sessions = usage.sessions.map((session) => ({
    ...session,
    download_octets: session.output_octets,
    upload_octets: session.input_octets,
    total_octets: (BigInt(session.input_octets) + BigInt(session.output_octets)).toString(),
    open: session.stopped_at === null,
  }));
  return {
    ...usage,
    sessions,
    used_octets: used.toString(),
    percent,
    near_limit: percent !== null && percent >= 80,
    period_label: usage.usage_period.startsWith('period:') ? `Billing period ${monthName(usage.usage_period.slice('period:'.length))}` : account.expires_at === null ? 'Since your last recharge' : 'This recharge',
  };
}

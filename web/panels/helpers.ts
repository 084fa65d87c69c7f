import Handlebars from 'handlebars';
import { icon } from './icons.js';

/**
 * What templates format with. Amounts arrive as decimal strings in the currency's minor digits and are only
 * grouped here (never turned into JS numbers); instants are shown in the ISP's time zone; every value written
 * into HTML is escaped (the field helpers build their markup from escaped parts).
 */
type Hash = Readonly<Record<string, unknown>>;
type HelperOptions = Readonly<{ hash: Hash; data: { root: Record<string, unknown> }; fn?: (context: unknown) => string; inverse?: (context: unknown) => string }>;

const escape = (value: unknown): string => Handlebars.escapeExpression(value === undefined || value === null ? '' : String(value));

/** "1234567.5" → "1,234,567.5"; the sign and the fraction stay as they are. */
export function groupDigits(amount: string): string {
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(amount.trim());
  if (match === null) return amount;
  return `${match[1]}${match[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${match[3] ?? ''}`;
}

/**
 * How amounts are written: "Tk" for taka (what receipts in Bangladesh print; the ৳ sign needs a Bengali font that
 * an office PC may lack), the common signs for a few others, the ISO code for the rest.
 */
const SYMBOLS: Readonly<Record<string, string>> = { BDT: 'Tk ', USD: '$', EUR: '€', GBP: '£' };

/** An amount for people: the currency's symbol (or code) and grouped digits. */
export function formatMoney(amount: unknown, currency: unknown): string {
  if (amount === undefined || amount === null || amount === '') return '—';
  const code = typeof currency === 'string' && currency !== '' ? currency : '';
  const text = String(amount);
  const negative = text.startsWith('-');
  const symbol = SYMBOLS[code] ?? (code === '' ? '' : `${code} `);
  return `${negative ? '−' : ''}${symbol}${groupDigits(negative ? text.slice(1) : text)}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(time_zone: string, kind: 'datetime' | 'date' | 'time'): Intl.DateTimeFormat {
  const key = `${time_zone}|${kind}`;
  let found = formatters.get(key);
  if (found === undefined) {
    const options: Intl.DateTimeFormatOptions =
      kind === 'date' ? { day: 'numeric', month: 'short', year: 'numeric' } : kind === 'time' ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    found = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: time_zone });
    formatters.set(key, found);
  }
  return found;
}

/** An ISO instant in the ISP's zone ("16 Nov 2026, 12:00"); a bare date ("2026-11-16") as a calendar day. */
export function formatWhen(value: unknown, time_zone: string, kind: 'datetime' | 'date' = 'datetime'): string {
  if (value === undefined || value === null || value === '') return '—';
  const text = String(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return formatter('UTC', 'date').format(new Date(`${text}T00:00:00Z`));
  const instant = new Date(text);
  if (Number.isNaN(instant.getTime())) return text;
  // An expiry falls on a local midnight: the day says it all.
  if (kind === 'datetime' && formatter(time_zone, 'time').format(instant) === '00:00') return formatter(time_zone, 'date').format(instant);
  return formatter(time_zone, kind).format(instant);
}

/** Octets for people (1 KB = 1000 bytes, as ISPs sell them). */
export function formatBytes(value: unknown): string {
  const bytes = Number(value ?? 0);
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let index = 0;
  let amount = bytes;
  while (amount >= 1000 && index < units.length - 1) {
    amount /= 1000;
    index += 1;
  }
  return `${amount >= 100 || index === 0 ? Math.round(amount) : amount.toFixed(1)} ${units[index]}`;
}

export function formatKbps(value: unknown): string {
  const kbps = Number(value ?? 0);
  if (!Number.isFinite(kbps)) return '—';
  return kbps >= 1000 ? `${Number.isInteger(kbps / 1000) ? kbps / 1000 : (kbps / 1000).toFixed(1)} Mbit/s` : `${kbps} kbit/s`;
}

export function formatDuration(seconds: unknown): string {
  const total = Number(seconds ?? 0);
  if (!Number.isFinite(total) || total <= 0) return '—';
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  return days > 0 ? `${days}d ${hours}h` : hours > 0 ? `${hours}h ${minutes}m` : `${minutes}m`;
}

/** Words for codes people read: "sub_reseller" → "Sub-reseller", "payment-received" → "Payment received". */
export function humanise(value: unknown): string {
  const text = String(value ?? '');
  const special: Readonly<Record<string, string>> = { sub_reseller: 'Sub-reseller', pppoe: 'PPPoE', static_ip: 'Static IP', reseller_wallet: 'Reseller wallet', ar: 'AR' };
  if (special[text] !== undefined) return special[text]!;
  const words = text.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const TONES: Readonly<Record<string, string>> = {
  active: 'ok',
  paid: 'ok',
  live: 'ok',
  up: 'ok',
  available: 'ok',
  done: 'ok',
  completed: 'ok',
  confirmed: 'info',
  planned: 'info',
  held: 'bad',
  cancelled: 'muted',
  expired: 'warn',
  partially_paid: 'warn',
  assigned: 'info',
  building: 'info',
  pending: 'info',
  open: 'warn',
  unknown: 'muted',
  suspended: 'bad',
  disabled: 'muted',
  redeemed: 'muted',
  retired: 'muted',
  removed: 'muted',
  down: 'bad',
  refused: 'bad',
  failed: 'bad',
};

/** A status as a coloured badge. */
export function badge(status: unknown): Handlebars.SafeString {
  const text = String(status ?? '');
  return new Handlebars.SafeString(`<span class="badge badge-${TONES[text] ?? 'muted'}">${escape(humanise(text))}</span>`);
}

// --- form fields ---------------------------------------------------------------------------------------------------

export type FormState = Readonly<{
  /** Makes the fields' element ids unique when a page holds several forms. */
  id?: string;
  values: Readonly<Record<string, unknown>>;
  errors: Readonly<Record<string, string>>;
  /** What was wrong that belongs to no one field. */
  error?: string | null;
  /** The risky action needs a passkey confirmation first. */
  step_up?: boolean;
}>;

const stateOf = (form: unknown): FormState => (form !== null && typeof form === 'object' ? (form as FormState) : { values: {}, errors: {} });
const idOf = (form: FormState, name: string): string => `f-${form.id ?? 'form'}-${name}`.replace(/[^A-Za-z0-9_-]/g, '-');

function wrap(hash: Hash, name: string, control: string, error: string | undefined, id: string): string {
  const label = hash.label === undefined ? '' : `<label for="${escape(id)}">${escape(hash.label)}${hash.required === true ? '' : hash.optional === true ? ' <span class="optional">optional</span>' : ''}</label>`;
  const hint = hash.hint === undefined ? '' : `<small class="hint" id="${escape(id)}-hint">${escape(hash.hint)}</small>`;
  const message = error === undefined ? '' : `<small class="field-error" id="${escape(id)}-error" role="alert">${escape(error)}</small>`;
  const classes = ['field', hash.class === undefined ? '' : String(hash.class), error === undefined ? '' : 'has-error'].filter((item) => item !== '').join(' ');
  const when = hash.show_when === undefined ? '' : ` data-show-when="${escape(hash.show_when)}"`;
  return `<div class="${escape(classes)}" data-field="${escape(name)}"${when}>${label}${control}${hint}${message}</div>`;
}

function describedBy(id: string, hash: Hash, error: string | undefined): string {
  const ids = [hash.hint === undefined ? '' : `${id}-hint`, error === undefined ? '' : `${id}-error`].filter((item) => item !== '');
  return ids.length === 0 ? '' : ` aria-describedby="${escape(ids.join(' '))}"`;
}

/** `{{input form "name" label="Name" type="text" required=true hint="…"}}`: the value the person typed and the error beside it. */
export function input(formValue: unknown, name: string, options: HelperOptions): Handlebars.SafeString {
  const form = stateOf(formValue);
  const hash = options.hash;
  const id = idOf(form, name);
  const error = form.errors[name];
  const value = form.values[name] ?? hash.value ?? '';
  const type = String(hash.type ?? 'text');
  const attributes = [
    `type="${escape(type)}"`,
    `id="${escape(id)}"`,
    `name="${escape(name)}"`,
    type === 'password' ? '' : `value="${escape(value)}"`,
    hash.required === true ? 'required' : '',
    hash.placeholder === undefined ? '' : `placeholder="${escape(hash.placeholder)}"`,
    hash.inputmode === undefined ? '' : `inputmode="${escape(hash.inputmode)}"`,
    hash.autocomplete === undefined ? '' : `autocomplete="${escape(hash.autocomplete)}"`,
    hash.pattern === undefined ? '' : `pattern="${escape(hash.pattern)}"`,
    hash.min === undefined ? '' : `min="${escape(hash.min)}"`,
    hash.max === undefined ? '' : `max="${escape(hash.max)}"`,
    hash.step === undefined ? '' : `step="${escape(hash.step)}"`,
    hash.autofocus === true ? 'autofocus' : '',
    error === undefined ? '' : 'aria-invalid="true"',
  ].filter((item) => item !== '');
  return new Handlebars.SafeString(wrap(hash, name, `<input ${attributes.join(' ')}${describedBy(id, hash, error)}>`, error, id));
}

export function textarea(formValue: unknown, name: string, options: HelperOptions): Handlebars.SafeString {
  const form = stateOf(formValue);
  const hash = options.hash;
  const id = idOf(form, name);
  const error = form.errors[name];
  const value = form.values[name] ?? hash.value ?? '';
  const control = `<textarea id="${escape(id)}" name="${escape(name)}" rows="${escape(hash.rows ?? 3)}"${hash.required === true ? ' required' : ''}${error === undefined ? '' : ' aria-invalid="true"'}${describedBy(id, hash, error)}>${escape(value)}</textarea>`;
  return new Handlebars.SafeString(wrap(hash, name, control, error, id));
}

/**
 * `{{select form "package_id" options=packages value="package_id" text="name" label="Package" blank="Choose…"}}`:
 * options are objects (value/text name their fields) or strings.
 */
export function select(formValue: unknown, name: string, options: HelperOptions): Handlebars.SafeString {
  const form = stateOf(formValue);
  const hash = options.hash;
  const id = idOf(form, name);
  const error = form.errors[name];
  const chosen = String(form.values[name] ?? hash.selected ?? '');
  const items = Array.isArray(hash.options) ? (hash.options as unknown[]) : [];
  const valueKey = String(hash.value ?? 'value');
  const textKey = String(hash.text ?? 'text');
  const rendered = items
    .map((item) => {
      const value = typeof item === 'object' && item !== null ? String((item as Hash)[valueKey] ?? '') : String(item);
      const text = typeof item === 'object' && item !== null ? String((item as Hash)[textKey] ?? value) : humanise(item);
      return `<option value="${escape(value)}"${value === chosen ? ' selected' : ''}>${escape(text)}</option>`;
    })
    .join('');
  const blank = hash.blank === undefined ? '' : `<option value="">${escape(hash.blank)}</option>`;
  const control = `<select id="${escape(id)}" name="${escape(name)}"${hash.required === true ? ' required' : ''}${error === undefined ? '' : ' aria-invalid="true"'}${describedBy(id, hash, error)}>${blank}${rendered}</select>`;
  return new Handlebars.SafeString(wrap(hash, name, control, error, id));
}

/** A checkbox per option (`name` repeated), checked when the form's value (an array) holds it. */
export function checkboxes(formValue: unknown, name: string, options: HelperOptions): Handlebars.SafeString {
  const form = stateOf(formValue);
  const hash = options.hash;
  const error = form.errors[name];
  const current = form.values[name];
  const chosen = new Set(Array.isArray(current) ? current.map(String) : current === undefined || current === null || current === '' ? [] : [String(current)]);
  const items = Array.isArray(hash.options) ? (hash.options as unknown[]) : [];
  const boxes = items
    .map((item) => {
      const value = String(item);
      return `<label class="check"><input type="checkbox" name="${escape(name)}" value="${escape(value)}"${chosen.has(value) ? ' checked' : ''}> ${escape(humanise(value.replace('.', ' ')))}</label>`;
    })
    .join('');
  const legend = hash.label === undefined ? '' : `<legend>${escape(hash.label)}</legend>`;
  const message = error === undefined ? '' : `<small class="field-error" role="alert">${escape(error)}</small>`;
  return new Handlebars.SafeString(`<fieldset class="field checks${error === undefined ? '' : ' has-error'}" data-field="${escape(name)}">${legend}<div class="check-grid">${boxes}</div>${message}</fieldset>`);
}

/** The hidden fields every form carries: the CSRF token and, for money, the idempotency key. */
export function hiddenFields(options: HelperOptions): Handlebars.SafeString {
  const root = options.data.root as { session?: { csrf?: string } };
  const key = options.hash.idempotency === undefined ? '' : `<input type="hidden" name="_idempotency" value="${escape(options.hash.idempotency)}">`;
  return new Handlebars.SafeString(`<input type="hidden" name="_csrf" value="${escape(root.session?.csrf ?? '')}">${key}`);
}

/** The form's own error (no field to put it beside), and the passkey prompt for a risky action. */
export function formError(formValue: unknown): Handlebars.SafeString {
  const form = stateOf(formValue);
  const parts: string[] = [];
  if (form.error !== undefined && form.error !== null && form.error !== '') parts.push(`<div class="alert alert-error" role="alert">${escape(form.error)}</div>`);
  if (form.step_up === true) {
    parts.push(
      '<div class="alert alert-info step-up" role="alert"><p>This action needs your passkey. Confirm it, and the form is sent again.</p>' +
        '<button type="button" class="button primary" data-step-up>Confirm with passkey and continue</button></div>',
    );
  }
  return new Handlebars.SafeString(parts.join(''));
}

export function registerHelpers(handlebars: typeof Handlebars): void {
  const zoneOf = (options: HelperOptions): string => String((options.data.root as { session?: { time_zone?: string } }).session?.time_zone ?? 'UTC');
  handlebars.registerHelper('icon', (name: unknown) => icon(name));
  handlebars.registerHelper('money', (amount: unknown, currency: unknown) => formatMoney(amount, typeof currency === 'string' ? currency : ''));
  handlebars.registerHelper('when', (value: unknown, options: HelperOptions) => formatWhen(value, zoneOf(options), options.hash.date === true ? 'date' : 'datetime'));
  handlebars.registerHelper('bytes', (value: unknown) => formatBytes(value));
  handlebars.registerHelper('kbps', (value: unknown) => formatKbps(value));
  handlebars.registerHelper('duration', (value: unknown) => formatDuration(value));
  handlebars.registerHelper('human', (value: unknown) => humanise(value));
  handlebars.registerHelper('badge', (value: unknown) => badge(value));
  handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  handlebars.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  handlebars.registerHelper('not', (a: unknown) => !a);
  handlebars.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  handlebars.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  handlebars.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
  handlebars.registerHelper('negative', (amount: unknown) => typeof amount === 'string' && amount.startsWith('-'));
  handlebars.registerHelper('positive', (amount: unknown) => typeof amount === 'string' && /^[0-9.]+$/.test(amount) && /[1-9]/.test(amount));
  handlebars.registerHelper('json', (value: unknown) => new Handlebars.SafeString(escape(JSON.stringify(value ?? null, null, 2))));
  /** JSON for a `<script type="application/json">` block: `<` escaped so no value can close the element. */
  handlebars.registerHelper('jsonData', (value: unknown) => new Handlebars.SafeString(JSON.stringify(value ?? null).replace(/</g, '\\u003c')));
  handlebars.registerHelper('can', (capability: string, options: HelperOptions) => {
    const capabilities = (options.data.root as { session?: { capabilities?: readonly string[] } }).session?.capabilities ?? [];
    return capabilities.includes(capability);
  });
  handlebars.registerHelper('initials', (name: unknown) =>
    String(name ?? '?')
      .split(/\s+/)
      .filter((word) => word !== '')
      .slice(0, 2)
      .map((word) => [...word][0]!.toUpperCase())
      .join(''),
  );
  /** A PIN or a long number in groups of four, as cards print them. */
  handlebars.registerHelper('groups', (value: unknown) => String(value ?? '').replace(/(\d{4})(?=\d)/g, '$1 '));
  /** "1 payment", "3 payments". */
  handlebars.registerHelper('plural', (count: unknown, word: string) => `${Number(count ?? 0)} ${word}${Number(count ?? 0) === 1 ? '' : 's'}`);
  handlebars.registerHelper('urlEncode', (value: unknown) => encodeURIComponent(String(value ?? '')));
  handlebars.registerHelper('input', input);
  handlebars.registerHelper('textarea', textarea);
  handlebars.registerHelper('select', select);
  handlebars.registerHelper('checkboxes', checkboxes);
  handlebars.registerHelper('hidden', hiddenFields);
  handlebars.registerHelper('formError', formError);
  handlebars.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map((arg) => String(arg ?? '')).join(''));
  handlebars.registerHelper('default', (value: unknown, fallback: unknown) => (value === undefined || value === null || value === '' ? fallback : value));
}

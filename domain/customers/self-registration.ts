import type { RegisterCustomer } from './registration.js';

/**
 * Customers who sign themselves up at a hotspot (the hotspot portal): they prove a mobile number with a one-time
 * code and are registered from the device the router saw. Their mobile number is their identity in the ISP, so
 * it is also their username: the username's reservation stream (`reservation-username:<isp>:<digits>`) makes a
 * number register once per ISP, exactly as it makes PPPoE usernames unique, and finds the customer again when
 * the number signs in on another device. Their device's MAC is their RADIUS login (MikroTik MAC authentication,
 * MAC as user name and password), reserved the same way, so a returning device is let in without a page.
 *
 * They pay per validity (daily billing profile) and start expired: nothing is owed until they buy a package or
 * redeem a card, which is what recharges them.
 */

/** Bangladeshi mobile numbers as people write them at home: 01 then an operator digit 3–9, eleven digits in all. */
const BD_LOCAL = /^01[3-9]\d{8}$/;
/** E.164: a country code and the number, at most 15 digits; fewer than 8 is no mobile number anywhere. */
const INTERNATIONAL = /^[1-9]\d{7,14}$/;

/**
 * A mobile number in E.164 form (`+8801712345678`), or null when it is not one. Spaces, dashes, dots and
 * brackets are ignored; `00` is read as `+`; a Bangladeshi number may be written locally (`01712-345678`) or
 * with the country code but without `+` (`8801712345678`). Any other country's number needs its `+`.
 */
export function normaliseMobile(raw: string): string | null {
  const compact = raw.trim().replace(/[\s\-.()]/g, '');
  if (compact.length > 20) return null;
  if (BD_LOCAL.test(compact)) return `+88${compact}`;
  if (/^8801[3-9]\d{8}$/.test(compact)) return `+${compact}`;
  const international = compact.startsWith('+') ? compact.slice(1) : compact.startsWith('00') ? compact.slice(2) : null;
  if (international === null || !INTERNATIONAL.test(international)) return null;
  return `+${international}`;
}

/** The username a self-registered customer holds: the E.164 digits without `+` (a username has no `+`). */
export const mobileUsername = (mobile: string): string => mobile.replace(/^\+/, '');

export type SelfRegistration = Readonly<{
  customer_id: string;
  /** Whose customer it becomes: the operator the hotspot belongs to (the ISP, or a reseller whose area it is). */
  operator_id: string;
  /** Normalised (normaliseMobile). */
  mobile: string;
  mac: string;
  /** What the customer typed; the number stands in when left empty. */
  name: string;
  /** The hotspot's place (the router's name), as staff would write the zone. */
  zone: string;
  /** The package they start on; buying or redeeming sets the one they use. */
  package_id: string;
}>;

/** The registration of a hotspot customer who signed up by themselves; the registration decider checks it. */
export function selfRegistration(input: SelfRegistration): RegisterCustomer {
  const name = input.name.trim();
  return {
    customer_id: input.customer_id,
    operator_id: input.operator_id,
    connection_type: 'hotspot',
    name: name === '' ? input.mobile : name,
    mobile: input.mobile,
    zone: input.zone,
    username: mobileUsername(input.mobile),
    // No password: the device logs in by its MAC, and the person by a one-time code to their number.
    password: null,
    mac: input.mac,
    static_ip: null,
    package_id: input.package_id,
    profile: { kind: 'daily' },
    special_price: null,
    self_registered: true,
  };
}

/**
 * A MAC in any of RouterOS' spellings — XX:XX:XX:XX:XX:XX, XX-XX-XX-XX-XX-XX, XXXX.XXXX.XXXX, XXXXXXXXXXXX,
 * any case — written the one way IspBills stores it (AA:BB:CC:DD:EE:FF), or null when it is not a MAC.
 * The same pattern as `ispbills_mac_regexp` in deploy/freeradius/policy.d/ispbills, so both servers agree on
 * what counts as a MAC login.
 */
const MAC = /^([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})[-:.]?([0-9a-f]{2})$/i;

export function canonicalMac(text: string): string | null {
  const match = MAC.exec(text);
  if (match === null) return null;
  return match.slice(1, 7).join(':').toUpperCase();
}

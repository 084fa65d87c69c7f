/**
 * Identifiers a router sees must be unique within an ISP: PPPoE usernames, hotspot MACs and static IPs. They
 * are normalised first, so "AA-BB-cc-dd-ee-ff" and "aabb.ccdd.eeff" are the same device.
 */
export type IdentifierKind = 'username' | 'mac' | 'static_ip';

const USERNAME = /^[A-Za-z0-9._@-]{3,64}$/;

export function normaliseUsername(raw: string): string | null {
  const username = raw.trim();
  return USERNAME.test(username) ? username : null;
}

/** Accepts every format RouterOS prints or sends (XX:XX:…, XX-XX-…, XXXXXXXXXXXX, XXXX.XXXX.XXXX, any case). */
export function normaliseMac(raw: string): string | null {
  const hex = raw.trim().replace(/[:.\-\s]/g, '');
  if (!/^[0-9A-Fa-f]{12}$/.test(hex)) return null;
  return hex.toUpperCase().match(/.{2}/g)!.join(':');
}

export function normaliseIpv4(raw: string): string | null {
  const parts = raw.trim().split('.');
  if (parts.length !== 4) return null;
  const numbers = parts.map((part) => (/^(0|[1-9]\d{0,2})$/.test(part) ? Number(part) : NaN));
  if (numbers.some((n) => !(n >= 0 && n <= 255))) return null;
  return numbers.join('.');
}

/**
 * The reservation stream that holds an identifier for one customer of one ISP. Usernames are unique ignoring
 * case. The kind comes first and ':' separates the parts: ISP ids never contain ':' (see isValidId), so no
 * ISP's name can be read as another's.
 */
export function reservationStream(tenant: string, kind: IdentifierKind, value: string): string {
  const key = kind === 'username' ? value.toLowerCase() : value;
  return `reservation-${kind}:${tenant}:${key}`;
}

/**
 * Identifiers a router sees must be unique within an ISP: PPPoE usernames, hotspot MACs and static IPs of
 * customers, and the NAS IP of each router (RADIUS tells routers apart by the address a request comes from).
 * They are normalised first, so "AA-BB-cc-dd-ee-ff" and "aabb.ccdd.eeff" are the same device.
 */
export type IdentifierKind = 'username' | 'mac' | 'static_ip' | 'nas_ip';

/** The kinds a customer holds; a `nas_ip` is held by a router. */
export type CustomerIdentifierKind = Exclude<IdentifierKind, 'nas_ip'>;

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
 * An IPv6 address in its one text form (RFC 5952): lower case, no leading zeros, the longest run of two or
 * more zero groups (the first on a tie) written '::', so "2001:0DB8:0:0::1" and "2001:db8::1" are the same
 * identifier. A dotted IPv4 tail (64:ff9b::10.0.0.1) is accepted. Zone ids (fe80::1%ether1) are refused: they
 * name an interface of one host, not an address other hosts see.
 */
export function normaliseIpv6(raw: string): string | null {
  const text = raw.trim();
  if (/\s/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string, tail: boolean): number[] | null => {
    if (part === '') return [];
    const pieces = part.split(':');
    const parsed: number[] = [];
    for (const [index, piece] of pieces.entries()) {
      if (tail && index === pieces.length - 1 && piece.includes('.')) {
        const ipv4 = normaliseIpv4(piece);
        if (ipv4 === null) return null;
        const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
        parsed.push(a * 256 + b, c * 256 + d);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        parsed.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return parsed;
  };
  let address: number[];
  if (halves.length === 1) {
    const all = groups(text, true);
    if (all === null || all.length !== 8) return null;
    address = all;
  } else {
    const head = groups(halves[0]!, false);
    const rest = groups(halves[1]!, true);
    // '::' stands for at least one zero group.
    if (head === null || rest === null || head.length + rest.length > 7) return null;
    address = [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  let run = { start: -1, length: 0 };
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && address[start + length] === 0) length += 1;
    if (length >= 2 && length > run.length) run = { start, length };
  }
  const hex = (part: readonly number[]) => part.map((group) => group.toString(16)).join(':');
  return run.start < 0 ? hex(address) : `${hex(address.slice(0, run.start))}::${hex(address.slice(run.start + run.length))}`;
}

/**
 * An IPv4 or IPv6 address, normalised. An IPv4-mapped IPv6 address (::ffff:10.0.0.1, what a dual-stack socket
 * reports for an IPv4 peer) is the IPv4 address itself: it is the same host.
 */
export function normaliseIpAddress(raw: string): string | null {
  const ipv4 = normaliseIpv4(raw);
  if (ipv4 !== null) return ipv4;
  const ipv6 = normaliseIpv6(raw);
  if (ipv6 === null) return null;
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ipv6);
  if (mapped === null) return ipv6;
  const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/**
 * The reservation stream that holds an identifier for one customer (or, for a NAS IP, one router) of one ISP.
 * Usernames are unique ignoring case. The kind comes first and ':' separates the parts: ISP ids never contain
 * ':' (see isValidId), so no ISP's name can be read as another's.
 */
export function reservationStream(tenant: string, kind: IdentifierKind, value: string): string {
  const key = kind === 'username' ? value.toLowerCase() : value;
  return `reservation-${kind}:${tenant}:${key}`;
}

import { normaliseIpAddress, normaliseIpv4, normaliseIpv6 } from '../customers/identifiers.js';

/**
 * Address arithmetic the router settings need: CIDR networks (which router serves a static IP), IPv4 ranges
 * (RouterOS pool ranges) and host names (where the agent reaches a router, the portal the walled garden lets
 * through). Addresses are compared as numbers, IPv4 in 32 bits and IPv6 in 128.
 */
export type Network = Readonly<{ family: 4 | 6; base: bigint; prefix: number }>;

function ipv4Number(address: string): bigint {
  return address.split('.').reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Number(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An address as family and number, or null when it is not an address. */
export function addressNumber(raw: string): Readonly<{ family: 4 | 6; value: bigint }> | null {
  const address = normaliseIpAddress(raw);
  if (address === null) return null;
  return address.includes(':') ? { family: 6, value: ipv6Number(address) } : { family: 4, value: ipv4Number(address) };
}

/** `10.20.0.0/16` or `2001:db8::/32` in its normal form, or null. The host bits must be zero. */
export function normaliseNetwork(raw: string): string | null {
  const network = parseNetwork(raw);
  if (network === null) return null;
  const [address] = raw.trim().split('/');
  return `${normaliseIpAddress(address!)}/${network.prefix}`;
}

export function parseNetwork(raw: string): Network | null {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(raw.trim());
  if (match === null) return null;
  const address = addressNumber(match[1]!);
  if (address === null) return null;
  const prefix = Number(match[2]);
  const bits = address.family === 4 ? 32 : 128;
  if (prefix > bits) return null;
  const host_mask = (1n << BigInt(bits - prefix)) - 1n;
  if ((address.value & host_mask) !== 0n) return null;
  return { family: address.family, base: address.value, prefix };
}

export function networkContains(network: Network, raw_address: string): boolean {
  const address = addressNumber(raw_address);
  if (address === null || address.family !== network.family) return false;
  const bits = network.family === 4 ? 32 : 128;
  return address.value >> BigInt(bits - network.prefix) === network.base >> BigInt(bits - network.prefix);
}

/**
 * RouterOS pool ranges: comma-separated `a.b.c.d-e.f.g.h` (first not after last), single addresses or
 * CIDR networks, IPv4 only (RouterOS's `/ip pool`). Returns the normal form or null.
 */
export function normalisePoolRanges(raw: string): string | null {
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.length === 0 || parts.length > 32) return null;
  const normal: string[] = [];
  for (const part of parts) {
    if (part.includes('/')) {
      const network = parseNetwork(part);
      if (network === null || network.family !== 4) return null;
      normal.push(normaliseNetwork(part)!);
      continue;
    }
    const [first, last, extra] = part.split('-');
    if (extra !== undefined) return null;
    const from = normaliseIpv4(first ?? '');
    if (from === null) return null;
    if (last === undefined) {
      normal.push(from);
      continue;
    }
    const to = normaliseIpv4(last);
    if (to === null || ipv4Number(to) < ipv4Number(from)) return null;
    normal.push(`${from}-${to}`);
  }
  return normal.join(',');
}

/** Whether an IPv4 address falls in normalised pool ranges. */
export function poolContains(ranges: string, raw_address: string): boolean {
  const address = normaliseIpv4(raw_address);
  if (address === null) return false;
  const value = ipv4Number(address);
  return ranges.split(',').some((part) => {
    if (part.includes('/')) return networkContains(parseNetwork(part)!, address);
    const [from, to = from] = part.split('-');
    return value >= ipv4Number(from!) && value <= ipv4Number(to!);
  });
}

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** A DNS name (RFC 1123), lower case, or an IP address, normalised; null otherwise. */
export function normaliseHost(raw: string): string | null {
  const text = raw.trim();
  const address = normaliseIpAddress(text);
  if (address !== null) return address;
  if (normaliseIpv6(text) === null && text.length <= 253 && text.split('.').every((label) => LABEL.test(label)) && !/^[0-9.]+$/.test(text)) return text.toLowerCase();
  return null;
}

import { createHash } from 'node:crypto';

/** Who radius-bridge is in event metadata and command envelopes. */
export const RADIUS_ACTOR = { id: 'radius-bridge', role: 'system' } as const;

/** A UUID (version-4 layout) from a stable name, so the same fact always gets the same event id. */
export function stableUuid(name: string): string {
  const hex = createHash('md5').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * RouterOS's ways of writing numbers the agent compares: durations (`1w2d3h4m5s`, `3d04:05:06`, `500ms`)
 * and rate pairs (`2000k/10M`, `2000000/10000000`).
 */

/** A RouterOS duration in milliseconds, or null when it is not one. */
export function parseDuration(text: string): number | null {
  const value = text.trim();
  if (value === '') return null;
  const clock = /^(?:(\d+)d)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(value);
  if (clock !== null) return (((Number(clock[1] ?? 0) * 24 + Number(clock[2])) * 60 + Number(clock[3])) * 60 + Number(clock[4])) * 1000;
  const units = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(value);
  if (units === null || units.slice(1).every((part) => part === undefined)) return null;
  const [w, d, h, m, s, ms] = units.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  return ((((w * 7 + d) * 24 + h) * 60 + m) * 60 + s) * 1000 + ms;
}

/** Seconds as RouterOS writes an interval setting (`5m`, `90s`). */
export function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

const SUFFIX: Readonly<Record<string, number>> = { '': 1, k: 1_000, K: 1_000, M: 1_000_000, G: 1_000_000_000 };

/** One rate in bits/s (`10M`, `2000k`, `512000`), or null. */
export function parseRate(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([kKMG]?)$/.exec(text.trim());
  if (match === null) return null;
  return Math.round(Number(match[1]) * SUFFIX[match[2]!]!);
}

/** `upload/download` of a queue's max-limit (the target's upload first), in bits/s, or null. */
export function parseRatePair(text: string): Readonly<{ upload: number; download: number }> | null {
  const [upload, download, extra] = text.split('/');
  if (upload === undefined || download === undefined || extra !== undefined) return null;
  const up = parseRate(upload);
  const down = parseRate(download);
  return up === null || down === null ? null : { upload: up, download: down };
}

/** What the agent writes into a queue's max-limit for a package: the customer's upload first, as RouterOS wants. */
export const maxLimit = (up_kbps: number, down_kbps: number): string => `${up_kbps}k/${down_kbps}k`;

/** Whether a printed max-limit is the package's speed. */
export function sameRate(printed: string | undefined, up_kbps: number, down_kbps: number): boolean {
  const pair = parseRatePair(printed ?? '');
  return pair !== null && pair.upload === up_kbps * 1000 && pair.download === down_kbps * 1000;
}

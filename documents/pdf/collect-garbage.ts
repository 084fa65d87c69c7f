import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection, on request. pdfmake's layout makes a great deal of short-lived garbage per invoice,
 * and V8, seeing a high allocation rate and a large heap limit, grows the heap rather than collect it: a
 * 10,000-invoice PDF reached 544 MB resident with about 40 MB of it live (bench/documents.bench.ts). A long
 * document therefore collects every few hundred parts, which keeps the process near its live size for a few
 * tens of milliseconds each time. The collector is reached the way the `expose-gc` package does: the flag is
 * set at run time and the function read from a fresh context; where that is refused, nothing happens.
 */
let collector: (() => void) | null | undefined;

export function collectGarbage(): boolean {
  if (collector === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') collector = exposed;
    else {
      try {
        v8.setFlagsFromString('--expose-gc');
        const found: unknown = vm.runInNewContext('gc');
        collector = typeof found === 'function' ? (found as () => void) : null;
      } catch {
        collector = null;
      }
    }
  }
  collector?.();
  return collector !== null;
}

import type pg from 'pg';
import { extendChain } from './hash-chain.js';

export type ChainKeeper = Readonly<{ stop: () => Promise<void> }>;

/**
 * Keeps the hash chain current in the background: extends it until it is level with the log, then rests
 * for `interval_ms`. Errors are reported and retried on the next round; the chain never skips an event.
 */
export function startChainKeeper(pool: pg.Pool, options: Readonly<{ interval_ms?: number; on_error: (error: unknown) => void }>): ChainKeeper {
  const interval_ms = options.interval_ms ?? 500;
  let stopping = false;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  const loop = async (): Promise<void> => {
    while (!stopping) {
      try {
        while (!stopping && (await extendChain(pool)) > 0);
      } catch (error) {
        if (!stopping) options.on_error(error);
      }
      if (stopping) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, interval_ms);
      });
    }
  };
  const running = loop();
  return {
    stop: async () => {
      stopping = true;
      if (timer !== null) clearTimeout(timer);
      wake?.();
      await running;
    },
  };
}

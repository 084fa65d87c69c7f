import { describe, expect, it } from 'vitest';
import { LoopHealth } from './loop-health.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LoopHealth: event-loop delay and GC pauses', () => {
  it('reports nothing before it starts, and zero rather than sentinels before the first sample', () => {
    const health = new LoopHealth();
    expect(health.snapshot()).toEqual({
      delay_p50_ms: 0,
      delay_p99_ms: 0,
      delay_max_ms: 0,
      gc_minor: { count: 0, total_ms: 0, max_ms: 0 },
      gc_major: { count: 0, total_ms: 0, max_ms: 0 },
      gc_incremental: { count: 0, total_ms: 0, max_ms: 0 },
      gc_pauses_over_5_ms: 0,
    });
  });

  it('sees the loop held for 40 ms as a delay of about that much, and counts the scavenges garbage causes', async () => {
    const health = new LoopHealth();
    health.start();
    try {
      await sleep(50);
      const held_from = performance.now();
      while (performance.now() - held_from < 40) {
        // hold the event loop, as a long synchronous task would
      }
      // Short-lived garbage: enough to fill the young generation several times.
      let kept = 0;
      for (let round = 0; round < 1_000_000; round += 1) kept += [{ round }, `text ${round}`].length;
      expect(kept).toBe(2_000_000);
      await sleep(100); // GC entries reach the observer asynchronously
      const snapshot = health.snapshot();
      expect(snapshot.delay_max_ms).toBeGreaterThanOrEqual(30);
      expect(snapshot.delay_max_ms).toBeLessThan(5_000);
      expect(snapshot.delay_p50_ms).toBeLessThan(snapshot.delay_max_ms);
      expect(snapshot.gc_minor.count).toBeGreaterThan(0);
      expect(snapshot.gc_minor.max_ms).toBeGreaterThan(0);
      expect(snapshot.gc_minor.total_ms).toBeGreaterThanOrEqual(snapshot.gc_minor.max_ms);
    } finally {
      health.stop();
    }
  });
});

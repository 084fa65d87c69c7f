import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the closing line CI reads in any language: "tests: N passed, N failed, N skipped". A module that
 * failed to load or whose hooks failed (a syntax error, a crash in beforeAll) counts as a failure, so a broken
 * file is never silent.
 */
export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled_errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandled_errors.length;
    let skipped = 0;
    for (const module of modules) {
      let failed_here = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed_here += 1;
        else skipped += 1;
      }
      // A module whose beforeAll (or a suite hook) failed has only skipped tests: the module itself is the failure.
      failed += module.state() === 'failed' && failed_here === 0 ? 1 : failed_here;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the closing line CI reads in any language: "tests: N passed, N failed, N skipped". A module that
 * failed to load (a syntax error, a crash in beforeAll) counts as a failure so a broken file is never silent.
 */
export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled_errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandled_errors.length;
    let skipped = 0;
    for (const module of modules) {
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed += 1;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

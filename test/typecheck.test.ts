import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the TypeScript sources', () => {
  it('typecheck under strict settings (npm run build)', () => {
    let output = '';
    try {
      output = execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output.trim()).toBe('');
  });
});

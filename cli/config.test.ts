import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('configuration from the environment', () => {
  it('gives working defaults for a fresh machine: embedded PostgreSQL under ./data, port 3000', () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config).toMatchObject({ ISPBILLS_DATA_DIR: './data', PORT: 3000, HOST: '127.0.0.1', EVENT_STORE: 'postgres' });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).PORT).toBe(3000);
  });

  it('reports every problem at once, each naming the variable, its value and what it wants', () => {
    const failure = (() => {
      try {
        loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
      } catch (error) {
        return error;
      }
      return null;
    })();
    expect(failure).toBeInstanceOf(ConfigError);
    const problems = (failure as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('PORT="eighty"'))).toBeDefined();
    expect(problems.find((p) => p.startsWith('DATABASE_URL="mysql://x"'))).toMatch(/postgres:\/\//);
    expect(problems.find((p) => p.startsWith('LOG_LEVEL="loud"'))).toBeDefined();
  });

  it('requires EVENTSTORE_URL when the KurrentDB event store is chosen', () => {
    expect(() => loadConfig({ EVENT_STORE: 'kurrentdb' })).toThrow(/EVENTSTORE_URL/);
  });
});

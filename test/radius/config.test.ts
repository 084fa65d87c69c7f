import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../cli/config.js';
import { radiusSettings } from '../../cli/radius.js';

/** The radius role's settings come from the environment, checked once, with one line per problem. */
describe('radius configuration', () => {
  it('defaults to the RADIUS ports on the loopback address with 4 MiB receive buffers', () => {
    const settings = radiusSettings(loadConfig({}));
    expect(settings).toMatchObject({ host: '127.0.0.1', auth_port: 1812, acct_port: 1813, receive_buffer_bytes: 4 * 1024 * 1024, coa_attempts: 3, accounting_lanes: 2 });
  });

  it('takes the environment’s values', () => {
    const settings = radiusSettings(loadConfig({ RADIUS_HOST: '0.0.0.0', RADIUS_AUTH_PORT: '11812', RADIUS_ACCT_PORT: '0', RADIUS_COA_TIMEOUT_MS: '500' }));
    expect(settings).toMatchObject({ host: '0.0.0.0', auth_port: 11812, acct_port: 0, coa_timeout_ms: 500 });
  });

  it('refuses a bad value, naming the variable and what it wants', () => {
    expect(() => loadConfig({ RADIUS_AUTH_PORT: '70000', RADIUS_COA_ATTEMPTS: '0' })).toThrow(ConfigError);
    try {
      loadConfig({ RADIUS_AUTH_PORT: '70000', RADIUS_COA_ATTEMPTS: '0' });
    } catch (error) {
      expect((error as ConfigError).problems.join('\n')).toMatch(/RADIUS_AUTH_PORT="70000": must be a port number/);
      expect((error as ConfigError).problems.join('\n')).toMatch(/RADIUS_COA_ATTEMPTS="0"/);
      expect((error as ConfigError).code).toBe('INVALID_CONFIGURATION');
    }
  });
});

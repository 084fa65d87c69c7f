import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** docker-compose.yml must stay a valid deployment; no Docker engine runs here, so validate it as compose reads it. */
describe('docker-compose.yml', () => {
  const config = (env: NodeJS.ProcessEnv) =>
    execFileSync('docker-compose', ['config'], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('is accepted by docker-compose and names PostgreSQL, KurrentDB and every ispbills role', () => {
    const rendered = config({ POSTGRES_PASSWORD: 'secret' });
    for (const service of ['postgres:', 'kurrentdb:', 'migrate:', 'serve:', 'project:', 'router-agent:', 'radius:', 'freeradius:']) expect(rendered).toContain(service);
    expect(rendered).toContain('postgres://ispbills:secret@postgres:5432/ispbills');
  });

  it('refuses to render without the database password', () => {
    expect(() => config({ POSTGRES_PASSWORD: '' })).toThrow(/POSTGRES_PASSWORD/);
  });
});

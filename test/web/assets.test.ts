import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startApiWorld, type ApiWorld } from '../api/harness.js';

describe('web assets', () => {
  let world: ApiWorld;
  beforeAll(async () => {
    world = await startApiWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  test('Chart.js and Alpine.js are served by the app itself, so no page needs a CDN', async () => {
    for (const [name, marker] of [['chart.umd.min.js', 'Chart'], ['alpine.min.js', 'Alpine']] as const) {
      const response = await world.app.inject({ method: 'GET', url: `/assets/vendor/${name}` });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('javascript');
      expect(response.body).toContain(marker);
    }
  });

  test('an asset that does not exist is a 404, not a page', async () => {
    const response = await world.app.inject({ method: 'GET', url: '/assets/nothing-here.css' });
    expect(response.statusCode).toBe(404);
  });
});

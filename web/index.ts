import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Where the pages' own files live: stylesheets, scripts, images (served at /assets/). */
export const ASSETS_DIR = join(here, 'assets');

/**
 * Third-party browser files, served from the installed packages at /assets/vendor/<name>: an ISP's admin
 * network is often offline, so no page loads anything from a CDN.
 */
const VENDOR: Readonly<Record<string, string>> = {
  'chart.umd.min.js': join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
  'alpine.min.js': join(dirname(require.resolve('alpinejs')), 'cdn.min.js'),
};

/**
 * Fonts the pages use, served from the installed packages at /assets/fonts/<name> (both SIL Open Font License):
 * Inter for Latin text, and Noto Sans Bengali, which many phones in Bangladesh and most desktops do not have.
 */
const FONTS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    ['@fontsource/inter', ['inter-latin-400-normal.woff2', 'inter-latin-500-normal.woff2', 'inter-latin-600-normal.woff2', 'inter-latin-700-normal.woff2']],
    ['@fontsource/noto-sans-bengali', ['noto-sans-bengali-bengali-400-normal.woff2', 'noto-sans-bengali-bengali-600-normal.woff2']],
  ].flatMap(([pkg, files]) => (files as string[]).map((file) => [file, join(dirname(require.resolve(`${pkg as string}/package.json`)), 'files', file)])),
);

/**
 * What every page area shares: the assets and the vendor scripts. Each area (the panels, the portals) registers
 * its own view engine, layout and form-body parser (@fastify/formbody) in an encapsulated plugin of its own, so
 * the JSON API never accepts form bodies.
 */
export async function installWebFoundation(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: ASSETS_DIR, prefix: '/assets/', decorateReply: false, maxAge: '1h' });
  for (const [name, file] of Object.entries(VENDOR)) {
    app.get(`/assets/vendor/${name}`, (_request, reply) => {
      reply.header('cache-control', 'public, max-age=86400').type('text/javascript; charset=utf-8');
      return reply.send(createReadStream(file));
    });
  }
  for (const [name, file] of Object.entries(FONTS)) {
    app.get(`/assets/fonts/${name}`, (_request, reply) => {
      reply.header('cache-control', 'public, max-age=604800, immutable').type('font/woff2');
      return reply.send(createReadStream(file));
    });
  }
}

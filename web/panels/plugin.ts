import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import formbody from '@fastify/formbody';
import view from '@fastify/view';
import type { FastifyPluginAsync } from 'fastify';
import Handlebars from 'handlebars';
import type { ApiDependencies } from '../../api/dependencies.js';
import { registerHelpers } from './helpers.js';
import { definePages } from './page-kit.js';
import { accountPages } from './pages/account.js';
import { authPages } from './pages/auth.js';
import { billPages } from './pages/bills.js';
import { bookPages } from './pages/books.js';
import { cardPages } from './pages/cards.js';
import { customerPages } from './pages/customers.js';
import { dashboardPages } from './pages/dashboard.js';
import { operatorPages } from './pages/operators.js';
import { packagePages } from './pages/packages.js';
import { paymentPages } from './pages/payments.js';
import { routerPages } from './pages/routers.js';
import { schedulerPages } from './pages/scheduler.js';
import { staffPages } from './pages/staff.js';
import { systemPages } from './pages/system.js';

declare module 'fastify' {
  interface FastifyReply {
    /** The panels' handlebars engine (its own property, so the portals can register theirs beside it). */
    panelViewAsync: (page: string, data?: object, options?: Readonly<{ layout?: string }>) => Promise<string>;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
export const PANEL_VIEWS = join(here, 'views');

/**
 * The staff panels (admin, reseller, sub-reseller, manager, accountant, auditor) as server-rendered pages. An
 * encapsulated plugin: the form-body parser and the view engine exist only here, so the JSON API never accepts
 * form bodies and the portals keep their own engine. Every page reads and writes through the API in process
 * (web/panels/api-client.ts).
 */
export const panelPlugin: FastifyPluginAsync<ApiDependencies> = async (app, deps) => {
  await app.register(formbody, { bodyLimit: 65_536 });
  const handlebars = Handlebars.create();
  registerHelpers(handlebars);
  const partials = Object.fromEntries(
    readdirSync(join(PANEL_VIEWS, 'partials'))
      .filter((file) => file.endsWith('.hbs'))
      .map((file) => [basename(file, '.hbs'), join('partials', file)]),
  );
  await app.register(view, {
    engine: { handlebars },
    root: PANEL_VIEWS,
    options: { partials },
    propertyName: 'panelView',
    // Templates are compiled once; set NODE_ENV=development to edit them without restarting.
    production: process.env.NODE_ENV !== 'development',
  });

  // Pages are for people at a browser: never cached, never framed, scripts and styles only from the app itself.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('cache-control', 'no-store');
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
    }
    return payload;
  });

  const pages = definePages(app, deps);
  authPages(app, deps, pages);
  dashboardPages(pages);
  customerPages(pages);
  packagePages(pages);
  operatorPages(pages);
  staffPages(pages);
  billPages(pages);
  schedulerPages(pages);
  paymentPages(pages);
  cardPages(pages);
  routerPages(pages);
  bookPages(pages);
  systemPages(pages);
  accountPages(pages);
};

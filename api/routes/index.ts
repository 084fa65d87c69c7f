import type { FastifyPluginAsync } from 'fastify';
import type { ApiDependencies } from '../dependencies.js';
import { billRoutes } from './bills.js';
import { bookRoutes } from './books.js';
import { bulkSuspensionRoutes } from './bulk-suspension.js';
import { cardRoutes } from './cards.js';
import { customerRoutes } from './customers.js';
import { dashboardRoutes } from './dashboard.js';
import { documentRoutes } from './documents.js';
import { gatewayRoutes } from './gateways.js';
import { hotspotRoutes } from './hotspot.js';
import { loginRoutes } from './logins.js';
import { operatorRoutes } from './operators.js';
import { packageRoutes } from './packages.js';
import { passkeyRoutes } from './passkeys.js';
import { paymentRoutes } from './payments.js';
import { portalRoutes } from './portal.js';
import { replayRoutes } from './replay.js';
import { routerRoutes } from './routers.js';
import { schedulerRoutes } from './scheduler.js';
import { sessionRoutes } from './sessions.js';
import { staffRoutes } from './staff.js';

/** Every area of the API, each a plugin; the access hook and the matrix test cover whatever is listed here. */
export const API_ROUTES: readonly FastifyPluginAsync<ApiDependencies>[] = [
  loginRoutes,
  customerRoutes,
  operatorRoutes,
  staffRoutes,
  packageRoutes,
  billRoutes,
  paymentRoutes,
  cardRoutes,
  routerRoutes,
  schedulerRoutes,
  bookRoutes,
  replayRoutes,
  bulkSuspensionRoutes,
  portalRoutes,
  gatewayRoutes,
  hotspotRoutes,
  dashboardRoutes,
  sessionRoutes,
  passkeyRoutes,
  documentRoutes,
];

import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Clock, CommandRuntime } from '../commands/command-runtime.js';
import type { PasswordSealer } from '../commands/router-commands.js';
import type { EventStore } from '../eventstore/event-store.js';
import type { SchedulerSettings } from '../scheduler/settings.js';
import type { NotificationProvider } from '../notifications/providers.js';

/** What every API plugin gets: the database, the event store, the command runtime, a clock and settings. */
export type ApiSettings = Readonly<{
  /** The address people reach the panels at; passkeys are bound to its host name. */
  origin: string;
  rp_id: string;
  /** Secure cookies need HTTPS; off only for plain-HTTP local use. */
  secure_cookies: boolean;
}>;

export type ApiDependencies = Readonly<{
  pool: pg.Pool;
  store: EventStore;
  runtime: CommandRuntime;
  clock: Clock;
  logger: FastifyBaseLogger;
  settings: ApiSettings;
  /** Seals routers' API passwords (the router-agent's key); without it the API cannot take a router's connection. */
  router_secrets?: PasswordSealer;
  /** Sends the hotspot's one-time codes: the notifications module's SMS provider; null when SMS is off. */
  sms?: NotificationProvider | null;
  /** The scheduler's settings (jobs, safety policy), so a preview plans exactly as the scheduler role would. */
  scheduler: SchedulerSettings;
}>;

export function settingsFor(public_url: string): ApiSettings {
  const url = new URL(public_url);
  return { origin: url.origin, rp_id: url.hostname, secure_cookies: url.protocol === 'https:' };
}

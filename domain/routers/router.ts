import { normaliseIpAddress } from '../customers/identifiers.js';
import type { ActorRole, CommandContext } from '../shared/command-context.js';
import { accept, refuse, type Decision, type DomainEvent } from '../shared/decider.js';
import { checkId } from '../shared/ids.js';
import { rejection } from '../shared/rejection.js';
import { checkRouterConnection, DEFAULT_MANAGEMENT_PORTS, type RouterConnection, type RouterTransport } from './router-connection.js';
import { checkRouterSetup, type RouterSetup } from './router-setup.js';

/** Where RouterOS listens for CoA and Disconnect requests unless told otherwise (RFC 5176's port). */
export const DEFAULT_COA_PORT = 3799;
const MAX_NAME_CHARACTERS = 64;
/** A note for people, not a document: long enough for an address and a contact, short enough to list. */
const MAX_DESCRIPTION_CHARACTERS = 500;
/**
 * Printable ASCII only, so the secret can be typed into RouterOS and sent through the API as it is. RFC 2865
 * recommends at least 16 characters; 8 is the floor we enforce.
 */
const SECRET = /^[\x20-\x7e]{8,128}$/;
/**
 * "Printable" means no control characters. Format characters such as the zero-width joiner stay allowed:
 * written Bengali needs them.
 */
const CONTROL = /\p{Cc}/u;

/** Who may register, change and remove routers: the ISP's admins and managers. */
const ROUTER_MANAGERS: readonly ActorRole[] = ['admin', 'manager'];

/**
 * A router (a RADIUS NAS) asks whether a customer may connect and takes Change-of-Authorization and
 * Disconnect requests back. RADIUS knows it by its NAS IP, the address its requests come from, so a NAS IP
 * belongs to one router of an ISP at a time (held on a reservation stream like a customer's username), and
 * trusts it by a shared secret. Each router lives in its stream `router-<id>`.
 */
export type RouterSettings = Readonly<{
  name: string;
  /** Normalised (see normaliseIpAddress), so one address is always written the same way. */
  nas_ip: string;
  /** The RADIUS shared secret; it signs every request and reply, so the router needs it too. */
  secret: string;
  /** Where the router listens for CoA and Disconnect requests. */
  coa_port: number;
  /** Whether requests without a Message-Authenticator are dropped (the defence against Blast-RADIUS). */
  require_message_authenticator: boolean;
  description: string;
}>;

export type RouterEvent =
  | DomainEvent<'router-registered', { router_id: string; tenant: string } & RouterSettings>
  | DomainEvent<'router-updated', { router_id: string } & RouterSettings>
  | DomainEvent<'router-removed', { router_id: string }>
  /** How the router-agent reaches the router's API (the password sealed); replaces the previous connection. */
  | DomainEvent<'router-connection-set', { router_id: string } & RouterConnection>
  /** What one-click setup puts on the router and how static-IP customers are handled there. */
  | DomainEvent<'router-setup-set', { router_id: string } & RouterSetup>;

export type RouterState = Readonly<
  {
    exists: boolean;
    removed: boolean;
    router_id: string;
    tenant: string;
    /** null until the ISP tells the agent how to reach the router. */
    connection: RouterConnection | null;
    /** null until the ISP sets what setup puts on the router. */
    setup: RouterSetup | null;
  } & RouterSettings
>;

export const initialRouterState = (): RouterState => ({
  exists: false,
  removed: false,
  router_id: '',
  tenant: '',
  name: '',
  nas_ip: '',
  secret: '',
  coa_port: DEFAULT_COA_PORT,
  require_message_authenticator: true,
  description: '',
  connection: null,
  setup: null,
});

export function evolveRouter(state: RouterState, event: RouterEvent): RouterState {
  switch (event.type) {
    case 'router-registered':
      return { ...event.data, exists: true, removed: false, connection: null, setup: null };
    case 'router-updated':
      return { ...state, ...event.data };
    case 'router-removed':
      return { ...state, removed: true };
    case 'router-connection-set': {
      const { router_id: _id, ...connection } = event.data;
      return { ...state, connection };
    }
    case 'router-setup-set': {
      const { router_id: _id, ...setup } = event.data;
      return { ...state, setup };
    }
  }
}

/** What a caller sends to register a router: the CoA port, the Message-Authenticator rule and a description have defaults. */
export type RegisterRouter = Readonly<{
  router_id: string;
  name: string;
  nas_ip: string;
  secret: string;
  coa_port?: number;
  require_message_authenticator?: boolean;
  description?: string;
}>;

/** An update names only what changes; everything left out keeps its current value. */
export type UpdateRouter = Readonly<{ router_id: string } & Partial<RouterSettings>>;

/** The settings checked and normalised (name and description trimmed, NAS IP normalised), or what is wrong first. */
export function checkRouterSettings(settings: RouterSettings): RouterSettings | string {
  const name = settings.name.trim();
  if (name === '' || [...name].length > MAX_NAME_CHARACTERS || CONTROL.test(name)) return `the router needs a name of 1–${MAX_NAME_CHARACTERS} printable characters`;
  const nas_ip = normaliseIpAddress(settings.nas_ip);
  if (nas_ip === null) return `NAS IP ${JSON.stringify(settings.nas_ip)} is not an IPv4 or IPv6 address`;
  if (!SECRET.test(settings.secret)) return 'the RADIUS secret must be 8–128 printable ASCII characters';
  if (!Number.isInteger(settings.coa_port) || settings.coa_port < 1 || settings.coa_port > 65_535) return `CoA port ${settings.coa_port} must be a whole number from 1 to 65535`;
  if (typeof settings.require_message_authenticator !== 'boolean') return 'require_message_authenticator must be true or false';
  const description = settings.description.trim();
  // A description may run over several lines; other control characters have no place in it.
  if ([...description].length > MAX_DESCRIPTION_CHARACTERS || CONTROL.test(description.replace(/[\r\n\t]/g, ' '))) {
    return `the description must be at most ${MAX_DESCRIPTION_CHARACTERS} characters, without control characters`;
  }
  return { name, nas_ip, secret: settings.secret, coa_port: settings.coa_port, require_message_authenticator: settings.require_message_authenticator, description };
}

function checkManager(context: CommandContext) {
  return ROUTER_MANAGERS.includes(context.actor.role) ? null : rejection('NOT_PERMITTED', 'only the ISP’s admins and managers manage routers');
}

/** A router of another ISP reads as absent, so nothing leaks across ISPs. */
const isVisible = (state: RouterState, context: CommandContext) => state.exists && state.tenant === context.tenant;

/**
 * Rules, in order: the caller is an admin or manager; the id is usable; no router ever had it (a removed
 * router's id stays spent, so its history reads as one router); the settings are valid. The handler then
 * reserves the NAS IP for this router in the ISP (NAS_IP_TAKEN when another router holds it).
 */
export function decideRegisterRouter(state: RouterState, command: RegisterRouter, context: CommandContext): Decision<RouterEvent> {
  const forbidden = checkManager(context);
  if (forbidden !== null) return refuse(forbidden);
  const badId = checkId('router id', command.router_id);
  if (badId !== null) return refuse(badId);
  if (state.exists) return refuse(rejection('ROUTER_ALREADY_EXISTS', `router ${command.router_id} already exists`));
  const settings = checkRouterSettings({
    name: command.name,
    nas_ip: command.nas_ip,
    secret: command.secret,
    coa_port: command.coa_port ?? DEFAULT_COA_PORT,
    require_message_authenticator: command.require_message_authenticator ?? true,
    description: command.description ?? '',
  });
  if (typeof settings === 'string') return refuse(rejection('INVALID_INPUT', settings));
  return accept({ type: 'router-registered', data: { router_id: command.router_id, tenant: context.tenant, ...settings } });
}

/**
 * Rules, in order: the caller is an admin or manager; the router exists in this ISP; it is not removed; the
 * settings after the change are valid. Changing nothing appends nothing. A new NAS IP is reserved and the old
 * one released by the handler, with the update.
 */
export function decideUpdateRouter(state: RouterState, command: UpdateRouter, context: CommandContext): Decision<RouterEvent> {
  const forbidden = checkManager(context);
  if (forbidden !== null) return refuse(forbidden);
  if (!isVisible(state, context)) return refuse(rejection('ROUTER_NOT_FOUND', `no router ${command.router_id} in this ISP`));
  if (state.removed) return refuse(rejection('ROUTER_REMOVED', `router ${state.name} was removed; register a new one`));
  const settings = checkRouterSettings({
    name: command.name ?? state.name,
    nas_ip: command.nas_ip ?? state.nas_ip,
    secret: command.secret ?? state.secret,
    coa_port: command.coa_port ?? state.coa_port,
    require_message_authenticator: command.require_message_authenticator ?? state.require_message_authenticator,
    description: command.description ?? state.description,
  });
  if (typeof settings === 'string') return refuse(rejection('INVALID_INPUT', settings));
  const unchanged = (Object.keys(settings) as (keyof RouterSettings)[]).every((key) => settings[key] === state[key]);
  if (unchanged) return accept();
  return accept({ type: 'router-updated', data: { router_id: state.router_id, ...settings } });
}

/** Rules, in order: the caller is an admin or manager; the router exists in this ISP; it is not removed yet. */
export function decideRemoveRouter(state: RouterState, router_id: string, context: CommandContext): Decision<RouterEvent> {
  const forbidden = checkManager(context);
  if (forbidden !== null) return refuse(forbidden);
  if (!isVisible(state, context)) return refuse(rejection('ROUTER_NOT_FOUND', `no router ${router_id} in this ISP`));
  if (state.removed) return refuse(rejection('ROUTER_REMOVED', `router ${state.name} was already removed`));
  return accept({ type: 'router-removed', data: { router_id: state.router_id } });
}

/**
 * What a caller sends to set the API connection. The handler seals the password first: `password_sealed` is
 * the sealed new password, or null to keep the current one. The port defaults to the transport's.
 */
export type SetRouterConnection = Readonly<{
  router_id: string;
  host: string;
  transport: RouterTransport;
  port?: number;
  username: string;
  password_sealed: string | null;
  routeros_version: string;
  tls_fingerprint_sha256?: string | null;
}>;

/**
 * Rules, in order: the caller is an admin or manager; the router exists in this ISP; it is not removed; a
 * password is given or kept; the connection is valid (host, transport, port, user, sealed password, version,
 * fingerprint). Setting what is already set appends nothing.
 */
export function decideSetRouterConnection(state: RouterState, command: SetRouterConnection, context: CommandContext): Decision<RouterEvent> {
  const refused = checkChangeable(state, command.router_id, context);
  if (refused !== null) return refuse(refused);
  const password_sealed = command.password_sealed ?? state.connection?.password_sealed ?? null;
  if (password_sealed === null) return refuse(rejection('INVALID_INPUT', 'the router has no API password yet; give one'));
  const connection = checkRouterConnection({
    host: command.host,
    transport: command.transport,
    port: command.port ?? DEFAULT_MANAGEMENT_PORTS[command.transport] ?? 0,
    username: command.username,
    password_sealed,
    routeros_version: command.routeros_version,
    tls_fingerprint_sha256: command.tls_fingerprint_sha256 ?? null,
  });
  if (typeof connection === 'string') return refuse(rejection('INVALID_INPUT', connection));
  if (state.connection !== null && sameJson(state.connection, connection)) return accept();
  return accept({ type: 'router-connection-set', data: { router_id: state.router_id, ...connection } });
}

/**
 * Rules, in order: the caller is an admin or manager; the router exists in this ISP; it is not removed; the
 * setup is valid (see checkRouterSetup for its order). Setting what is already set appends nothing.
 */
export function decideSetRouterSetup(state: RouterState, command: Readonly<{ router_id: string } & RouterSetup>, context: CommandContext): Decision<RouterEvent> {
  const refused = checkChangeable(state, command.router_id, context);
  if (refused !== null) return refuse(refused);
  const { router_id: _id, ...requested } = command;
  const setup = checkRouterSetup(requested);
  if (typeof setup === 'string') return refuse(rejection('INVALID_INPUT', setup));
  if (state.setup !== null && sameJson(state.setup, setup)) return accept();
  return accept({ type: 'router-setup-set', data: { router_id: state.router_id, ...setup } });
}

function checkChangeable(state: RouterState, router_id: string, context: CommandContext) {
  const forbidden = checkManager(context);
  if (forbidden !== null) return forbidden;
  if (!isVisible(state, context)) return rejection('ROUTER_NOT_FOUND', `no router ${router_id} in this ISP`);
  if (state.removed) return rejection('ROUTER_REMOVED', `router ${state.name} was removed; register a new one`);
  return null;
}

/**
 * Plain JSON values compared whatever their key order: settings folded from stored events come back with
 * their keys in the database's order, not the checker's.
 */
const sameJson = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);
const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(',')}]`
    : value !== null && typeof value === 'object'
      ? `{${Object.keys(value)
          .sort()
          .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
          .join(',')}}`
      : JSON.stringify(value);

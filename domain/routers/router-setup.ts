import { normaliseIpAddress } from '../customers/identifiers.js';
import { isRouterOsName } from '../shared/routeros-name.js';
import { normaliseHost, normaliseNetwork, normalisePoolRanges } from './networks.js';

/**
 * What one-click setup puts on a router, and how the agent treats static-IP customers there. Every value comes
 * from here (set by the ISP per router) or from the ISP's RADIUS policy (suspended pool and address list
 * names, interim interval), never from code. The router's own RADIUS settings (NAS IP, secret, CoA port)
 * come from its registration.
 */
export type PppoeServer = Readonly<{ service_name: string; interface: string; default_profile: string }>;

export type StaticIpHandling = Readonly<{ mode: 'none' }> | Readonly<{ mode: 'address-list'; list: string }> | Readonly<{ mode: 'queue' }>;

export type RouterSetup = Readonly<{
  /** The RADIUS server (radius-bridge or FreeRADIUS) as the router reaches it. */
  radius_address: string;
  /** The RADIUS server's ports (1812 and 1813 unless it listens elsewhere). */
  radius_auth_port: number;
  radius_accounting_port: number;
  /** How long the router waits for a RADIUS answer (`/radius timeout`). */
  radius_timeout_ms: number;
  pppoe_servers: readonly PppoeServer[];
  /** Hotspot server profiles set to RADIUS with MAC authentication (created when missing). */
  hotspot_profiles: readonly string[];
  /** The customer portal, let through the hotspot walled garden and the suspended users' drop rule. */
  portal_host: string | null;
  portal_address: string | null;
  /** Addresses of the suspended users' pool on this router (its name is the ISP's RADIUS policy's). */
  suspended_pool_ranges: string | null;
  static_ip: StaticIpHandling;
  /** The networks this router serves: a static-IP customer's entries go to the routers whose networks hold its IP. */
  static_ip_networks: readonly string[];
}>;

/** Enough for any router; more would be a configuration mistake, and each costs setup round trips. */
export const MAX_PPPOE_SERVERS = 16;
export const MAX_HOTSPOT_PROFILES = 16;
export const MAX_STATIC_NETWORKS = 64;

/** The setup checked and normalised, or what is wrong first (in the order of the fields). */
export function checkRouterSetup(setup: RouterSetup): RouterSetup | string {
  const radius_address = normaliseIpAddress(setup.radius_address);
  if (radius_address === null) return `RADIUS address ${JSON.stringify(setup.radius_address)} is not an IP address`;
  for (const [what, port] of [['authentication', setup.radius_auth_port], ['accounting', setup.radius_accounting_port]] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return `the RADIUS ${what} port must be a whole number from 1 to 65535`;
  }
  if (!Number.isInteger(setup.radius_timeout_ms) || setup.radius_timeout_ms < 100 || setup.radius_timeout_ms > 60_000) return 'the RADIUS timeout must be 100–60000 ms';
  if (setup.pppoe_servers.length > MAX_PPPOE_SERVERS) return `at most ${MAX_PPPOE_SERVERS} PPPoE servers`;
  const services = new Set<string>();
  for (const server of setup.pppoe_servers) {
    for (const [what, value] of [['service name', server.service_name], ['interface', server.interface], ['default profile', server.default_profile]] as const) {
      if (!isRouterOsName(value)) return `PPPoE ${what} ${JSON.stringify(value)} must be a RouterOS name (letters, digits, _ . -)`;
    }
    if (services.has(server.service_name)) return `PPPoE service ${server.service_name} is listed twice`;
    services.add(server.service_name);
  }
  if (setup.hotspot_profiles.length > MAX_HOTSPOT_PROFILES) return `at most ${MAX_HOTSPOT_PROFILES} hotspot profiles`;
  for (const profile of setup.hotspot_profiles) if (!isRouterOsName(profile)) return `hotspot profile ${JSON.stringify(profile)} must be a RouterOS name`;
  if (new Set(setup.hotspot_profiles).size !== setup.hotspot_profiles.length) return 'a hotspot profile is listed twice';
  const portal_host = setup.portal_host === null ? null : normaliseHost(setup.portal_host);
  if (setup.portal_host !== null && portal_host === null) return `portal host ${JSON.stringify(setup.portal_host)} is not a DNS name or address`;
  const portal_address = setup.portal_address === null ? null : normaliseIpAddress(setup.portal_address);
  if (setup.portal_address !== null && portal_address === null) return `portal address ${JSON.stringify(setup.portal_address)} is not an IP address`;
  const suspended_pool_ranges = setup.suspended_pool_ranges === null ? null : normalisePoolRanges(setup.suspended_pool_ranges);
  if (setup.suspended_pool_ranges !== null && suspended_pool_ranges === null) return `suspended pool ranges ${JSON.stringify(setup.suspended_pool_ranges)} must be IPv4 ranges like 100.64.0.2-100.64.3.254`;
  const mode = setup.static_ip.mode;
  if (mode !== 'none' && mode !== 'address-list' && mode !== 'queue') return 'static IP handling must be none, address-list or queue';
  if (setup.static_ip.mode === 'address-list' && !isRouterOsName(setup.static_ip.list)) return 'the static IP address list must be a RouterOS name';
  if (setup.static_ip_networks.length > MAX_STATIC_NETWORKS) return `at most ${MAX_STATIC_NETWORKS} static IP networks`;
  const static_ip_networks: string[] = [];
  for (const network of setup.static_ip_networks) {
    const normal = normaliseNetwork(network);
    if (normal === null) return `static IP network ${JSON.stringify(network)} must be a CIDR network like 10.20.0.0/16 with its host bits zero`;
    static_ip_networks.push(normal);
  }
  return {
    radius_address,
    radius_auth_port: setup.radius_auth_port,
    radius_accounting_port: setup.radius_accounting_port,
    radius_timeout_ms: setup.radius_timeout_ms,
    pppoe_servers: setup.pppoe_servers.map((server) => ({ service_name: server.service_name, interface: server.interface, default_profile: server.default_profile })),
    hotspot_profiles: [...setup.hotspot_profiles],
    portal_host,
    portal_address,
    suspended_pool_ranges,
    static_ip: setup.static_ip.mode === 'address-list' ? { mode: 'address-list', list: setup.static_ip.list } : { mode: setup.static_ip.mode },
    static_ip_networks,
  };
}

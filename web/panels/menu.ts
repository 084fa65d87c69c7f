import type { Capability } from '../../api/access/capabilities.js';

/**
 * The panel's menu: each item names the capability its page needs, so a person sees only what the API would let
 * them do (the API refuses anyway; hiding is for a clean menu, not for safety). Reseller and sub-reseller panels
 * are this menu as their capabilities shape it, plus their own wallet and commission.
 */
export type NavItem = Readonly<{ href: string; label: string; icon: string; active: boolean; section: string }>;

type Entry = Readonly<{
  href: string | ((session: MenuSession) => string);
  label: string | ((session: MenuSession) => string);
  icon: string;
  section: 'Overview' | 'Customers' | 'Money' | 'Network' | 'Partners' | 'Books' | 'System';
  /** Any of these capabilities shows the item. */
  needs: readonly Capability[];
  /** Only for some callers (e.g. the wallet of an operator below the ISP). */
  when?: (session: MenuSession) => boolean;
  /** Other paths that light the item up. */
  also?: readonly string[] | ((session: MenuSession) => readonly string[]);
}>;

type MenuSession = Readonly<{ capabilities: readonly string[]; isp_level: boolean; operator_id: string }>;

const ENTRIES: readonly Entry[] = [
  { href: '/', label: 'Dashboard', icon: 'dashboard', section: 'Overview', needs: [] },
  { href: '/customers', label: 'Customers', icon: 'users', section: 'Customers', needs: ['customers.read'] },
  { href: '/sessions', label: 'Online now', icon: 'wifi', section: 'Customers', needs: ['customers.read'] },
  { href: '/packages', label: 'Packages', icon: 'box', section: 'Customers', needs: ['packages.read'] },
  { href: '/bills', label: 'Bills', icon: 'file', section: 'Money', needs: ['customers.read'], also: ['/bill-runs'] },
  { href: '/payments', label: 'Payments', icon: 'cash', section: 'Money', needs: ['customers.read'] },
  { href: '/cards', label: 'Recharge cards', icon: 'card', section: 'Money', needs: ['cards.read'] },
  {
    href: (session) => `/operators/${session.operator_id}/wallet`,
    label: 'My wallet',
    icon: 'wallet',
    section: 'Money',
    needs: ['operators.read'],
    when: (session) => !session.isp_level,
    also: (session) => [`/operators/${session.operator_id}/commission`],
  },
  { href: '/operators', label: (session) => (session.isp_level ? 'Resellers' : 'Sub-resellers'), icon: 'network', section: 'Partners', needs: ['operators.read'] },
  { href: '/staff', label: 'Staff', icon: 'badge', section: 'Partners', needs: ['operators.read'] },
  { href: '/routers', label: 'Routers', icon: 'server', section: 'Network', needs: ['routers.read'] },
  { href: '/books', label: 'Books', icon: 'book', section: 'Books', needs: ['books.read'] },
  { href: '/replay', label: 'Replay & disputes', icon: 'clock', section: 'Books', needs: ['replay.read'] },
  // The scheduler's runs are the ISP's own (one bill run, one expiry sweep for the whole ISP): resellers, who hold
  // bills.run for their own subtree's bill runs, are refused by the API and get no menu item.
  { href: '/scheduler', label: 'Scheduler', icon: 'calendar', section: 'System', needs: ['bills.run'], when: (session) => session.isp_level },
  { href: '/projections', label: 'System status', icon: 'pulse', section: 'System', needs: ['projections.read'] },
];

export function navigationFor(session: MenuSession, path: string): NavItem[] {
  const has = new Set(session.capabilities);
  const items: NavItem[] = [];
  for (const entry of ENTRIES) {
    if (entry.needs.length > 0 && !entry.needs.some((capability) => has.has(capability))) continue;
    if (entry.when !== undefined && !entry.when(session)) continue;
    const href = typeof entry.href === 'function' ? entry.href(session) : entry.href;
    const label = typeof entry.label === 'function' ? entry.label(session) : entry.label;
    const prefixes = [href, ...(typeof entry.also === 'function' ? entry.also(session) : (entry.also ?? []))];
    const active = href === '/' ? path === '/' : prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
    items.push({ href, label, icon: entry.icon, active, section: entry.section });
  }
  // "My wallet" lives under /operators/<me>: it, not the operators list, is lit there.
  if (items.some((item) => item.active && item.icon === 'wallet')) return items.map((item) => (item.href === '/operators' ? { ...item, active: false } : item));
  return items;
}

export type NavSection = Readonly<{ section: string; items: readonly NavItem[] }>;

/** The menu in its sections, in order, for the sidebar. */
export function navigationSections(session: MenuSession, path: string): NavSection[] {
  const sections: { section: string; items: NavItem[] }[] = [];
  for (const item of navigationFor(session, path)) {
    const last = sections[sections.length - 1];
    if (last !== undefined && last.section === item.section) last.items.push(item);
    else sections.push({ section: item.section, items: [item] });
  }
  return sections;
}

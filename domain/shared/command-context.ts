/**
 * What every command carries besides its own data: who asks, for which ISP, and when. The domain never reads
 * the clock or makes ids; the caller puts them here.
 */
export type Actor = Readonly<{ id: string; role: ActorRole }>;

export type ActorRole =
  | 'admin'
  | 'reseller'
  | 'sub_reseller'
  | 'manager'
  | 'accountant'
  | 'auditor'
  | 'card_distributor'
  | 'customer'
  | 'system';

export type CommandContext = Readonly<{
  /** The ISP (root operator id) the command belongs to; nothing crosses between ISPs. */
  tenant: string;
  actor: Actor;
  now: Date;
}>;

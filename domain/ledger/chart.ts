/**
 * The chart of accounts every book starts with. One book per operator (the ISP, each reseller, each
 * sub-reseller); a book's admin or accountant adds accounts of their own (as events) with codes outside the
 * template. Some accounts are kept per party: customer accounts per customer, the wallet accounts between an
 * operator and its parent per counterparty, so intercompany balances can be checked pair by pair.
 */
export type AccountType = 'asset' | 'liability' | 'equity' | 'revenue' | 'expense';
export type NormalSide = 'debit' | 'credit';

export type Account = Readonly<{ code: string; name: string; type: AccountType; party: 'customer' | 'operator' | null }>;

export const normalSide = (type: AccountType): NormalSide => (type === 'asset' || type === 'expense' ? 'debit' : 'credit');

export const CASH = '1000';
export const BANK = '1010';
export const GATEWAY_CLEARING = '1020';
export const CARD_COLLECTIONS = '1030';
export const CUSTOMER_ACCOUNTS = '1100';
export const RECEIVABLE_FROM_PARENT = '1200';
export const PAYABLE_TO_CHILDREN = '2100';
export const BILLED_NOT_COLLECTED = '2300';
export const OWNER_EQUITY = '3000';
export const RETAINED_EARNINGS = '3900';
export const SERVICE_REVENUE = '4000';
export const COMMISSION_INCOME = '4100';
export const OTHER_INCOME = '4900';
export const WALLET_ADJUSTMENTS = '5100';
export const CREDIT_NOTES = '5200';

export const TEMPLATE_ACCOUNTS: readonly Account[] = [
  { code: CASH, name: 'Cash on hand', type: 'asset', party: null },
  { code: BANK, name: 'Bank', type: 'asset', party: null },
  { code: GATEWAY_CLEARING, name: 'Payment gateway clearing', type: 'asset', party: null },
  { code: CARD_COLLECTIONS, name: 'Recharge card collections', type: 'asset', party: null },
  { code: CUSTOMER_ACCOUNTS, name: 'Customer accounts', type: 'asset', party: 'customer' },
  { code: RECEIVABLE_FROM_PARENT, name: 'Receivable from parent operator (wallet)', type: 'asset', party: 'operator' },
  { code: PAYABLE_TO_CHILDREN, name: 'Payable to child operators (wallets)', type: 'liability', party: 'operator' },
  { code: BILLED_NOT_COLLECTED, name: 'Deferred revenue: billed, not collected', type: 'liability', party: null },
  { code: OWNER_EQUITY, name: "Owner's equity", type: 'equity', party: null },
  { code: RETAINED_EARNINGS, name: 'Retained earnings', type: 'equity', party: null },
  { code: SERVICE_REVENUE, name: 'Internet service revenue', type: 'revenue', party: null },
  { code: COMMISSION_INCOME, name: 'Commission income', type: 'revenue', party: null },
  { code: OTHER_INCOME, name: 'Other income (wallet adjustments)', type: 'revenue', party: null },
  { code: WALLET_ADJUSTMENTS, name: 'Wallet adjustments granted', type: 'expense', party: null },
  { code: CREDIT_NOTES, name: 'Customer credit notes', type: 'expense', party: null },
];

const TEMPLATE_BY_CODE = new Map(TEMPLATE_ACCOUNTS.map((account) => [account.code, account]));
export const templateAccount = (code: string): Account | undefined => TEMPLATE_BY_CODE.get(code);

/** Custom accounts: four digits, first digit naming the type (1 asset … 5 expense), and not a template code. */
export const ACCOUNT_CODE = /^[1-5]\d{3}$/;
export const typeOfCode = (code: string): AccountType =>
  (['asset', 'liability', 'equity', 'revenue', 'expense'] as const)[Number(code[0]) - 1] ?? 'asset';

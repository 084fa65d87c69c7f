/**
 * Whose rows a list or a document may show, as SQL: one ISP, and within it an operator's subtree (rows whose
 * operator chain holds that operator) or one customer's own rows. Every query of the billing, customer and
 * card read models that serves an export or a document takes its rows through this, so the rule is written
 * once for them (the API's list routes say the same with the caller's operator).
 */
export type ListScope = Readonly<{
  tenant: string;
  /** Only rows in this operator's subtree; null: the whole ISP. */
  operator_id: string | null;
  /** Only this customer's rows (the customer portal); null: any customer in the subtree. */
  customer_id: string | null;
}>;

/** SQL text and parameters built together, so a `$n` always names the value pushed with it. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(typeof value === 'bigint' ? value.toString() : value);
    return `$${this.values.length}`;
  }
}

/** For tables with `tenant`, `chain` (the owner's operator chain) and `customer_id`: bills, payments, customers. */
export function chainScopeSql(scope: ListScope, params: SqlParams, alias: string): string {
  const parts = [`${alias}.tenant = ${params.add(scope.tenant)}`];
  if (scope.operator_id !== null) parts.push(`${alias}.chain @> ARRAY[${params.add(scope.operator_id)}]::text[]`);
  if (scope.customer_id !== null) parts.push(`${alias}.customer_id = ${params.add(scope.customer_id)}`);
  return parts.join(' AND ');
}

/** An operator column's value is the scope's operator or one below it (the operators table's ancestry). */
export function operatorInSubtreeSql(scope: ListScope, params: SqlParams, column: string): string {
  if (scope.operator_id === null) return 'true';
  const operator = params.add(scope.operator_id);
  return `${column} IN (SELECT operator_id FROM operators WHERE tenant = ${params.add(scope.tenant)} AND (operator_id = ${operator} OR ${operator} = ANY(ancestry)))`;
}

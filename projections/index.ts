import type { Projection } from './projection.js';
import { billingProjection } from './read-models/billing.js';
import { booksProjection } from './read-models/books.js';
import { cardsProjection } from './read-models/cards.js';
import { customersProjection } from './read-models/customers.js';
import { dashboardProjection } from './read-models/dashboard.js';
import { operatorsProjection } from './read-models/operators.js';
import { radiusProjection } from './read-models/radius.js';

/** Every read model the system keeps, each rebuilt and swapped on its own. */
export const ALL_PROJECTIONS: readonly Projection[] = [
  customersProjection,
  billingProjection,
  operatorsProjection,
  cardsProjection,
  dashboardProjection,
  radiusProjection,
  booksProjection,
];

export function projectionNamed(name: string): Projection {
  const projection = ALL_PROJECTIONS.find((candidate) => candidate.name === name);
  if (projection === undefined) throw new Error(`no projection named ${name}; known: ${ALL_PROJECTIONS.map((p) => p.name).join(', ')}`);
  return projection;
}

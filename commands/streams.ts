/** Stream names: one consistency boundary each (DESIGN §4). */
export const operatorStream = (operator_id: string) => `operator-${operator_id}`;
export const packageStream = (package_id: string) => `package-${package_id}`;
export const staffStream = (staff_id: string) => `staff-${staff_id}`;
export const customerStream = (customer_id: string) => `customer-${customer_id}`;
export const cardBatchStream = (batch_id: string) => `card-batch-${batch_id}`;
export const routerStream = (router_id: string) => `router-${router_id}`;
export const bookStream = (operator_id: string) => `book-${operator_id}`;

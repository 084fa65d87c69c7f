import type { Pages } from '../page-kit.js';

/**
 * The dashboard: what each role may see of its part of the network — customer counts and online sessions
 * (customers.read), money per day and month, collections per collector and the best resellers (reports.read),
 * and a reseller's own wallet. Figures come from the API's dashboard routes; charts are drawn by Chart.js from
 * the JSON the page carries.
 */
type Counts = {
  statuses: { active: number; expired: number; suspended: number; disabled: number; total: number };
  online: number;
  new_customers: { day: string; customers: number }[];
};
type Sums = { currency: string; received: string; refunded: string; net: string; payments: number };
type Revenue = {
  from: string;
  to: string;
  daily: (Sums & { day: string })[];
  monthly: (Sums & { month: string })[];
  collectors: { collected_by: string; name: string; collector_operator_id: string; method: string; currency: string; amount: string; payments: number }[];
  top_operators: { operator_id: string; name: string; role: string; currency: string; net: string; payments: number }[];
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const dayLabel = (day: string): string => `${Number(day.slice(8, 10))} ${MONTHS[Number(day.slice(5, 7)) - 1]}`;
const monthLabel = (month: string): string => `${MONTHS[Number(month.slice(5, 7)) - 1]} ${month.slice(2, 4)}`;
const MONTHS_SHOWN = 12;
/** The `count` months up to and including `last` (YYYY-MM), oldest first. */
function lastMonths(last: string, count: number): string[] {
  const [year, month] = last.split('-').map(Number) as [number, number];
  return Array.from({ length: count }, (_, index) => {
    const total = year * 12 + (month - 1) - (count - 1 - index);
    return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`;
  });
}
/** For the chart only (Chart.js draws numbers); the figures people read stay decimal strings. */
const chartNumber = (amount: string): number => Number(amount);

export function dashboardPages(pages: Pages): void {
  pages.get('/', null, async (page) => {
    const currency = page.session.currency;
    const [counts, revenue, operator] = await Promise.all([
      page.can('customers.read') ? page.api.get<Counts>('/api/v1/dashboard/customers', { days: 30 }) : null,
      page.can('reports.read') ? page.api.get<Revenue>('/api/v1/dashboard/revenue', { days: 30, months: MONTHS_SHOWN }) : null,
      page.can('operators.read') && !page.session.isp_level ? page.api.get<{ wallet_balance: string; currency: string; billing_mode: string; credit_limit: string }>(`/api/v1/operators/${page.session.operator_id}`) : null,
    ]);
    const charts: Record<string, unknown> = {};
    let today: Sums | null = null;
    let month: Sums | null = null;
    if (revenue !== null) {
      const daily = revenue.daily.filter((row) => row.currency === currency);
      const monthly = revenue.monthly.filter((row) => row.currency === currency);
      today = daily.find((row) => row.day === revenue.to) ?? null;
      month = monthly.find((row) => row.month === revenue.to.slice(0, 7)) ?? null;
      // Every day of the window, zero where nothing was paid, so the bars line up with the calendar.
      const byDay = new Map(daily.map((row) => [row.day, row]));
      const days = counts?.new_customers.map((row) => row.day) ?? daily.map((row) => row.day);
      charts.revenue_daily = {
        type: 'bar',
        labels: days.map(dayLabel),
        datasets: [{ label: `Net revenue (${currency})`, data: days.map((day) => chartNumber(byDay.get(day)?.net ?? '0')) }],
      };
      // Every month of the year, zero where nothing came in.
      const byMonth = new Map(monthly.map((row) => [row.month, row]));
      const months = lastMonths(revenue.to.slice(0, 7), MONTHS_SHOWN);
      charts.revenue_monthly = {
        type: 'bar',
        labels: months.map(monthLabel),
        datasets: [
          { label: 'Received', data: months.map((item) => chartNumber(byMonth.get(item)?.received ?? '0')) },
          { label: 'Refunded', data: months.map((item) => chartNumber(byMonth.get(item)?.refunded ?? '0')) },
        ],
      };
    }
    if (counts !== null) {
      charts.new_customers = { type: 'bar', labels: counts.new_customers.map((row) => dayLabel(row.day)), datasets: [{ label: 'New customers', data: counts.new_customers.map((row) => row.customers) }] };
      charts.statuses = {
        type: 'doughnut',
        labels: ['Active', 'Expired', 'Suspended', 'Disabled'],
        datasets: [{ data: [counts.statuses.active, counts.statuses.expired, counts.statuses.suspended, counts.statuses.disabled], backgroundColor: ['#157a4a', '#e0a100', '#b42318', '#8a93a8'] }],
      };
    }
    const newCustomers = counts?.new_customers.reduce((sum, row) => sum + row.customers, 0) ?? 0;
    return page.render('dashboard', {
      title: 'Dashboard',
      charts: Object.keys(charts).length > 0,
      chart_data: charts,
      counts,
      revenue,
      today,
      month,
      new_customers: newCustomers,
      operator,
      currency,
      collectors: revenue?.collectors ?? [],
      top_operators: revenue?.top_operators ?? [],
    });
  });
}

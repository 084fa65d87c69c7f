import { ApiRefusal, isFormRefusal } from '../api-client.js';
import type { FormState } from '../helpers.js';
import { field, formStateOf, formValues, submitForm, type PageContext, type Pages } from '../page-kit.js';
import { pageQuery, pagerFor } from '../paging.js';

/**
 * The accountant's and auditor's panel: every book of the caller's subtree and its reports — trial balance,
 * balance sheet, income statement, journal, general ledger, AR aging and the reseller statement — each as of a
 * date or an event, the hledger export, and closing a period (a passkey step-up, like every book write).
 */
type Book = { book_id: string; name: string; role: string; parent_id: string | null; currency: string; time_zone: string; closed_through: string | null };

const REPORTS = [
  { key: 'trial-balance', label: 'Trial balance', capability: 'books.read' },
  { key: 'balance-sheet', label: 'Balance sheet', capability: 'books.read' },
  { key: 'income-statement', label: 'Income statement', capability: 'books.read' },
  { key: 'journal', label: 'Journal', capability: 'books.read' },
  { key: 'ledger', label: 'General ledger', capability: 'books.read' },
  { key: 'ar-aging', label: 'AR aging', capability: 'reports.read' },
  { key: 'reseller-statement', label: 'Reseller statement', capability: 'reports.read' },
] as const;
type ReportKey = (typeof REPORTS)[number]['key'];


export function bookPages(pages: Pages): void {
  pages.get('/books', 'books.read', async (page) => {
    const { books } = await page.api.get<{ books: Book[] }>('/api/v1/books');
    return page.render('books', { title: 'Books', books });
  });

  const showBook = async (page: PageContext, book_id: string, report: ReportKey, forms: Readonly<Record<string, FormState>> = {}) => {
    const query = page.request.query as Record<string, string | undefined>;
    const now = page.session.today;
    const values = {
      as_of: query.as_of ?? '',
      // A period defaults to this month where the report (or the auditor's package) needs one.
      from: query.from ?? (report === 'income-statement' || report === 'trial-balance' ? `${now.slice(0, 7)}-01` : ''),
      to: query.to ?? (report === 'income-statement' || report === 'trial-balance' ? now : ''),
      account: query.account ?? '1000',
      party: query.party ?? '',
    };
    const paging = pageQuery(query);
    const id = encodeURIComponent(book_id);
    const params: Record<string, string | undefined> = { as_of: values.as_of || undefined };
    if (report === 'income-statement' || report === 'journal' || report === 'ledger' || report === 'reseller-statement') Object.assign(params, { from: values.from || undefined, to: values.to || undefined });
    if (report === 'journal') Object.assign(params, { limit: '25', after: paging.after });
    if (report === 'ledger') Object.assign(params, { account: values.account, party: values.party || undefined, limit: '200', after: paging.after });
    const books = await page.api.get<{ books: Book[] }>('/api/v1/books');
    const book = books.books.find((item) => item.book_id === book_id);
    if (book === undefined) throw new ApiRefusal({ status: 404, code: 'NOT_FOUND', message: `no book ${book_id} in your part of the network` });
    let data: Record<string, unknown> | null = null;
    let filter: FormState = { id: 'report', values, errors: {} };
    try {
      data = await page.api.get<Record<string, unknown>>(`/api/v1/books/${id}/${report}`, params);
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      filter = formStateOf('report', values, error.failure);
    }
    const accounts = report === 'ledger' ? (await page.api.get<{ accounts: { code: string; name: string }[] }>(`/api/v1/books/${id}/accounts`)).accounts.map((account) => ({ ...account, label: `${account.code} ${account.name}` })) : [];
    const path = `/books/${id}/${report}`;
    return page.render(
      'book',
      {
        title: `${book.name} · ${REPORTS.find((item) => item.key === report)!.label}`,
        book,
        report,
        is: Object.fromEntries(REPORTS.map((item) => [item.key.replace(/-/g, '_'), item.key === report])),
        tabs: REPORTS.filter((item) => page.can(item.capability)).map((item) => ({ ...item, href: `/books/${id}/${item.key}`, active: item.key === report })),
        data,
        filter,
        accounts,
        pager: data !== null && (report === 'journal' || report === 'ledger') ? pagerFor(path, query, paging, (data.next as string | null) ?? null, ((data.entries ?? data.lines) as unknown[]).length) : null,
        export_url: `/api/v1/books/${id}/journal.hledger`,
        close: forms.close ?? { id: 'close', values: { through: book.closed_through ?? '' }, errors: {} },
        open_close: forms.close !== undefined,
      },
    );
  };

  pages.get('/books/:book_id', 'books.read', async (page) => showBook(page, (page.request.params as { book_id: string }).book_id, 'trial-balance'));
  pages.get('/books/:book_id/:report', 'books.read', async (page) => {
    const { book_id, report } = page.request.params as { book_id: string; report: string };
    const known = REPORTS.find((item) => item.key === report);
    if (known === undefined) throw new ApiRefusal({ status: 404, code: 'NOT_FOUND', message: `no report ${report}` });
    if (!page.can(known.capability)) throw new ApiRefusal({ status: 403, code: 'FORBIDDEN', message: `your role may not read the ${known.label.toLowerCase()}` });
    return showBook(page, book_id, known.key);
  });

  pages.post('/books/:book_id/close', 'books.write', async (page) => {
    const { book_id } = page.request.params as { book_id: string };
    const values = formValues(page.request.body);
    return submitForm(page, {
      id: 'close',
      values,
      run: () => page.api.send('POST', `/api/v1/books/${encodeURIComponent(book_id)}/period-close`, { through: field(values, 'through') ?? '' }),
      done: { url: `/books/${encodeURIComponent(book_id)}`, message: `Book closed through ${field(values, 'through') ?? ''}: nothing may be dated on or before it now.` },
      again: (forms) => showBook(page, book_id, 'trial-balance', forms),
    });
  });
}

/**
 * Paging through the API's keyset lists: the API hands out a `next` cursor; the page keeps the cursors of the
 * pages before it in `trail` (dot-separated, `~` for the first page), so "Previous" needs no offset and no count.
 * A trail longer than MAX_TRAIL forgets its oldest pages (Previous then stops there).
 */
const MAX_TRAIL = 50;
const CURSOR = /^[A-Za-z0-9_-]{1,600}$/;

export type Pager = Readonly<{ number: number; prev: string | null; next: string | null; shown: number }>;

export type PageQuery = Readonly<{ after: string | undefined; trail: readonly string[] }>;

/** The cursor of this page and the trail behind it, from the query string (anything malformed starts afresh). */
export function pageQuery(query: Readonly<Record<string, unknown>>): PageQuery {
  const after = typeof query.after === 'string' && CURSOR.test(query.after) ? query.after : undefined;
  const trail = typeof query.trail === 'string' && query.trail !== '' ? query.trail.split('.').filter((cursor) => cursor === '~' || CURSOR.test(cursor)).slice(-MAX_TRAIL) : [];
  return { after, trail: after === undefined ? [] : trail };
}

/** Links to the previous and next page, keeping every other filter of the query string. */
export function pagerFor(path: string, query: Readonly<Record<string, unknown>>, page: PageQuery, next: string | null, shown: number): Pager {
  const base = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key === 'after' || key === 'trail' || key === 'fragment' || typeof value !== 'string' || value === '') continue;
    base.set(key, value);
  }
  const link = (after: string | undefined, trail: readonly string[]): string => {
    const params = new URLSearchParams(base);
    if (after !== undefined) params.set('after', after);
    if (after !== undefined && trail.length > 0) params.set('trail', trail.join('.'));
    const text = params.toString();
    return text === '' ? path : `${path}?${text}`;
  };
  const current = page.after ?? '~';
  const previous = page.after === undefined ? null : page.trail[page.trail.length - 1];
  return {
    number: page.after === undefined ? 1 : page.trail.length + 1,
    prev: previous === undefined || previous === null ? null : link(previous === '~' ? undefined : previous, page.trail.slice(0, -1)),
    next: next === null ? null : link(next, [...page.trail, current]),
    shown,
  };
}

import type { EntryKind } from '../../domain/ledger/journal.js';
import type { Queryable } from './books-common.js';

/**
 * Where the reverse-entry command finds the entry it reverses (commands/book-commands.ts `EntryLookup`): the
 * journal read model, by `journal_entries`' key. An entry exists here once the books projection has applied its
 * event, so a caller that has just posted it waits for the projection first (commands return their position).
 * The book is part of the question: an entry of another book is "not found", never reversed from here.
 */
export function entryLookup(db: Queryable): (book_id: string, entry_id: string) => Promise<Readonly<{ entry_id: string; kind: EntryKind }> | null> {
  return async (book_id, entry_id) => {
    const found = await db.query<{ entry_id: string; kind: EntryKind }>('SELECT entry_id, kind FROM journal_entries WHERE entry_id = $1 AND book_id = $2', [entry_id, book_id]);
    return found.rows[0] ?? null;
  };
}

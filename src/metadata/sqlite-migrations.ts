import type Database from 'better-sqlite3';
import { PAGE_INDEXES } from './sqlite-statements.js';

/**
 * Schema 3 on a data root of an older one: `target_facts` gets the list's rows (`created`, `row`,
 * target-pages.ts), filled from the facts already stored in one statement SQLite runs alone (JSON
 * functions, nothing parsed in JavaScript: the first start on the bench's 100,000 targets took
 * 11 s instead of 1.6 s, on a busy machine), in the transaction that adds
 * them. The row is the facts without what a page never shows (the blob map, the chain IDs); a fact
 * that is not JSON gets no row, and the list computes it again.
 */
export function addTargetRows(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('SELECT name FROM pragma_table_info(\'target_facts\')').all().map((c) => c.name);
  db.transaction(() => {
    if (!columns.includes('row')) {
      db.exec('ALTER TABLE target_facts ADD COLUMN created INTEGER');
      db.exec('ALTER TABLE target_facts ADD COLUMN row TEXT');
      db.exec(`UPDATE target_facts SET created = coalesce(json_extract(facts, '$.best.created'), 0),
        row = json_remove(facts, '$.blobs', '$.chains', '$.complete') WHERE json_valid(facts)`);
    }
    db.exec(PAGE_INDEXES);
  })();
}

// Filtered `$all` reads served by indexes (issue 12; docs/costs.md).
//
// A filter selects events by stream-name prefix or event-type prefix, in
// position order. Scanning `$all` and testing each event costs the whole log
// when few events match. Instead, migration 0002 indexes events by type and by
// stream category (the stream name up to its first '-'); SQLite keeps the
// entries of one type, or one category, in position order (the rowid closes
// every index key). A filtered page is then:
//
//   1. the distinct types (or categories) that the prefixes can match, found by
//      seeking through the index: one seek per distinct value, however many
//      events carry it;
//   2. for each of them, one index range read from the cursor position, at most
//      a page long (for a stream prefix that goes past the category, e.g.
//      `unit-42`, the rows of the category's range are checked with `substr`);
//   3. a merge of those short, sorted lists by position, cut to the page.
//
// So a page costs O(k · (log N + page)) for k matching types or categories,
// whatever the number N of other events in the log. The prefixes are first
// reduced so that no one extends another: the lists are then disjoint.
import type Database from 'better-sqlite3';
import type { EventFilter } from '../types.js';
import { STREAM_CATEGORY } from './migrations/0002_lookup_keys_and_filter_indexes.js';

/** The stream category of a stream-name prefix, when the prefix fixes it. */
const categoryOf = (prefix: string): string | undefined => {
  const dash = prefix.indexOf('-');
  return dash < 0 ? undefined : prefix.slice(0, dash);
};

/** The prefixes without duplicates and without those another prefix already covers. */
export function reducePrefixes(prefixes: readonly string[]): string[] {
  const unique = [...new Set(prefixes)];
  return unique.filter((p) => !unique.some((q) => q !== p && p.startsWith(q)));
}

/** The statements of a filtered read (exported for the test that checks their query plans). */
export function filteredReadSql(columns: string) {
  const firstValue = (e: string) =>
    `SELECT ${e} AS v FROM events WHERE ${e} >= ? ORDER BY 1 LIMIT 1`;
  const nextValue = (e: string) => `SELECT ${e} AS v FROM events WHERE ${e} > ? ORDER BY 1 LIMIT 1`;
  const range = (where: string, direction: 'forwards' | 'backwards') =>
    direction === 'forwards'
      ? `SELECT ${columns} FROM events WHERE ${where} AND position > ? ORDER BY position ASC LIMIT ?`
      : `SELECT ${columns} FROM events WHERE ${where} AND position < ? ORDER BY position DESC LIMIT ?`;
  const inCategory = `${STREAM_CATEGORY} = ? AND substr(stream, 1, ?) = ?`;
  return {
    firstType: firstValue('type'),
    nextType: nextValue('type'),
    firstCategory: firstValue(STREAM_CATEGORY),
    nextCategory: nextValue(STREAM_CATEGORY),
    typeForwards: range('type = ?', 'forwards'),
    typeBackwards: range('type = ?', 'backwards'),
    categoryForwards: range(inCategory, 'forwards'),
    categoryBackwards: range(inCategory, 'backwards'),
  };
}

export interface FilteredReads<Row> {
  /** Up to `maxCount` rows passing `filter`, strictly after (forwards) or before (backwards) `from`. */
  page(
    from: number,
    maxCount: number,
    filter: EventFilter,
    direction: 'forwards' | 'backwards',
  ): Row[];
}

export function createFilteredReads<Row extends { position: number }>(
  db: Database.Database,
  columns: string,
): FilteredReads<Row> {
  const sql = filteredReadSql(columns);
  const values = {
    type: {
      first: db.prepare<[string], { v: string }>(sql.firstType),
      next: db.prepare<[string], { v: string }>(sql.nextType),
    },
    category: {
      first: db.prepare<[string], { v: string }>(sql.firstCategory),
      next: db.prepare<[string], { v: string }>(sql.nextCategory),
    },
  };
  const ranges = {
    type: {
      forwards: db.prepare<unknown[], Row>(sql.typeForwards),
      backwards: db.prepare<unknown[], Row>(sql.typeBackwards),
    },
    category: {
      forwards: db.prepare<unknown[], Row>(sql.categoryForwards),
      backwards: db.prepare<unknown[], Row>(sql.categoryBackwards),
    },
  };

  /** The distinct indexed values starting with `prefix`: contiguous in the index's byte order. */
  function valuesWithPrefix(kind: 'type' | 'category', prefix: string): string[] {
    const out: string[] = [];
    let row = values[kind].first.get(prefix);
    while (row !== undefined && row.v.startsWith(prefix)) {
      out.push(row.v);
      row = values[kind].next.get(row.v);
    }
    return out;
  }

  return {
    page(from, maxCount, filter, direction) {
      const lists: Row[][] = [];
      if ('streamPrefix' in filter) {
        for (const prefix of reducePrefixes(filter.streamPrefix)) {
          const fixed = categoryOf(prefix);
          const categories = fixed === undefined ? valuesWithPrefix('category', prefix) : [fixed];
          for (const category of categories)
            lists.push(
              ranges.category[direction].all(category, prefix.length, prefix, from, maxCount),
            );
        }
      } else {
        for (const prefix of reducePrefixes(filter.eventTypePrefix))
          for (const type of valuesWithPrefix('type', prefix))
            lists.push(ranges.type[direction].all(type, from, maxCount));
      }
      if (lists.length === 1) return lists[0] ?? [];
      const merged = lists.flat();
      merged.sort((a, b) =>
        direction === 'forwards' ? a.position - b.position : b.position - a.position,
      );
      return merged.slice(0, maxCount);
    },
  };
}

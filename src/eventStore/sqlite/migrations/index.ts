// Versioned migrations of the SQLite log, applied in order inside one transaction
// each and recorded in `schema_migrations` (STYLE.md §4). Never edit a released
// migration: add the next version.
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_lookup_keys_and_filter_indexes.js';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const migrations: readonly Migration[] = [m0001, m0002];

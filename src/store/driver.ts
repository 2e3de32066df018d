import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let nativeBinding: string | undefined | null = null;

/** Where better-sqlite3's JavaScript entry is (for a thread that loads the driver itself). */
export function sqliteDriverPath(): string {
  return createRequire(import.meta.url).resolve('better-sqlite3');
}

/**
 * better-sqlite3's native part, where its build puts it (build/Release). Passed to the driver, it
 * spares every command better-sqlite3's own search (the `bindings` package: ~10 places tried and a
 * stack trace read, ~5 ms of a short command's start, issue 15); where it is not there, undefined,
 * and the driver searches as it always does.
 */
export function sqliteAddonPath(): string | undefined {
  if (nativeBinding === null) {
    const path = join(dirname(sqliteDriverPath()), '..', 'build', 'Release', 'better_sqlite3.node');
    nativeBinding = existsSync(path) ? path : undefined;
  }
  return nativeBinding;
}

/** A connection to the SQLite file at `path` (better-sqlite3's options). */
export function openDatabase(path: string, options: Database.Options = {}): Database.Database {
  return new Database(path, { ...options, nativeBinding: sqliteAddonPath() });
}

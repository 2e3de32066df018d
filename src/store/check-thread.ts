import { quickCheckProblem } from './db.js';
import { sqliteAddonPath, sqliteDriverPath } from './driver.js';

/**
 * The full integrity check (`PRAGMA quick_check`, every page) on a thread of its own, with its own
 * read-only connection, so that the event loop stays free while it reads the whole file (seconds on
 * a board of a million tasks): the board's screen draws and answers keys meanwhile. Resolves with
 * what it found (null: nothing); rejects when the check could not run at all.
 */
const CHECK = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.path, { readonly: true, fileMustExist: true, nativeBinding: workerData.nativeBinding });
  db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
  parentPort.postMessage({ lines: db.pragma('quick_check').map((row) => row.quick_check) });
} catch (err) {
  parentPort.postMessage({ error: String((err && err.message) || err), code: err && err.code });
} finally {
  if (db) db.close();
}
`;

/** SQLite's words for a file it found corrupt while checking it. */
const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

export async function quickCheckOffThread(path: string, busyTimeoutMs: number): Promise<string | null> {
  const { Worker } = await import('node:worker_threads'); // loaded here: a command that never checks off-thread does not pay for it
  return new Promise((resolve, reject) => {
    const worker = new Worker(CHECK, { eval: true, workerData: { path, driver: sqliteDriverPath(), nativeBinding: sqliteAddonPath(), busyTimeoutMs } });
    worker.unref(); // a process that is done (the board quit) does not wait for the check to end
    worker.once('message', (answer: { lines?: string[]; error?: string; code?: string }) => {
      if (answer.lines) resolve(quickCheckProblem(answer.lines));
      else if (answer.code && CORRUPT_CODES.has(answer.code)) resolve(answer.error ?? answer.code);
      else reject(new Error(`the integrity check could not run: ${answer.error ?? 'no answer'}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the integrity check's thread ended (${code}) without an answer`)));
  });
}

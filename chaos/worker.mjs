// A chaos worker: what it does is decided by the seed, the task and which attempt this is, so a seed
// replays the same behaviour for every task and attempt. Exit 0 completes (the profile says so).
import Database from 'better-sqlite3';

const { KANBAN_DB, KANBAN_TASK, KANBAN_CHAOS_SEED } = process.env;
const db = new Database(KANBAN_DB, { readonly: true, timeout: 5000 });
const attempt = db.prepare('SELECT count(*) FROM task_runs WHERE task_id = ?').pluck().get(KANBAN_TASK);
db.close();

// FNV-1a, then murmur3's finalizer: without it, inputs differing in their last character (the
// attempt) would get nearly the same roll, and a task would do the same thing on every attempt.
let h = 2166136261;
for (const c of `${KANBAN_CHAOS_SEED}:${KANBAN_TASK}:${attempt}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
h ^= h >>> 16;
h = Math.imul(h, 0x85ebca6b);
h ^= h >>> 13;
h = Math.imul(h, 0xc2b2ae35);
h ^= h >>> 16;
const roll = (h >>> 0) / 4294967296;
const BEHAVIOURS = [
  ['complete', 0.35],
  ['chatty', 0.12],
  ['silent', 0.1],
  ['fail', 0.15],
  ['rate-limited', 0.1],
  ['hang', 0.08],
  ['killed', 0.1],
];
let behaviour = 'complete';
for (let sum = 0, i = 0; i < BEHAVIOURS.length; i++) {
  sum += BEHAVIOURS[i][1];
  if (roll < sum) {
    behaviour = BEHAVIOURS[i][0];
    break;
  }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
console.log(`attempt ${attempt}: ${behaviour}`);
switch (behaviour) {
  case 'complete':
    process.exit(0);
  case 'chatty': // longer than the lease: the output bridge must keep it
    for (let i = 0; i < 16; i++) {
      console.log(`step ${i}`);
      await sleep(150);
    }
    process.exit(0);
  case 'silent':
    await sleep(400 + Math.floor(roll * 1000) % 800);
    process.exit(0);
  case 'fail':
    process.exit(1);
  case 'rate-limited':
    process.exit(75);
  case 'hang': // silent past its lease: reclaimed once its heartbeat is stale
    setInterval(() => {}, 1 << 30);
    break;
  case 'killed':
    await sleep(200);
    process.kill(process.pid, 'SIGKILL');
}

// What a chaos worker does on one attempt: a pure function of the seed, the task and the attempt (the
// number of runs of the task up to and including this one), shared by the worker, which does it, and
// the harness, which knows afterwards what each run was meant to do.

/** Behaviours and their probabilities, without escaping workers (as the chaos run always had). */
const PLAIN = [
  ['complete', 0.35],
  ['chatty', 0.12], // prints steadily for longer than the lease: the output bridge must keep it
  ['silent', 0.1], // sleeps a little under a second, prints nothing, exits 0
  ['fail', 0.15], // exit 1
  ['rate-limited', 0.1], // exit 75
  ['hang', 0.08], // silent forever: reclaimed once its heartbeat is stale
  ['killed', 0.1], // SIGKILLs itself
];

/** Workers that leave processes behind: 10% in all, the others scaled down to make room. */
const ESCAPES = [
  ['daemon-complete', 0.03], // a setsid daemon, then exit 0
  ['daemon-crash', 0.025], // a setsid daemon, then exit 1
  ['daemon-noenv', 0.025], // a setsid daemon without any KANBAN_* variable, then exit 0
  ['term-ignorer', 0.02], // a child (same process group) that ignores SIGTERM, then hang
];

const WITH_ESCAPES = [...PLAIN.map(([name, p]) => [name, p * 0.9]), ...ESCAPES];

/** Behaviours meant to succeed: a counted failure on such a run came from outside the task. */
export const SUCCESSES = new Set(['complete', 'chatty', 'silent', 'daemon-complete', 'daemon-noenv']);

export const ESCAPE_KINDS = new Set(ESCAPES.map(([name]) => name));

/** FNV-1a, then murmur3's finalizer: without it, inputs differing in their last character (the
 * attempt) would get nearly the same roll, and a task would do the same thing on every attempt. */
export function rollOf(seed, key, attempt) {
  let h = 2166136261;
  for (const c of `${seed}:${key}:${attempt}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * The behaviour of attempt `attempt` (1 for the first run) of the task titled `title` under `seed`:
 * by its title (`chaos <i>`), the same in every run of the seed, not by its id, which is new each time,
 * so that a seed replays what each attempt does.
 */
export function behaviourOf(seed, title, attempt, escapes) {
  const roll = rollOf(seed, title, attempt);
  const table = escapes ? WITH_ESCAPES : PLAIN;
  let sum = 0;
  for (const [name, p] of table) {
    sum += p;
    if (roll < sum) return { behaviour: name, roll };
  }
  return { behaviour: 'complete', roll };
}

/** The argument that names a process a chaos worker left behind, in its command line (its
 * environment may have been cleared): unique to one chaos run. */
export function daemonMarker(seed, token) {
  return `kanban-chaos-daemon-${seed}-${token}`;
}

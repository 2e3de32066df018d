// A chaos worker: what it does is decided by the seed, the task and which attempt this is (behaviour.mjs),
// so a seed replays the same behaviour for every task and attempt. Exit 0 completes (the profile says so).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { behaviourOf, daemonMarker } from './behaviour.mjs';

// This process's start, on the machine's monotonic clock (the same for every process, whatever the
// wall clock says): first, before anything of the run is done.
const startedAt = Number(process.hrtime.bigint()) / 1e6;
const { KANBAN_TASK, KANBAN_RUN_ID, KANBAN_CHAOS_SEED, KANBAN_CHAOS_ESCAPES, KANBAN_CHAOS_TOKEN, KANBAN_CHAOS_WITNESS, KANBAN_HOST_ID } = process.env;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const bin = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));

/**
 * Says to the harness's witness (chaos/witness.mjs) which run this worker is and when it started, and
 * keeps the connection open: the kernel closes it when this process exits, however it exits, which is
 * how the witness knows when this worker stopped. Nothing else of the run is done before it answers
 * (2 s at most: a worker runs the same without a witness).
 */
function tellWitness() {
  if (!KANBAN_CHAOS_WITNESS) return Promise.resolve();
  return new Promise((resolve) => {
    const socket = connect(KANBAN_CHAOS_WITNESS);
    const timer = setTimeout(done, 2000);
    function done() {
      clearTimeout(timer);
      socket.unref();
      resolve();
    }
    socket.on('error', done);
    socket.on('connect', () => socket.write(`start ${KANBAN_TASK} ${KANBAN_RUN_ID} ${process.pid} ${KANBAN_HOST_ID ?? '-'} ${startedAt}\n`, done));
  });
}

await tellWitness();

/** This run's attempt and its task's title, as `kanban worker context --json` says (as any worker would ask it). Retried for
 * a while: the board may sit on a file system that is read-only or full for a few seconds, and a worker
 * that cannot tell what it is meant to do should not count as one that failed at it too soon. A run
 * already taken back (exit 1) has nothing to do. */
async function whatRun() {
  for (let tries = 0; ; tries++) {
    try {
      const out = execFileSync(process.execPath, [bin, 'worker', 'context', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const { attempt, title } = JSON.parse(out);
      return { attempt, title };
    } catch (err) {
      if (err.status === 1) {
        console.error(`this run no longer holds ${KANBAN_TASK}: nothing to do`);
        process.exit(0);
      }
      if (tries >= 40) throw err;
      console.error(`cannot read the board yet (${String(err.stderr ?? err.message).trim()}): trying again`);
      await sleep(250);
    }
  }
}

const { attempt, title } = await whatRun();
const { behaviour, roll } = behaviourOf(KANBAN_CHAOS_SEED, title, attempt, KANBAN_CHAOS_ESCAPES === '1');
const marker = daemonMarker(KANBAN_CHAOS_SEED, KANBAN_CHAOS_TOKEN);

/**
 * Starts a process that sleeps forever, named in its argv by the marker and `<behaviour>:<task>:<run>`
 * (how the harness finds it, whatever its environment), and resolves once it runs. `escape`: through
 * setsid(1), which forks out of the worker's session and process group (reparented to init); else an
 * ordinary child in the worker's process group. `ignoreTerm`: it ignores SIGTERM.
 */
function startLeftover({ escape, env, ignoreTerm }) {
  const code = `${ignoreTerm ? "process.on('SIGTERM', () => {});" : ''} process.stdout.write('up\\n'); setInterval(() => {}, 1e9);`;
  const args = [process.execPath, '-e', code, marker, `${behaviour}:${KANBAN_TASK}:${KANBAN_RUN_ID}`];
  const setsid = escape && existsSync('/usr/bin/setsid');
  const child = spawn(setsid ? '/usr/bin/setsid' : args[0], setsid ? args : args.slice(1), { env, detached: escape, stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the leftover process did not start within 5 s')), 5000);
    child.on('error', reject);
    child.stdout.once('data', () => {
      clearTimeout(timer);
      child.stdout.destroy();
      child.unref();
      resolve();
    });
  });
}

const withoutKanban = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KANBAN_')));

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
    await sleep(400 + (Math.floor(roll * 1000) % 800));
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
    break;
  case 'daemon-complete':
    await startLeftover({ escape: true, env: process.env });
    process.exit(0);
  case 'daemon-crash':
    await startLeftover({ escape: true, env: process.env });
    process.exit(1);
  case 'daemon-noenv':
    await startLeftover({ escape: true, env: withoutKanban() });
    process.exit(0);
  case 'term-ignorer': // then hangs: reclaimed as a hang is, and its child must go too
    await startLeftover({ escape: false, env: process.env, ignoreTerm: true });
    setInterval(() => {}, 1 << 30);
    break;
}

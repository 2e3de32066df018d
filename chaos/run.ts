// `npm run chaos`: 500 tasks, 6 dispatchers under a cap of 8 (and 3 for a second profile), every fault;
// prints the figures, exits 1 if a promise broke. KANBAN_CHAOS_SEED replays a run; KANBAN_CHAOS_TASKS
// changes its size, KANBAN_CHAOS_DISPATCHERS the number of dispatchers.
//
// `npm run chaos -- --postgres --hosts 3`: the board on PostgreSQL (a throwaway server, or the one
// --postgres-url or KANBAN_TEST_POSTGRES_URL names), shared by 3 hosts of 2 dispatchers each
// (--dispatchers per host), each in a network namespace of its own (--network netns|proxy|auto);
// besides the process faults, whole hosts killed and restarted with a new boot id, and partitions.
// --tasks, --dispatchers and --seed stand for the variables above; --lease the lease in seconds,
// --host-kills and --partitions how many of each.
import { parseArgs } from 'node:util';
import { formatReport, runChaos, type PostgresChaos } from './harness.js';

const { values: flags } = parseArgs({
  options: {
    postgres: { type: 'boolean' },
    hosts: { type: 'string' },
    'postgres-url': { type: 'string' },
    network: { type: 'string' },
    lease: { type: 'string' },
    'host-kills': { type: 'string' },
    partitions: { type: 'string' },
    tasks: { type: 'string' },
    dispatchers: { type: 'string' },
    seed: { type: 'string' },
  },
});

const number = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number, not ${JSON.stringify(text)}`);
  return value;
};

const usePostgres = flags.postgres === true || flags.hosts !== undefined || flags['postgres-url'] !== undefined;
const network = flags.network;
if (network !== undefined && !['auto', 'netns', 'proxy'].includes(network)) throw new Error(`--network is auto, netns or proxy, not ${network}`);
const seed = number('seed', flags.seed) ?? Number(process.env.KANBAN_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
const tasks = number('tasks', flags.tasks) ?? Number(process.env.KANBAN_CHAOS_TASKS ?? 500);
const dispatchers = number('dispatchers', flags.dispatchers) ?? Number(process.env.KANBAN_CHAOS_DISPATCHERS ?? (usePostgres ? 2 : 6));
const postgres: PostgresChaos | undefined = usePostgres
  ? {
      hosts: number('hosts', flags.hosts) ?? 3,
      ...(flags['postgres-url'] !== undefined && { url: flags['postgres-url'] }),
      ...(network !== undefined && { network: network as PostgresChaos['network'] }),
      ...(flags.lease !== undefined && { leaseSeconds: number('lease', flags.lease) }),
      ...(flags['host-kills'] !== undefined && { hostKills: number('host-kills', flags['host-kills']) }),
      ...(flags.partitions !== undefined && { partitions: number('partitions', flags.partitions) }),
    }
  : undefined;
const where = postgres ? `on PostgreSQL, ${postgres.hosts} hosts of ${dispatchers} dispatchers each` : `${dispatchers} dispatchers`;
console.log(`chaos: seed ${seed} (KANBAN_CHAOS_SEED=${seed} replays it), ${tasks} tasks, ${where}`);
const report = await runChaos({ tasks, dispatchers, seed, cap: 8, profileCap: 3, timeoutMs: 25 * 60_000, log: console.log, ...(postgres && { postgres }) });
console.log(formatReport(report));
process.exitCode = report.settled && Object.values(report.violations).every((n) => n === 0) ? 0 : 1;

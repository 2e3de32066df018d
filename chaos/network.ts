import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The multi-host chaos run's machinery besides the board: how its "hosts" (sets of processes with a
 * host id, a KANBAN_HOME and a boot id of their own) reach the PostgreSQL server, so that the monkey
 * can cut one off (a partition) and find every process of one (a host kill); and the witness, which
 * records when each chaos worker really started and ended.
 *
 * Two ways to reach the server:
 * - `netns` (root, with `ip netns`): each host is a network namespace of its own, joined to the
 *   server's side by a veth pair (10.x.y.4i+2 in the namespace, 10.x.y.4i+1 outside, where the
 *   server listens on TCP). A partition takes the outer end of the host's veth down: the namespace
 *   loses carrier, every packet is dropped, open connections hang (nothing is closed or refused; the
 *   neighbours are pinned, so that no failed ARP answers a connect with EHOSTUNREACH either) until it
 *   comes back up, when TCP retransmits and carries on. A host's processes are those in its
 *   namespace, whatever they did to their environment.
 * - `proxy` (anywhere, or a server named by URL): each host's KANBAN_DB points at a TCP proxy of its
 *   own in the witness thread; a partition stops forwarding both ways and holds new connections
 *   unanswered. A host's processes are found by KANBAN_CHAOS_HOST in their environment (and the runs
 *   of the daemons that cleared theirs).
 */

/** The machine's monotonic clock in ms: the same for every process (CLOCK_MONOTONIC), steps of the wall clock aside. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** A chaos worker's life, as the witness saw it: its start (its own reading) and the close of its connection (its exit). */
export interface WorkerLife {
  task: string;
  run: number;
  pid: number;
  host: string;
  start: number;
  /** null: still alive when asked. */
  end: number | null;
}

type Message = { kind: 'ready' } | { kind: 'proxy'; host: number; port: number } | { kind: 'partitioned'; host: number; on: boolean } | { kind: 'lives'; lives: WorkerLife[]; now: number };

/** chaos/witness.mjs in a worker thread: the witness, and the hosts' proxies when there are some. */
export class Observer {
  private waiting: Array<{ kind: Message['kind']; host?: number; resolve: (m: Message) => void }> = [];

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: Message) => {
      const index = this.waiting.findIndex((w) => w.kind === message.kind && (w.host === undefined || ('host' in message && w.host === message.host)));
      if (index >= 0) this.waiting.splice(index, 1)[0]!.resolve(message);
    });
    worker.on('error', (err) => {
      throw err;
    });
  }

  private next<K extends Message['kind']>(kind: K, host?: number): Promise<Extract<Message, { kind: K }>> {
    return new Promise((resolve) => this.waiting.push({ kind, ...(host !== undefined && { host }), resolve: resolve as (m: Message) => void }));
  }

  static async start(witnessPath: string): Promise<Observer> {
    const worker = new Worker(fileURLToPath(new URL('./witness.mjs', import.meta.url)), { workerData: { witnessPath } });
    const observer = new Observer(worker);
    await observer.next('ready');
    return observer;
  }

  /** A proxy for host `host` to the server at `upstream`: its port on 127.0.0.1. */
  async proxy(host: number, upstream: { path: string } | { host: string; port: number }): Promise<number> {
    const answer = this.next('proxy', host);
    this.worker.postMessage({ kind: 'proxy', host, upstream });
    return (await answer).port;
  }

  async partition(host: number, on: boolean): Promise<void> {
    const answer = this.next('partitioned', host);
    this.worker.postMessage({ kind: 'partition', host, on });
    await answer;
  }

  /** Every worker's life so far, and the monotonic time of the answer. */
  async lives(): Promise<{ lives: WorkerLife[]; now: number }> {
    const answer = this.next('lives');
    this.worker.postMessage({ kind: 'lives' });
    const { lives, now } = await answer;
    return { lives, now };
  }

  async stop(): Promise<void> {
    this.worker.postMessage({ kind: 'stop' });
    await this.worker.terminate();
  }
}

/** How the hosts reach the server. */
export interface HostNetwork {
  kind: 'netns' | 'proxy';
  /** What host `host`'s processes are told the board is (KANBAN_DB): database `database` on the server, through this network. */
  url(host: number, database: string): string;
  /** The argv that runs `argv` as a process of host `host`. */
  command(host: number, argv: string[]): string[];
  /** Cuts host `host` off from the server (`on`), or lets it through again. */
  partition(host: number, on: boolean): Promise<void>;
  /** One line for the report. */
  describe(): string;
  close(): void;
}

// ---- network namespaces ----

const NETNS_DIR = '/run/netns';
const NAME = /^kchaos(\d+)h(\d+)$/;

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why hosts cannot have network namespaces here (null: they can): root, `ip`, and a namespace that can be made. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'no `ip` (iproute2)';
  const probe = `kchaos${process.pid}probe`;
  try {
    ip(['netns', 'add', probe]);
    ip(['netns', 'del', probe]);
    return null;
  } catch (err) {
    return `ip netns add failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`;
  }
}

/** The inode of a network namespace (what /proc/<pid>/ns/net links to: `net:[inode]`). */
function namespaceInode(path: string): number {
  return statSync(path).ino;
}

/** Every process in the network namespace with this inode, but this one. */
export function processesInNamespace(inode: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/net`) === `net:[${inode}]`) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces of chaos runs whose harness is gone (killed before it could clean up): their processes SIGKILLed, the namespaces deleted. */
function removeStaleNamespaces(): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = NAME.exec(name);
    if (!match || alive(Number(match[1]))) continue;
    try {
      for (const pid of processesInNamespace(namespaceInode(`${NETNS_DIR}/${name}`))) process.kill(pid, 'SIGKILL');
      ip(['netns', 'del', name]);
      removed.push(name);
    } catch {
      // another run's cleanup got there first
    }
  }
  return removed;
}

/** A /24 (among 10.200.x–10.249.x) no interface here has an address in. */
function freeBlock(): string {
  const used = ip(['-4', '-o', 'addr', 'show']);
  for (let tries = 0; tries < 200; tries++) {
    const block = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}`;
    if (!used.includes(` ${block}.`)) return block;
  }
  throw new Error('no free /24 among 10.200.0.0–10.249.255.0 for the hosts');
}

/**
 * A network namespace and a veth pair per host: made (as root) before the server starts, so that it
 * can listen on the outer addresses (`serverAddresses`) and accept `clients`.
 */
export class NetnsNetwork implements HostNetwork {
  readonly kind = 'netns';
  readonly serverAddresses: string[];
  readonly clients: string[];
  private port = 0;
  private readonly names: string[] = [];
  private readonly inodes: number[] = [];
  readonly notes: string[] = [];
  private readonly nsenter = spawnSync('nsenter', ['--version'], { stdio: 'ignore' }).status === 0;

  constructor(hosts: number) {
    const stale = removeStaleNamespaces();
    if (stale.length > 0) this.notes.push(`removed the namespaces of an earlier run that did not clean up: ${stale.join(', ')}`);
    const block = freeBlock();
    const tag = process.pid.toString(36);
    this.serverAddresses = [];
    this.clients = [`${block}.0/24`];
    try {
      for (let i = 0; i < hosts; i++) {
        const name = `kchaos${process.pid}h${i}`;
        const [outer, inner] = [`kc${tag}h${i}`, `kc${tag}n${i}`];
        const [serverAddress, hostAddress] = [`${block}.${4 * i + 1}`, `${block}.${4 * i + 2}`];
        if (4 * i + 2 > 254) throw new Error(`at most 63 hosts, not ${hosts}`);
        ip(['netns', 'add', name]);
        this.names.push(name);
        ip(['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', name]);
        ip(['addr', 'add', `${serverAddress}/30`, 'dev', outer]);
        ip(['link', 'set', outer, 'up']);
        ip(['-n', name, 'addr', 'add', `${hostAddress}/30`, 'dev', inner]);
        ip(['-n', name, 'link', 'set', inner, 'up']);
        ip(['-n', name, 'link', 'set', 'lo', 'up']);
        this.serverAddresses.push(serverAddress);
        this.inodes.push(namespaceInode(`${NETNS_DIR}/${name}`));
        this.pinNeighbours(i);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private link(i: number): { outer: string; inner: string; serverAddress: string; hostAddress: string } {
    const tag = process.pid.toString(36);
    const serverAddress = this.serverAddresses[i]!;
    const parts = serverAddress.split('.');
    const hostAddress = [...parts.slice(0, 3), String(Number(parts[3]) + 1)].join('.');
    return { outer: `kc${tag}h${i}`, inner: `kc${tag}n${i}`, serverAddress, hostAddress };
  }

  /**
   * Each end knows the other's hardware address for good: with the link down, a packet is then
   * dropped silently (a connect hangs, as across a cut network) instead of failing ARP, which the
   * kernel reports as EHOSTUNREACH within seconds. The outer entry is lost when its link goes down:
   * pinned again each time it comes up.
   */
  private pinNeighbours(i: number): void {
    const { outer, inner, serverAddress, hostAddress } = this.link(i);
    const name = this.names[i]!;
    const outerMac = readFileSync(`/sys/class/net/${outer}/address`, 'utf8').trim();
    const innerMac = ip(['-n', name, 'link', 'show', inner]).match(/link\/ether ([0-9a-f:]+)/)?.[1];
    if (innerMac) ip(['neigh', 'replace', hostAddress, 'lladdr', innerMac, 'dev', outer, 'nud', 'permanent']);
    ip(['-n', name, 'neigh', 'replace', serverAddress, 'lladdr', outerMac, 'dev', inner, 'nud', 'permanent']);
  }

  /** The server's TCP port, once it listens. */
  listening(port: number): void {
    this.port = port;
  }

  url(host: number, database: string): string {
    return `postgresql://kanban@${this.serverAddresses[host]}:${this.port}/${database}`;
  }

  command(host: number, argv: string[]): string[] {
    const name = this.names[host]!;
    // nsenter joins the namespace and execs (the pid stays the program's); `ip netns exec` also works, in a mount namespace of its own.
    return this.nsenter ? ['nsenter', `--net=${NETNS_DIR}/${name}`, '--', ...argv] : ['ip', 'netns', 'exec', name, ...argv];
  }

  /** Every process of host `host`: those in its namespace. */
  processes(host: number): number[] {
    return processesInNamespace(this.inodes[host]!);
  }

  async partition(host: number, on: boolean): Promise<void> {
    const { outer } = this.link(host);
    if (on) {
      this.pinNeighbours(host);
      ip(['link', 'set', outer, 'down']);
    } else {
      ip(['link', 'set', outer, 'up']);
      this.pinNeighbours(host);
    }
  }

  describe(): string {
    return `each host in a network namespace of its own, reaching the server over a veth (${this.clients[0]}); a partition takes the host's veth down`;
  }

  /** Deletes the namespaces (their veths go with them): every process in them must have been stopped first. */
  close(): void {
    for (let i = 0; i < this.names.length; i++) {
      try {
        for (const pid of processesInNamespace(this.inodes[i] ?? namespaceInode(`${NETNS_DIR}/${this.names[i]}`))) process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
      try {
        ip(['netns', 'del', this.names[i]!]);
      } catch {
        // gone already
      }
    }
  }
}

// ---- proxies ----

/** Where a PostgreSQL URL's server is: a Unix socket's path (`?host=/folder`) or a TCP address. */
export function serverAddress(url: string): { path: string } | { host: string; port: number } {
  const parsed = new URL(url.replace(/^(postgres(?:ql)?:\/\/(?:[^@/?#]*@)?)(?=[/?#]|$)/i, '$1unix-socket'));
  const socketDir = parsed.searchParams.get('host');
  const port = Number(parsed.searchParams.get('port') ?? (parsed.port || 5432));
  if (socketDir?.startsWith('/')) return { path: `${socketDir}/.s.PGSQL.${port}` };
  if (parsed.hostname === 'unix-socket') return { path: `/var/run/postgresql/.s.PGSQL.${port}` };
  return { host: parsed.hostname, port };
}

/** Each host's KANBAN_DB points at a proxy of its own (in the witness thread), which a partition stalls. */
export class ProxyNetwork implements HostNetwork {
  readonly kind = 'proxy';
  private constructor(
    private readonly observer: Observer,
    private readonly ports: number[],
    private readonly serverUrl: string,
  ) {}

  static async create(observer: Observer, serverUrl: string, hosts: number): Promise<ProxyNetwork> {
    const upstream = serverAddress(serverUrl);
    const ports: number[] = [];
    for (let i = 0; i < hosts; i++) ports.push(await observer.proxy(i, upstream));
    return new ProxyNetwork(observer, ports, serverUrl);
  }

  url(host: number, database: string): string {
    // The server's user and password (the proxy passes the bytes through), its address replaced by the proxy's.
    const parsed = new URL(this.serverUrl.replace(/^(postgres(?:ql)?:\/\/(?:[^@/?#]*@)?)(?=[/?#]|$)/i, '$1unix-socket'));
    const user = parsed.username ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@` : '';
    parsed.searchParams.delete('host');
    parsed.searchParams.delete('port');
    const query = parsed.searchParams.toString();
    return `postgresql://${user}127.0.0.1:${this.ports[host]}/${database}${query ? `?${query}` : ''}`;
  }

  command(_host: number, argv: string[]): string[] {
    return argv;
  }

  partition(host: number, on: boolean): Promise<void> {
    return this.observer.partition(host, on);
  }

  describe(): string {
    return 'each host through a TCP proxy of its own in the harness (no network namespaces here); a partition stalls the proxy both ways';
  }

  close(): void {}
}

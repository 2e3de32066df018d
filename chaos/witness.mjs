// A worker thread of the chaos harness, with an event loop of its own (so that the harness's board
// reads and /proc scans never delay it):
//
// - the witness: every chaos worker connects to its Unix socket as it starts and says which run it
//   is; the thread notes when each worker started (the worker's own CLOCK_MONOTONIC reading, which
//   every process of the machine shares) and when its connection closed, which the kernel does the
//   moment the worker exits, however it exits (SIGKILL included). Those are the workers' real
//   lifetimes, whatever the board recorded: two runs of a task whose workers were alive at the same
//   time overlapped, even if the board closed one before it claimed the other.
// - the proxies (when the hosts reach the server through this thread rather than through network
//   namespaces): one TCP listener per host, forwarding to the server; a partition stops forwarding
//   both ways and leaves every connection hanging (nothing is closed), as a cut network does, and
//   holds new connections unanswered until it heals.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** @type {Array<{ task: string, run: number, pid: number, host: string, start: number, end: number | null }>} */
const lives = [];

const witness = net.createServer((socket) => {
  let buffered = '';
  /** @type {(typeof lives)[number] | null} */
  let life = null;
  socket.setEncoding('utf8');
  socket.on('data', (text) => {
    buffered += text;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const [word, task, run, pid, host, start] = line.split(' ');
      if (word === 'start' && life === null) {
        life = { task, run: Number(run), pid: Number(pid), host, start: Number(start), end: null };
        lives.push(life);
      }
    }
  });
  const ended = () => {
    if (life !== null && life.end === null) life.end = nowMs();
  };
  socket.on('close', ended);
  socket.on('error', ended);
});
witness.listen(workerData.witnessPath, () => parentPort.postMessage({ kind: 'ready' }));

/** Host index → its proxy. */
const proxies = new Map();

function startProxy(host, upstream) {
  const pairs = new Set();
  const held = [];
  const proxy = { partitioned: false, pairs, held, server: null };
  const connectUpstream = (client) => {
    const server = upstream.path ? net.connect(upstream.path) : net.connect(upstream.port, upstream.host);
    const pair = { client, server };
    pairs.add(pair);
    const forward = (from, to) => from.on('data', (data) => to.write(data));
    forward(client, server);
    forward(server, client);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('close', close);
    server.on('close', close);
    client.on('error', close);
    server.on('error', close);
    if (proxy.partitioned) {
      client.pause();
      server.pause();
    }
    client.resume();
  };
  proxy.server = net.createServer({ pauseOnConnect: true }, (client) => {
    if (proxy.partitioned) {
      held.push(client);
      client.on('error', () => client.destroy());
      return;
    }
    connectUpstream(client);
  });
  proxy.server.listen(0, '127.0.0.1', () => parentPort.postMessage({ kind: 'proxy', host, port: proxy.server.address().port }));
  proxy.connectUpstream = connectUpstream;
  proxies.set(host, proxy);
}

function partition(host, on) {
  const proxy = proxies.get(host);
  if (!proxy) return;
  proxy.partitioned = on;
  for (const { client, server } of proxy.pairs) {
    if (on) {
      client.pause();
      server.pause();
    } else {
      client.resume();
      server.resume();
    }
  }
  if (!on) for (const client of proxy.held.splice(0)) if (!client.destroyed) proxy.connectUpstream(client);
}

parentPort.on('message', (message) => {
  switch (message.kind) {
    case 'proxy':
      startProxy(message.host, message.upstream);
      break;
    case 'partition':
      partition(message.host, message.on);
      parentPort.postMessage({ kind: 'partitioned', host: message.host, on: message.on });
      break;
    case 'lives':
      parentPort.postMessage({ kind: 'lives', lives, now: nowMs() });
      break;
    case 'stop':
      witness.close();
      for (const proxy of proxies.values()) {
        proxy.server.close();
        for (const { client, server } of proxy.pairs) {
          client.destroy();
          server.destroy();
        }
        for (const client of proxy.held) client.destroy();
      }
      parentPort.close();
      break;
  }
});

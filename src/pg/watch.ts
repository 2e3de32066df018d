import pg from 'pg';
import { PG_CHANGE_CHANNEL } from './schema.js';

/**
 * Hears another connection's change to a PostgreSQL board (issue 14): LISTEN on a connection of its
 * own (a trigger on task_events NOTIFYs), a ping to find a connection that died quietly, reconnects
 * with a growing wait, and a full reload each time it begins to listen (what was said while it was
 * away, or before its first LISTEN, was said to no one). Where notifications cannot be had it polls
 * the latest event id instead.
 */
/** The listening connection's application_name, so that it can be told apart on the server. */
export const WATCH_APPLICATION = 'kanban-watch';

export interface PgWatchOptions {
  /** A burst of notifications is one `onChange` after this long (default 5 ms). */
  settleMs?: number;
  /** How often the listening connection is pinged (default 5 s). */
  pingMs?: number;
  /** The first wait before reconnecting, doubled up to `maxBackoffMs` (defaults 100 ms, 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** While notifications cannot be had: how often the latest event id is read (default 1 s). */
  pollMs?: number;
  /** A notification from a server process this returns true for is not a change to report (the board's own connections' writes). */
  ignore?(serverPid: number): boolean;
  /** Told when the watch loses or regains its connection (for the board's status line). */
  onState?(state: 'listening' | 'reconnecting' | 'polling'): void;
}

export class PgWatcher {
  private client: pg.Client | null = null;
  private closed = false;
  private pending: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  /** The latest event id polling saw; undefined until its first look. */
  private lastEventId: string | null | undefined = undefined;
  private backoff: number;

  constructor(
    private readonly connectionString: string,
    private readonly onChange: () => void,
    private readonly options: PgWatchOptions = {},
  ) {
    this.backoff = options.backoffMs ?? 100;
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.pending);
    clearInterval(this.ping);
    clearTimeout(this.retry);
    clearInterval(this.poll);
    const client = this.client;
    this.client = null;
    void client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, application_name: WATCH_APPLICATION });
    client.on('error', () => this.lost(client)); // a dropped connection: reconnect
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (!this.options.ignore?.(message.processId)) this.soon();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${PG_CHANGE_CHANNEL}`);
    } catch {
      void client.end().catch(() => undefined);
      if (!this.closed) this.startPolling();
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      void client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.backoff = this.options.backoffMs ?? 100;
    clearInterval(this.poll);
    this.poll = undefined;
    this.ping = setInterval(() => void client.query('SELECT 1').catch(() => this.lost(client)), this.options.pingMs ?? 5_000);
    this.ping.unref();
    this.options.onState?.('listening');
    // What changed while it was away, or, the first time, between the caller's last read and the
    // LISTEN (a commit then was said to no one): read it all again. Through soon(), so that a
    // notification already on its way is the same one change.
    this.soon();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    clearInterval(this.ping);
    void client.end().catch(() => undefined);
    this.options.onState?.('reconnecting');
    this.startPolling();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect(), this.backoff);
    this.retry.unref();
    this.backoff = Math.min(this.backoff * 2, this.options.maxBackoffMs ?? 10_000);
  }

  /** Without notifications: a change is a new latest event id, read on a short-lived connection. */
  private startPolling(): void {
    if (this.poll || this.closed) return;
    this.options.onState?.('polling');
    this.poll = setInterval(() => void this.pollOnce(), this.options.pollMs ?? 1_000);
    this.poll.unref();
  }

  private async pollOnce(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ id: string | null }>('SELECT max(id)::text AS id FROM task_events');
      if (this.poll === undefined) return; // listening again since: the LISTEN has told
      const latest = rows[0]?.id ?? null;
      // The first look has nothing to compare with (undefined is no id): what was committed before it is read again, as at a LISTEN.
      if (latest !== this.lastEventId) this.soon();
      this.lastEventId = latest;
    } catch {
      // the server is away: the next poll, or the reconnect, tries again
    } finally {
      void client.end().catch(() => undefined);
    }
  }

  private soon(): void {
    if (this.pending || this.closed) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      if (!this.closed) this.onChange();
    }, this.options.settleMs ?? 5);
  }
}

import type { HostRow } from '../core/types.js';
import type { Store } from './db.js';

/** This host is alive now: its row made or brought up to date; the boot id it had before (null: never seen). */
export function seeHost(store: Store, host: { id: string; name: string; bootId: string }): { previousBootId: string | null } {
  return store.writeTxn(() => {
    const previous = store.stmt('SELECT boot_id FROM hosts WHERE id = ?').pluck().get(host.id) as string | undefined;
    store
      .stmt(
        `INSERT INTO hosts (id, name, boot_id, first_seen_at, last_seen_at, booted_at) VALUES (@id, @name, @boot_id, @now, @now, @now)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at,
           booted_at = CASE WHEN hosts.boot_id = excluded.boot_id THEN hosts.booted_at ELSE excluded.last_seen_at END,
           boot_id = excluded.boot_id`,
      )
      .run({ id: host.id, name: host.name, boot_id: host.bootId, now: store.clock.now() });
    return { previousBootId: previous ?? null };
  });
}

/** Every host the board has seen, the latest seen first. */
export function listHosts(store: Store): HostRow[] {
  return store.stmt('SELECT * FROM hosts ORDER BY last_seen_at DESC, id').all() as HostRow[];
}

import type { HostRow } from '../core/types.js';
import type { Tx } from './tx.js';

/** This host is alive now, in the database's time: its row made or brought up to date; the boot id it had before. */
export async function seeHost(tx: Tx, host: { id: string; name: string; bootId: string }): Promise<{ previousBootId: string | null }> {
  const previous = await tx.value<string>('SELECT boot_id FROM hosts WHERE id = $1 FOR UPDATE', [host.id]);
  await tx.run(
    `INSERT INTO hosts (id, name, boot_id, first_seen_at, last_seen_at, booted_at) VALUES ($1, $2, $3, $4, $4, $4)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at,
       booted_at = CASE WHEN hosts.boot_id = excluded.boot_id THEN hosts.booted_at ELSE excluded.last_seen_at END,
       boot_id = excluded.boot_id`,
    [host.id, host.name, host.bootId, tx.now],
  );
  return { previousBootId: previous ?? null };
}

/** Every host the board has seen, the latest seen first. */
export async function listHosts(tx: Tx): Promise<HostRow[]> {
  return tx.rows<HostRow>('SELECT * FROM hosts ORDER BY last_seen_at DESC, id COLLATE "C"');
}

// A long run that stays quiet but calls `worker heartbeat` every few seconds: it keeps its lease.
import { kanban, sleep } from './kanban.mjs';

const end = Date.now() + 45_000;
for (let step = 1; Date.now() < end; step++) {
  kanban('worker', 'heartbeat', '--note', `migrating batch ${step}`);
  await sleep(3000);
}
kanban('worker', 'complete', '--summary', 'all batches migrated');

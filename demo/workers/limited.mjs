// Rate limited the first time (exit 75: no failure counted, retried after the cooldown), fine the next.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kanban, sleep } from './kanban.mjs';

const marker = join(process.env.KANBAN_WORKSPACE, '.was-rate-limited');
if (!existsSync(marker)) {
  writeFileSync(marker, new Date().toISOString());
  console.error('429 Too Many Requests: try again later');
  process.exit(75);
}
console.log('quota is back: summarizing…');
await sleep(2000);
kanban('worker', 'complete', '--summary', 'summary written after the cooldown');

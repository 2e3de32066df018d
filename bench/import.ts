import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, report, timeProcess } from './measure.js';

const TASKS = 100;
const ROUNDS = 3;
const KANBAN = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));

/**
 * 100 tasks onto a new board: 100 `kanban create` processes (the baseline) against one
 * `kanban import` of 100 lines, rounds interleaved so that machine noise falls on both alike.
 */
export function benchImport(): { ratio: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-import-'));
  try {
    const lines = Array.from({ length: TASKS }, (_, i) => JSON.stringify({ title: `Task ${i}`, body: 'Context for the agent.', priority: i % 5 }));
    const file = join(dir, 'tasks.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const creates: number[] = [];
    const imports: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const createDb = join(dir, `create-${round}.db`);
      const importDb = join(dir, `import-${round}.db`);
      // Both start from an existing empty board, as a script adding work to a board would.
      timeProcess([process.execPath, KANBAN, '--db', createDb, 'init']);
      timeProcess([process.execPath, KANBAN, '--db', importDb, 'init']);
      let created = 0;
      for (let i = 0; i < TASKS; i++) created += timeProcess([process.execPath, KANBAN, '--db', createDb, 'create', `Task ${i}`, '--body', 'Context for the agent.', '--priority', String(i % 5)]);
      const imported = timeProcess([process.execPath, KANBAN, '--db', importDb, 'import', file]);
      if (round === 0) continue; // a warm-up round
      creates.push(created);
      imports.push(imported);
    }
    const create = median(creates);
    const imported = median(imports);
    const ratio = create / imported;
    report(`${TASKS} tasks onto a board (median of ${ROUNDS} rounds, whole processes)`, [
      [`${TASKS} × kanban create (baseline)`, `${create.toFixed(0)} ms (${(create / TASKS).toFixed(1)} ms each)`],
      [`kanban import of ${TASKS} lines`, `${imported.toFixed(0)} ms`],
      ['ratio', `import is ${ratio.toFixed(1)}× faster`],
    ]);
    return { ratio };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) benchImport();

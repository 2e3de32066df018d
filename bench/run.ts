// `npm run bench`: every benchmark, each printing its figures against a baseline measured in the same run.
// `npx tsx bench/run.ts claims watch` (or `npm run bench -- claims watch`): only those named.
import { benchClaims } from './claims.js';
import { benchCli } from './cli.js';
import { benchGc } from './gc.js';
import { benchImport } from './import.js';
import { benchScale } from './scale.js';
import { benchSoak } from './soak.js';
import { benchStats } from './stats.js';
import { benchTick } from './tick.js';
import { benchTui } from './tui.js';
import { benchWatch } from './watch.js';
import { benchWrites } from './writes.js';

const benches: Record<string, () => unknown> = {
  cli: benchCli,
  writes: benchWrites,
  gc: benchGc,
  import: benchImport,
  tick: benchTick,
  claims: benchClaims,
  stats: benchStats,
  watch: benchWatch,
  tui: benchTui,
  scale: benchScale,
};
const names = process.argv.slice(2);
/** Run only when named: they take half an hour. */
const onlyWhenNamed: Record<string, () => unknown> = { soak: benchSoak };
const unknownNames = names.filter((name) => !(name in benches) && !(name in onlyWhenNamed));
if (unknownNames.length > 0) {
  console.error(`no benchmark named ${unknownNames.join(', ')}: there are ${[...Object.keys(benches), ...Object.keys(onlyWhenNamed)].join(', ')}`);
  process.exit(2);
}
for (const [name, bench] of Object.entries(benches)) if (names.length === 0 || names.includes(name)) await bench();
for (const [name, bench] of Object.entries(onlyWhenNamed)) if (names.includes(name)) await bench();

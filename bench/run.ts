// `npm run bench`: every benchmark, each printing its figures against a baseline measured in the same run.
import { benchCli } from './cli.js';
import { benchImport } from './import.js';
import { benchStats } from './stats.js';
import { benchTick } from './tick.js';
import { benchTui } from './tui.js';

benchCli();
benchImport();
await benchTick();
benchStats();
await benchTui();

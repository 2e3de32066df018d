// Does its part, then hands the task to a person: a sticky block that only `unblock` releases.
import { kanban, sleep } from './kanban.mjs';

console.log('refactoring…');
await sleep(3000);
kanban('worker', 'comment', 'refactor done; the diff is in the workspace');
kanban('worker', 'block', 'ready for review: please look at the diff, then unblock');

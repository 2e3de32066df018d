// Does its part, then hands the task to a person: the review lane (y approves, n asks for changes).
import { kanban, sleep } from './kanban.mjs';

console.log('refactoring…');
await sleep(3000);
kanban('worker', 'comment', 'refactor done; the diff is in the workspace');
kanban('worker', 'review', '--summary', 'auth refactored behind one interface; please look at the diff');

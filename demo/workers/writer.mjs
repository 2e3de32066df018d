// Does a few seconds of visible work, then completes its task.
import { kanban, sleep } from './kanban.mjs';

const steps = ['reading the task', 'making a plan', 'writing', 'checking the result'];
for (const step of steps) {
  console.log(`${process.env.KANBAN_TASK}: ${step}…`);
  await sleep(1500);
}
kanban('worker', 'complete', '--summary', 'done by the demo writer');

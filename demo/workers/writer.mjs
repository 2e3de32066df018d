// Does ten seconds or so of visible work, drawing a progress bar as a terminal program would
// (carriage returns, no newline), then completes its task.
import { kanban, sleep } from './kanban.mjs';

const steps = ['reading the task', 'making a plan', 'writing', 'checking the result'];
for (const step of steps) {
  console.log(`${process.env.KANBAN_TASK}: ${step}…`);
  for (let done = 0; done <= 10; done++) {
    process.stdout.write(`\r  [${'#'.repeat(done)}${' '.repeat(10 - done)}] ${done * 10}%`);
    await sleep(250);
  }
  process.stdout.write('\n');
}
kanban('worker', 'complete', '--summary', 'done by the demo writer');

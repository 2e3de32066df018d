import { describe, expect, it } from 'vitest';
import { renderPrompt, type PromptInput } from '../../../src/agents/prompt.js';
import { addComment, insertComment } from '../../../src/store/comments.js';
import { loadTaskContext } from '../../../src/store/context.js';
import type { Store } from '../../../src/store/db.js';
import { completeTask } from '../../../src/store/lifecycle.js';
import { createTask } from '../../../src/store/tasks.js';
import { testStore } from '../../helpers/board.js';
import type { TaskContext } from '../../../src/port/types.js';

const WORKSPACE = '/boards/main/workspaces/t_0000abcd';

function input(context: TaskContext, more: Partial<PromptInput> = {}): PromptInput {
  return { context, runId: 7, workspace: WORKSPACE, kanban: 'kanban', answerIsSummary: false, ...more };
}

/** A child task with two finished parents (one with a summary, one without) and comments. */
function board(): { store: Store; child: string; parents: string[] } {
  const store = testStore();
  const design = createTask(store, { title: 'Design the schema' }).task.id;
  const spike = createTask(store, { title: 'Spike the parser' }).task.id;
  completeTask(store, design, 'Tables users and orders; see schema.sql');
  completeTask(store, spike);
  const child = createTask(store, { title: 'Write the migration', body: 'Migrate the old rows.\nKeep ids stable.', parents: [design, spike] }).task.id;
  addComment(store, child, 'Remember the archived rows too');
  store.writeTxn(() => insertComment(store, child, 'reviewer', 'fix the tests'));
  return { store, child, parents: [design, spike] };
}

describe('renderPrompt: the default template', () => {
  it('has the title, body, parents with their summaries, comments, workspace and protocol', () => {
    const { store, child, parents } = board();
    const prompt = renderPrompt(input(loadTaskContext(store, child)));
    expect(prompt).toContain('# Write the migration');
    expect(prompt).toContain('Migrate the old rows.\nKeep ids stable.');
    expect(prompt).toContain(`### ${parents[0]}: Design the schema (done)\nTables users and orders; see schema.sql`);
    expect(prompt).toContain(`### ${parents[1]}: Spike the parser (done)\n(no summary)`);
    expect(prompt).toMatch(/^- user, \d{4}-\d\d-\d\dT[\d:.]+Z: Remember the archived rows too$/m);
    expect(prompt).toMatch(/^- review feedback \(address this\), \d{4}-\d\d-\d\dT[\d:.]+Z: fix the tests$/m);
    expect(prompt).toContain(`Your working directory is ${WORKSPACE}.`);
    for (const command of ['worker complete --summary', 'worker block "REASON"', 'worker comment "TEXT"', 'worker create "TITLE"', 'worker review --summary', 'worker heartbeat']) {
      expect(prompt).toContain(`\`kanban ${command}`);
    }
    expect(prompt).not.toMatch(/\{\{\w+\}\}/); // every placeholder filled
  });

  it('a plain command must report; an agent may just answer', () => {
    const { store, child } = board();
    const context = loadTaskContext(store, child);
    expect(renderPrompt(input(context, { answerIsSummary: false }))).toContain('exiting without reporting counts as a failure');
    expect(renderPrompt(input(context, { answerIsSummary: true }))).toContain('end with a short summary of what you did');
  });

  it('uses the kanban command it is given', () => {
    const { store, child } = board();
    expect(renderPrompt(input(loadTaskContext(store, child), { kanban: '/opt/kanban/bin/kanban' }))).toContain('`/opt/kanban/bin/kanban worker complete');
  });

  it('a task without body, parents or comments: no empty sections', () => {
    const store = testStore();
    const id = createTask(store, { title: 'Lonely' }).task.id;
    const prompt = renderPrompt(input(loadTaskContext(store, id)));
    expect(prompt).toContain('# Lonely\n\n(no description)');
    expect(prompt).not.toContain('## What the tasks before this one handed over');
    expect(prompt).not.toContain('## Comments');
  });
});

describe('renderPrompt: a custom template', () => {
  it('fills {{title}}, {{body}}, {{task_id}}, {{run_id}}, {{workspace}} and leaves unknown names as written', () => {
    const store = testStore();
    const id = createTask(store, { title: 'Fix the bug', body: 'It crashes on empty input.' }).task.id;
    const template = 'Task {{task_id}} (run {{run_id}}): {{title}}\n---\n{{body}}\nin {{workspace}}; {{unknown}} stays';
    expect(renderPrompt(input(loadTaskContext(store, id)), template)).toBe(
      `Task ${id} (run 7): Fix the bug\n---\nIt crashes on empty input.\nin ${WORKSPACE}; {{unknown}} stays`,
    );
  });

  it('one pass: a body or title holding {{title}} or $& is never expanded', () => {
    const store = testStore();
    const id = createTask(store, { title: 'Title with {{body}}', body: 'Body with {{title}} and {{protocol}} and $& and $1' }).task.id;
    const prompt = renderPrompt(input(loadTaskContext(store, id)), '[{{title}}] [{{body}}]');
    expect(prompt).toBe('[Title with {{body}}] [Body with {{title}} and {{protocol}} and $& and $1]');
  });
});

describe('renderPrompt: long fields are cut', () => {
  it('a long body, a long parent summary and a long comment are cut, saying how much was left out', () => {
    const store = testStore();
    const parent = createTask(store, { title: 'Parent' }).task.id;
    completeTask(store, parent, 's'.repeat(20_000));
    const id = createTask(store, { title: 'Child', body: 'b'.repeat(50_000), parents: [parent] }).task.id;
    addComment(store, id, 'c'.repeat(10_000));
    const prompt = renderPrompt(input(loadTaskContext(store, id)));
    expect(prompt).toContain(`${'b'.repeat(16_000)}\n[… 34000 more characters not shown]`);
    expect(prompt).not.toContain('b'.repeat(16_001));
    expect(prompt).toContain(`${'s'.repeat(16_000)}\n[… 4000 more characters not shown]`);
    expect(prompt).toContain(`${'c'.repeat(4000)}\n[… 6000 more characters not shown]`);
    expect(prompt.length).toBeLessThan(16_000 * 2 + 4000 + 3000);
  });

  it('a field just at the limit is kept whole', () => {
    const store = testStore();
    const id = createTask(store, { title: 'Exact', body: 'e'.repeat(16_000) }).task.id;
    const prompt = renderPrompt(input(loadTaskContext(store, id)));
    expect(prompt).toContain('e'.repeat(16_000));
    expect(prompt).not.toContain('more characters not shown');
  });
});

import { describe, expect, it } from 'vitest';
import { NotFound, Refused } from '../../../src/errors.js';
import { linkTasks, unlinkTasks } from '../../../src/store/links.js';
import { createTask, getTask } from '../../../src/store/tasks.js';
import { dumpBoard, eventKinds, lastEvent, taskIn, testStore } from '../../helpers/board.js';

describe('link', () => {
  it('links parent and child with a linked event on each', () => {
    const store = testStore();
    const parent = taskIn(store, 'done');
    const child = taskIn(store, 'ready');
    expect(linkTasks(store, parent, child).status).toBe('ready');
    expect(getTask(store, child).parents).toEqual([parent]);
    expect(getTask(store, parent).children).toEqual([child]);
    expect(lastEvent(store, child)).toEqual({ kind: 'linked', payload: { parent } });
    expect(lastEvent(store, parent)).toEqual({ kind: 'linked', payload: { child } });
  });

  it('sends a ready child back to todo when the parent is unfinished', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = taskIn(store, 'ready');
    expect(linkTasks(store, parent, child).status).toBe('todo');
    expect(lastEvent(store, child)).toEqual({ kind: 'linked', payload: { parent, from: 'ready', to: 'todo' } });
  });

  it('leaves a child that is not ready in its status', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = taskIn(store, 'blocked');
    expect(linkTasks(store, parent, child).status).toBe('blocked');
  });

  it('refuses a self-link and writes nothing', () => {
    const store = testStore();
    const id = taskIn(store, 'ready');
    const before = dumpBoard(store);
    expect(() => linkTasks(store, id, id)).toThrowError(Refused);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('refuses a cycle of any length and writes nothing', () => {
    const store = testStore();
    const a = taskIn(store, 'ready');
    const b = createTask(store, { title: 'b', parents: [a] }).task.id;
    const c = createTask(store, { title: 'c', parents: [b] }).task.id;
    const before = dumpBoard(store);
    expect(() => linkTasks(store, c, a)).toThrowError(`cannot link ${c} → ${a}: ${a} already leads to ${c}, which would make a cycle`);
    expect(() => linkTasks(store, b, a)).toThrowError(Refused);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('changes nothing when the link already exists', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = createTask(store, { title: 'c', parents: [parent] }).task.id;
    const before = dumpBoard(store);
    linkTasks(store, parent, child);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('reports a missing task as NotFound', () => {
    const store = testStore();
    const id = taskIn(store, 'ready');
    expect(() => linkTasks(store, id, 't_00000000')).toThrowError(NotFound);
    expect(() => linkTasks(store, 't_00000000', id)).toThrowError(NotFound);
  });
});

describe('unlink', () => {
  it('removes the link and promotes a todo child with no unfinished parent left', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = createTask(store, { title: 'c', parents: [parent] }).task.id;
    const task = unlinkTasks(store, parent, child);
    expect(task).toMatchObject({ status: 'ready' });
    expect(getTask(store, child).parents).toEqual([]);
    expect(eventKinds(store, child)).toEqual(['created', 'unlinked', 'promoted']);
    expect(lastEvent(store, parent)).toEqual({ kind: 'unlinked', payload: { child } });
  });

  it('keeps the child todo while another parent is unfinished', () => {
    const store = testStore();
    const a = taskIn(store, 'ready');
    const b = taskIn(store, 'ready');
    const child = createTask(store, { title: 'c', parents: [a, b] }).task.id;
    expect(unlinkTasks(store, a, child).status).toBe('todo');
  });

  it('refuses a link that does not exist and writes nothing', () => {
    const store = testStore();
    const a = taskIn(store, 'ready');
    const b = taskIn(store, 'ready');
    const before = dumpBoard(store);
    expect(() => unlinkTasks(store, a, b)).toThrowError(new RegExp(`${a} is not a parent of ${b}`));
    expect(dumpBoard(store)).toEqual(before);
  });
});

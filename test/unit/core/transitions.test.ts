import { describe, expect, it } from 'vitest';
import { allows, refusal, TRANSITIONS } from '../../../src/core/transitions.js';

describe('the transition table', () => {
  it('says why a transition is refused, in the words the CLI prints', () => {
    expect(refusal('unblock', { id: 't_00000001', status: 'ready' })).toBe('cannot unblock t_00000001: it is ready');
    expect(refusal('block', { id: 't_00000001', status: 'running' })).toBe('cannot block t_00000001: it is running (reclaim it first)');
    expect(refusal('reclaim', { id: 't_00000001', status: 'done' })).toBe('cannot reclaim t_00000001: it is done, not running');
    expect(refusal('request-changes', { id: 't_00000001', status: 'ready' })).toBe('cannot request changes on t_00000001: it is ready');
    expect(refusal('unblock', { id: 't_00000001', status: 'blocked' })).toBeNull();
  });

  it('keeps finished work finished but for reopen and archive, and a running task for the ones that stop it', () => {
    for (const [name, { from }] of Object.entries(TRANSITIONS)) {
      if (name !== 'reopen') expect(from, name).not.toContain('archived');
      if (name !== 'reopen' && name !== 'archive') expect(from, name).not.toContain('done');
    }
    expect(allows('stop-and-block', 'running')).toBe(true);
    expect(allows('block', 'running')).toBe(false);
    expect(allows('complete', 'running')).toBe(true);
  });
});

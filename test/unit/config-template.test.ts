import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_NAMES } from '../../src/agents/types.js';
import { parseConfig } from '../../src/config.js';
import { agentsOnPath, starterConfig } from '../../src/config-template.js';
import { settingSpecs } from '../../src/settings.js';
import { tempDir } from '../helpers/board.js';

describe('the starter config', () => {
  it('passes the loader with any set of agents found, a profile named after each', () => {
    const sets = [[], ...AGENT_NAMES.map((a) => [a]), [...AGENT_NAMES]];
    for (const agents of sets) {
      const found = agents.map((agent) => ({ agent, path: `/opt/${agent}/bin/${agent}` }));
      const config = parseConfig(starterConfig(found), 'starter.yaml');
      expect(Object.keys(config.profiles)).toEqual(agents);
      for (const agent of agents) expect(config.profiles[agent]).toMatchObject({ agent });
      expect(config.default_assignee).toBeUndefined(); // nothing starts on its own until a person says so
    }
  });

  it('names every setting with its environment variable and default, commented out', () => {
    const text = starterConfig([]);
    for (const spec of settingSpecs()) expect(text).toMatch(new RegExp(`^# ${spec.config}: ${spec.fallback} +# ${spec.env}: `, 'm'));
  });

  it('a path with a line break in it cannot break the YAML', () => {
    const config = parseConfig(starterConfig([{ agent: 'claude', path: '/odd\nprofiles: 1/claude' }]), 'starter.yaml');
    expect(Object.keys(config.profiles)).toEqual(['claude']);
  });
});

describe('agentsOnPath', () => {
  it('finds each adapter\'s program in PATH order; not a file that is not executable, nor a folder', () => {
    const dir = tempDir();
    const [first, second] = [join(dir, 'first'), join(dir, 'second')];
    mkdirSync(first);
    mkdirSync(second);
    const program = (path: string, mode = 0o755) => {
      writeFileSync(path, '#!/bin/sh\n');
      chmodSync(path, mode);
    };
    program(join(second, 'claude'));
    program(join(first, 'claude'));
    program(join(first, 'codex'), 0o644);
    mkdirSync(join(second, 'gemini'));
    program(join(dir, 'opencode'));
    expect(agentsOnPath(['relative', first, '', second].join(':'))).toEqual([{ agent: 'claude', path: join(first, 'claude') }]);
    expect(agentsOnPath(undefined)).toEqual([]);
  });
});

import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { cleanEnv } from '../helpers/processes.js';

/**
 * bin/kanban.js and what it loads (issue 15's start-up): every command runs from dist/bundle/cli.cjs,
 * compiled from a V8 code cache kept in dist/bundle/.cache; the board's screen takes Ink and React
 * from dist/bundle/screen.js; a command's output goes to its file descriptors without Node's streams
 * until something makes them. Each case runs a copy of the install (bin/ and dist/bundle/, the
 * project's node_modules linked), so that its cache can be removed, spoiled and locked.
 */
let install: string;
let dir: string;
const cacheDir = () => join(install, 'dist', 'bundle', '.cache');
const cacheFiles = () => (existsSync(cacheDir()) ? readdirSync(cacheDir()) : []);

function run(args: string[], options: { bin?: string; input?: string } = {}) {
  const bin = options.bin ?? join(install, 'bin', 'kanban.js');
  const result = spawnSync(process.execPath, [bin, ...args], { env: { ...cleanEnv(), KANBAN_HOME: join(dir, 'home') }, encoding: 'utf8', timeout: 45_000, killSignal: 'SIGKILL' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kanban-launcher-'));
  install = join(dir, 'install');
  cpSync(join(ROOT, 'bin'), join(install, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist', 'bundle'), join(install, 'dist', 'bundle'), { recursive: true, filter: (path) => !path.includes('.cache') });
  cpSync(join(ROOT, 'package.json'), join(install, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(install, 'node_modules'));
});

afterAll(() => {
  if (existsSync(cacheDir())) chmodSync(cacheDir(), 0o755);
  rmSync(dir, { recursive: true, force: true });
});

describe('the code cache', () => {
  it('is made by the first command where it is missing, then used as it is', () => {
    rmSync(cacheDir(), { recursive: true, force: true });
    const db = join(dir, 'first.db');
    const created = run(['--db', db, 'create', 'the first task']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created t_[0-9a-f]{8} {2}ready {2}the first task\n$/);
    // named by the build (the hash scripts/bundle.mjs writes at the bundle's end), Node's version and the machine
    const build = /\/\/# kanban-build ([0-9a-f]{16})\n$/.exec(readFileSync(join(install, 'dist', 'bundle', 'cli.cjs'), 'latin1'))![1];
    // (and Node's flags, when it was started with some: NODE_OPTIONS here)
    expect(cacheFiles()).toEqual([expect.stringMatching(new RegExp(`^cli-${build}-${process.version}-${process.arch}(-[0-9a-f]+)?\\.v8$`))]);
    const cache = join(cacheDir(), cacheFiles()[0]!);
    const made = statSync(cache).mtimeMs;
    const listed = run(['--db', db, 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
    expect(statSync(cache).mtimeMs).toBe(made); // accepted: not made again
  });

  it('that V8 refuses (spoiled, or another V8\'s) is made again, and the command runs all the same', () => {
    run(['--version']);
    const cache = join(cacheDir(), cacheFiles()[0]!);
    writeFileSync(cache, Buffer.alloc(statSync(cache).size, 7));
    const result = run(['--db', join(dir, 'spoiled.db'), 'create', 'after a spoiled cache']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(readFileSync(cache).equals(Buffer.alloc(statSync(cache).size, 7))).toBe(false);
    expect(cacheFiles().filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('made under other Node flags is a cache of its own: neither is made again in turn', () => {
    run(['--version']);
    const plain = new Set(cacheFiles());
    const withFlags = spawnSync(process.execPath, ['--stack-size=2000', join(install, 'bin', 'kanban.js'), '--version'], { env: { ...cleanEnv(), KANBAN_HOME: join(dir, 'home') }, encoding: 'utf8' });
    expect(withFlags.status, withFlags.stderr).toBe(0);
    const flagged = cacheFiles().filter((name) => !plain.has(name));
    expect(flagged).toHaveLength(1);
    const [before, beforeFlagged] = [...plain, ...flagged].map((name) => statSync(join(cacheDir(), name)).mtimeMs);
    run(['--version']);
    spawnSync(process.execPath, ['--stack-size=2000', join(install, 'bin', 'kanban.js'), '--version'], { env: { ...cleanEnv(), KANBAN_HOME: join(dir, 'home') } });
    expect([...plain, ...flagged].map((name) => statSync(join(cacheDir(), name)).mtimeMs)).toEqual([before, beforeFlagged]);
  });

  it('in a folder that cannot be written: the command runs without one', () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: a file where the folder should be stops the cache from being made instead
      rmSync(cacheDir(), { recursive: true, force: true });
      writeFileSync(cacheDir(), 'not a folder');
    } else {
      rmSync(cacheDir(), { recursive: true, force: true });
      mkdirSync(cacheDir());
      chmodSync(cacheDir(), 0o555);
    }
    try {
      const result = run(['--db', join(dir, 'locked.db'), 'create', 'no cache can be made']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^created t_/);
    } finally {
      if (statSync(cacheDir()).isDirectory()) chmodSync(cacheDir(), 0o755);
      rmSync(cacheDir(), { recursive: true, force: true });
    }
  });
});

describe('the board\'s screen', () => {
  it('runs from cli.cjs too, with Ink and React imported from screen.js through the launcher; its errors keep their exit code', () => {
    rmSync(cacheDir(), { recursive: true, force: true });
    const result = run(['--db', join(dir, 'screen.db'), '--no-color', 'tui']); // no terminal here: refused after the screen's modules loaded
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('kanban: kanban tui needs a terminal; kanban tui --no-ui runs the dispatcher headless\n');
    expect(cacheFiles()).toHaveLength(1); // cli.cjs ran, and made its cache
    const cached = run(['--db', join(dir, 'screen.db'), 'tui']); // from the cache: import() is lent by bin/kanban.js
    expect(cached.code).toBe(2);
    expect(cached.stderr).toBe('kanban: kanban tui needs a terminal; kanban tui --no-ui runs the dispatcher headless\n');
  });
});

describe('output without Node\'s streams', () => {
  /** A board with `count` tasks, each with a long title, for output of some size. */
  function bigBoard(name: string, count: number): string {
    const db = join(dir, `${name}.db`);
    const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ title: `task ${i} ${'x'.repeat(300)}` })).join('\n');
    writeFileSync(join(dir, `${name}.jsonl`), `${lines}\n`);
    const imported = run(['--db', db, 'import', join(dir, `${name}.jsonl`)]);
    expect(imported.code, imported.stderr).toBe(0);
    return db;
  }

  it('a reader that goes away early: the command exits 0, quietly', () => {
    const db = bigBoard('early', 2000);
    const shell = spawnSync('sh', ['-c', `"${process.execPath}" "${join(install, 'bin', 'kanban.js')}" --db "${db}" list --json | head -c 10 >/dev/null; echo "exit $?"`], {
      env: { ...cleanEnv(), KANBAN_HOME: join(dir, 'home') },
      encoding: 'utf8',
    });
    expect(shell.stderr).toBe('');
    expect(shell.stdout).toBe('exit 0\n');
  });

  it.skipIf(spawnSync('python3', ['--version']).status !== 0)('a stdout pipe another process set non-blocking, read slowly: every byte arrives, in order', () => {
    const db = bigBoard('slow', 2000);
    // python sets the pipe's O_NONBLOCK (shared with kanban), then execs kanban; the reader sleeps
    // first, so kanban's writes fill the pipe and meet EAGAIN.
    const writer = `import os, sys; os.set_blocking(1, False); os.execv(sys.argv[1], sys.argv[1:])`;
    const shell = spawnSync('sh', ['-c', `python3 -c "${writer}" "${process.execPath}" "${join(install, 'bin', 'kanban.js')}" --db "${db}" list --json | (sleep 1; cat)`], {
      env: { ...cleanEnv(), KANBAN_HOME: join(dir, 'home') },
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    expect(shell.stderr).toBe('');
    const tasks = JSON.parse(shell.stdout) as { title: string }[];
    expect(tasks).toHaveLength(2000);
    expect(new Set(tasks.map((task) => task.title)).size).toBe(2000);
  });
});

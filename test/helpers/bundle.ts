import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** An ES module bundled by esbuild from `contents` (resolved from the project's folder) with `plugins`: its text, and its exports once imported. */
export async function bundled<T>(contents: string, plugins: Plugin[]): Promise<{ text: string; exports: T }> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bundle-'));
  try {
    const outfile = join(dir, 'bundle.mjs');
    await bundleOnly(contents, plugins, outfile);
    return { text: readFileSync(outfile, 'utf8'), exports: (await import(pathToFileURL(outfile).href)) as T };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The build alone (to see it refused): to `outfile`, or not written at all. */
export async function bundleOnly(contents: string, plugins: Plugin[], outfile?: string): Promise<void> {
  await build({ stdin: { contents, resolveDir: process.cwd() }, bundle: true, format: 'esm', platform: 'node', plugins, logLevel: 'silent', ...(outfile ? { outfile } : { write: false }) });
}

/**
 * ui/screen-modules.ts as the CommonJS bundle (dist/bundle/cli.cjs) has it. Ink loads only as an ES
 * module (yoga's top-level await), so Ink, React and React's JSX runtime are bundled apart, as ES
 * modules (dist/bundle/screen.js), and imported here before the screen's own modules run; the
 * bundle's `ink`, `react` and `react/jsx-runtime` read them from SCREEN_MODULES
 * (scripts/bundle-plugins.mjs `screenModulesFromEsm`). The screen's code is compiled from cli.cjs's
 * code cache with the rest of kanban: one copy of kanban, and of React.
 *
 * Code compiled from a V8 code cache cannot import() in Node 20 (the cache drops what Node needs to
 * resolve it), so bin/kanban.js, compiled as usual, lends its own import() (LENT_IMPORT).
 */
export const SCREEN_MODULES = Symbol.for('kanban.screen-modules');
export const LENT_IMPORT = Symbol.for('kanban.import');

export async function loadScreenModules(): Promise<void> {
  const globals = globalThis as { [SCREEN_MODULES]?: unknown; [LENT_IMPORT]?: (url: string) => Promise<unknown> };
  const lent = globals[LENT_IMPORT];
  if (!lent) throw new Error('the board needs bin/kanban.js, which lends its import(), to start it');
  globals[SCREEN_MODULES] ??= await lent(new URL('./screen.js', import.meta.url).href);
}

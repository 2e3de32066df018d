import { loadScreenModules } from './screen-modules.js';

/** The variables by which Ink and chalk decide they run on a build server. */
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

/**
 * Imports the board's modules (Ink, React and the JSX runtime first: ui/screen-modules.ts) with CI
 * and CONTINUOUS_INTEGRATION hidden from the environment (and `--no-color` from the command line,
 * below). Ink and chalk read them once, at import: where they are set (often inherited, on build
 * servers and in dev containers) Ink draws nothing until it exits and chalk drops every colour, a
 * blank board in a real terminal. The variables come back before the board runs, so workers still
 * inherit them.
 */
export async function importHidingCi<T>(load: () => Promise<T>): Promise<T> {
  const hidden = CI_VARIABLES.filter((name) => name in process.env).map((name) => [name, process.env[name]] as const);
  for (const [name] of hidden) delete process.env[name];
  // chalk also reads `--no-color` from the command line at import, and would then drop every style,
  // the inverse selected card too. kanban's own --no-color has set NO_COLOR (cli/program.ts), which
  // drops colours alone (color.ts): chalk must not see the flag.
  const argv = process.argv;
  process.argv = argv.filter((arg) => arg !== '--no-color');
  try {
    await loadScreenModules();
    return await load();
  } finally {
    process.argv = argv;
    for (const [name, value] of hidden) process.env[name] = value;
  }
}

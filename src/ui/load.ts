/** The variables by which Ink and chalk decide they run on a build server. */
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

/**
 * Imports the board's modules with CI and CONTINUOUS_INTEGRATION hidden from the environment. Ink and
 * chalk read them once, at import: where they are set (often inherited, on build servers and in dev
 * containers) Ink draws nothing until it exits and chalk drops every colour, a blank board in a real
 * terminal. The variables come back before the board runs, so workers still inherit them.
 */
export async function importHidingCi<T>(load: () => Promise<T>): Promise<T> {
  const hidden = CI_VARIABLES.filter((name) => name in process.env).map((name) => [name, process.env[name]] as const);
  for (const [name] of hidden) delete process.env[name];
  try {
    return await load();
  } finally {
    for (const [name, value] of hidden) process.env[name] = value;
  }
}

/**
 * `command` with each `{name}` that `values` has replaced inside each element, in one pass (a value
 * is never expanded again); any other braces are left as they are. Never a shell string: a value can
 * only ever be (part of) one argument.
 */
export function fillArgv(command: readonly string[], values: Readonly<Record<string, string>>): string[] {
  return command.map((arg) => arg.replace(/\{([a-z_]+)\}/g, (whole, key: string) => (Object.hasOwn(values, key) ? values[key]! : whole)));
}

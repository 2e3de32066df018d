/** Not written yet (issue 14 in progress): refuses plainly. */
export function notYet(name: string): never {
  throw new Error(`the PostgreSQL board does not do ${name} yet`);
}

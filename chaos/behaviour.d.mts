export type Behaviour =
  | 'complete'
  | 'chatty'
  | 'silent'
  | 'fail'
  | 'rate-limited'
  | 'hang'
  | 'killed'
  | 'daemon-complete'
  | 'daemon-crash'
  | 'daemon-noenv'
  | 'term-ignorer';

export const SUCCESSES: ReadonlySet<string>;
export const ESCAPE_KINDS: ReadonlySet<string>;
export function rollOf(seed: number | string, key: string, attempt: number): number;
export function behaviourOf(seed: number | string, title: string, attempt: number, escapes: boolean): { behaviour: Behaviour; roll: number };
export function daemonMarker(seed: number | string, token: string): string;

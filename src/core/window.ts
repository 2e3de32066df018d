/** The arithmetic of a window onto a list: where it starts so that the selected item shows, pure. */

/** The first of `visible` consecutive items out of `total`, keeping `selected` in view and centred when it can be. */
export function windowStart(selected: number, visible: number, total: number): number {
  if (total <= visible) return 0;
  return Math.min(Math.max(0, selected - Math.floor(visible / 2)), total - visible);
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/**
 * NO_COLOR (https://no-color.org): when it is set and not empty, the board draws no colour. Bold,
 * underline, dim and inverse (the selected card) stay: they are not colour, and the board needs them.
 */
export function tint<T extends string>(color: T | undefined): T | undefined {
  return process.env.NO_COLOR ? undefined : color;
}

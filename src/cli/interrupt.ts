/**
 * For a command that follows until interrupted (`events --follow`, `log --follow`): SIGINT and
 * SIGTERM abort the signal `body` is given, from before anything is printed to after it returns.
 * Exit 0 is promised for an interrupted follow: a signal that lands just after the first output, or
 * as the follow ends by itself, must not kill the command instead. Not following, the signals keep
 * their usual effect.
 */
export async function untilInterrupted<T>(following: boolean, body: (interrupted: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  if (following) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    return await body(interrupt.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Typed errors thrown by the store and the CLI's parsers. The CLI maps them to the exit codes of
 * CONTRACT.md in one place (cli/main.ts); nothing else decides an exit code.
 */
export const ExitCode = {
  ok: 0,
  refused: 1,
  invalidInput: 2,
  notFound: 3,
  boardUnusable: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class KanbanError extends Error {
  abstract readonly exitCode: ExitCodeValue;
}

/** A transition that is not legal in the task's current state (exit 1). */
export class Refused extends KanbanError {
  readonly exitCode = ExitCode.refused;
}

/** Usage errors, invalid values, malformed environment or config (exit 2). */
export class InvalidInput extends KanbanError {
  readonly exitCode = ExitCode.invalidInput;
}

/** No such task (exit 3). */
export class NotFound extends KanbanError {
  readonly exitCode = ExitCode.notFound;
}

/** The board cannot be used: corrupt, locked past the timeout, unwritable, too new (exit 4). */
export class BoardUnusable extends KanbanError {
  readonly exitCode = ExitCode.boardUnusable;
}

/** Another process held the board past the busy timeout: unusable now, perhaps not in a moment. */
export class BoardLocked extends BoardUnusable {}

/**
 * A write whose COMMIT failed with an I/O error: SQLite may have put it in the journal before the
 * error, so it may or may not be on the board (exit 4). Retrying blindly could do it twice.
 */
export class WriteOutcomeUnknown extends BoardUnusable {}

/**
 * The board's storage failed for a reason of the machine's (`fault`: "disk full", "I/O error", "board
 * is read-only", …), in the backend's own words in the message. Not the task's doing: runs that meet
 * one are not counted against it.
 */
export class BoardFault extends BoardUnusable {
  constructor(
    readonly fault: string,
    message: string,
  ) {
    super(message);
  }
}

/** Corruption met after the board was opened (a page only this command read): `detail` says what. */
export class BoardCorrupt extends BoardUnusable {
  constructor(readonly detail: string) {
    super(`board is corrupt (${detail})`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Removes terminal control sequences and control characters from text a worker or a user wrote,
 * before it is drawn. Whole escape sequences go (not just the ESC byte), so nothing can move the
 * cursor, change colours, set the window title or reorder text (bidi overrides).
 */
const ESCAPE_SEQUENCES = new RegExp(
  [
    '\\u001b\\[[0-?]*[ -/]*[@-~]', // CSI: ESC [ params intermediates final
    '\\u001b\\][^\\u0007\\u001b]*(?:\\u0007|\\u001b\\\\)?', // OSC, ended by BEL or ST (or cut off)
    '\\u001b[PX^_][^\\u001b]*(?:\\u001b\\\\)?', // DCS, SOS, PM, APC strings
    '\\u001b[ -/]*[0-~]?', // any other ESC sequence, or a lone ESC
    '\\u009b[0-?]*[ -/]*[@-~]', // 8-bit CSI
  ].join('|'),
  'g',
);
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** For one-line contexts: newlines and tabs become spaces. */
export function cleanLine(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(/[\r\n\t]+/g, ' ').replace(CONTROL_CHARS, '');
}

/** For multi-line contexts (bodies, logs): newlines and tabs are kept, \r\n becomes \n. */
export function cleanText(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(/\r\n?/g, '\n').replace(CONTROL_CHARS, '');
}

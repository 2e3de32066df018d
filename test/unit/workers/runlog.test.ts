import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINE_CUT_MARKER, LogReader } from '../../../src/cli/commands/log.js';
import { CONTINUED_MARKER, LOG_LINE_MAX_BYTES, LOG_TEXT_MAX_BYTES, RunLog, taskLogPath, utf8Cut } from '../../../src/workers/runlog.js';
import { Tail } from '../../../src/workers/tail.js';
import { tempDir } from '../../helpers/board.js';

const KiB = 1024;
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[r(\d+) (\w+)\] (.*)$/s;

/** A RunLog on a fresh file; `read()` gives its lines (without the newlines). */
function fileLog(options: ConstructorParameters<typeof RunLog>[2] = {}) {
  const path = join(tempDir('kanban-runlog-'), 'task.log');
  const fd = openSync(path, 'a');
  const log = new RunLog(fd, 7, options);
  const raw = () => readFileSync(path);
  const read = () => {
    const text = raw().toString('utf8');
    expect(text.endsWith('\n') || text === '').toBe(true);
    return text.split('\n').slice(0, -1);
  };
  return { log, path, raw, read };
}

/** The stream and text of each log line. */
function parsed(lines: string[]): Array<{ stream: string; text: string }> {
  return lines.map((line) => {
    const match = LINE.exec(line);
    expect(match, line.slice(0, 200)).not.toBeNull();
    expect(match![1]).toBe('7');
    return { stream: match![2]!, text: match![3]! };
  });
}

describe('RunLog', () => {
  it('writes timestamped lines per stream, keeping a partial line until it ends or is flushed', () => {
    const { log, read } = fileLog();
    log.chunk('out', Buffer.from('one\ntw'));
    log.chunk('err', 'oops\n');
    log.chunk('out', Buffer.from('o\nthree'));
    log.line('kanban', 'note');
    expect(parsed(read())).toEqual([
      { stream: 'out', text: 'one' },
      { stream: 'err', text: 'oops' },
      { stream: 'out', text: 'two' },
      { stream: 'kanban', text: 'note' },
    ]);
    log.close();
    expect(parsed(read()).at(-1)).toEqual({ stream: 'out', text: 'three' });
    expect(log.fault).toBeNull();
  });

  it('a line redrawn with carriage returns (a progress bar) shows its latest state at most once a second, and its end once', () => {
    let now = 0;
    const { log, read } = fileLog({ now: () => now });
    log.chunk('out', '\r[#    ] 10%');
    expect(parsed(read()).map((l) => l.text)).toEqual(['[#    ] 10%']); // the first state at once
    now = 300;
    log.chunk('out', '\r[##   ] 40%\r[###  ] 60%');
    expect(read()).toHaveLength(1); // not again within the second
    now = 1300;
    log.chunk('out', '\r[#### ] 80%');
    expect(parsed(read()).map((l) => l.text)).toEqual(['[#    ] 10%', '[#### ] 80%']);
    log.chunk('out', '\r[#####] 100%\ndone\r\n');
    log.chunk('out', '\rfinal\r\n\n');
    expect(parsed(read()).map((l) => l.text)).toEqual(['[#    ] 10%', '[#### ] 80%', '[#####] 100%', 'done', 'final', '']);
  });

  it('a state already shown is not written again as an empty line when the newline comes alone', () => {
    let now = 0;
    const { log, read } = fileLog({ now: () => now });
    log.chunk('out', 'x\r50%');
    now = 5000;
    log.chunk('out', '\n');
    expect(parsed(read()).map((l) => l.text)).toEqual(['50%']);
  });

  it('writes a line longer than 64 KiB in pieces of at most 64 KiB each, the later ones marked, the text whole', () => {
    const { log, read } = fileLog();
    const long = Array.from({ length: 200 * KiB }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    log.chunk('out', Buffer.from(`${long}\nshort\n`));
    log.close();
    const lines = read();
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(LOG_LINE_MAX_BYTES);
    const pieces = parsed(lines);
    expect(pieces.length).toBe(Math.ceil((200 * KiB) / LOG_TEXT_MAX_BYTES) + 1);
    expect(pieces[0]!.text.startsWith(CONTINUED_MARKER)).toBe(false);
    for (const piece of pieces.slice(1, -1)) expect(piece.text.startsWith(CONTINUED_MARKER)).toBe(true);
    expect(pieces.slice(0, -1).map((p, i) => (i === 0 ? p.text : p.text.slice(CONTINUED_MARKER.length))).join('')).toBe(long);
    expect(pieces.at(-1)).toEqual({ stream: 'out', text: 'short' });
  });

  it('never splits a UTF-8 character between pieces, even when it arrives split between chunks', () => {
    const { log, read } = fileLog();
    const long = '€😀é'.repeat(30 * KiB); // 9 bytes each: 270 KiB
    const bytes = Buffer.from(`${long}\n`);
    for (let at = 0; at < bytes.length; at += 4099) log.chunk('out', bytes.subarray(at, at + 4099));
    log.close();
    const pieces = parsed(read());
    expect(pieces.length).toBeGreaterThan(4);
    for (const piece of pieces) expect(piece.text).not.toContain('\ufffd');
    expect(pieces.map((p, i) => (i === 0 ? p.text : p.text.slice(CONTINUED_MARKER.length))).join('')).toBe(long);
  });

  it('stays bounded and linear on a 20 MB line with no newline: the partial line never holds more than 64 KiB', () => {
    const { log, raw } = fileLog({ maxBytes: 100 * 1024 * KiB });
    const chunk = Buffer.alloc(64 * KiB, 'x');
    let largest = 0;
    for (let fed = 0; fed < 20 * 1024 * KiB; fed += chunk.length) {
      log.chunk('out', chunk);
      largest = Math.max(largest, log.partialBytes);
    }
    expect(largest).toBeLessThanOrEqual(LOG_TEXT_MAX_BYTES);
    log.close();
    expect(log.partialBytes).toBe(0);
    const lines = raw().toString('latin1').split('\n').slice(0, -1);
    expect(lines.length).toBe(Math.ceil((20 * 1024 * KiB) / LOG_TEXT_MAX_BYTES));
    const xs = lines.reduce((sum, line) => sum + (line.length - line.indexOf('] ') - 2) - (line.includes('(continued)') ? Buffer.byteLength(CONTINUED_MARKER) : 0), 0);
    expect(xs).toBe(20 * 1024 * KiB);
  });

  it('writes one marker when the run passes log_max_bytes, drops the rest of its output, and keeps kanban’s lines', () => {
    const { log, read, raw } = fileLog({ maxBytes: 10 * KiB });
    for (let i = 0; i < 1000; i++) log.chunk(i % 2 ? 'out' : 'err', `line ${i} ${'y'.repeat(80)}\n`);
    log.chunk('out', 'a partial line that is dropped too');
    log.line('kanban', 'worker exited: code 0');
    log.close();
    const lines = parsed(read());
    const markers = lines.filter((l) => l.text.startsWith('output truncated'));
    expect(markers).toEqual([{ stream: 'kanban', text: 'output truncated: this run wrote more than 10240 bytes (log_max_bytes); the rest is dropped' }]);
    const marker = lines.findIndex((l) => l.text.startsWith('output truncated'));
    expect(lines.slice(marker + 1)).toEqual([{ stream: 'kanban', text: 'worker exited: code 0' }]);
    expect(lines.slice(0, marker).every((l) => l.stream !== 'kanban')).toBe(true);
    expect(raw().length).toBeLessThan(10 * KiB + 500);
    expect(log.truncatedBytes).toBeGreaterThan(80 * KiB);
  });

  it('counts a long line cut in pieces against the cap too', () => {
    const { log, raw } = fileLog({ maxBytes: 200 * KiB });
    for (let i = 0; i < 100; i++) log.chunk('out', Buffer.alloc(64 * KiB, 'z'));
    log.close();
    expect(raw().length).toBeLessThan(200 * KiB + 500);
    expect(raw().toString('latin1')).toContain('output truncated: this run wrote more than 204800 bytes');
  });

  it('never throws when a write fails (a read-only descriptor): the first fault is kept', () => {
    const path = join(tempDir('kanban-runlog-'), 'task.log');
    writeFileSync(path, '');
    const fd = openSync(path, 'r');
    const log = new RunLog(fd, 7);
    expect(() => {
      log.line('kanban', 'starting');
      log.chunk('out', 'output\n'.repeat(100));
      log.close();
    }).not.toThrow();
    expect(log.fault).toMatchObject({ code: 'EBADF' });
    expect(log.lostBytes).toBeGreaterThan(0);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('never throws on a closed descriptor', () => {
    const path = join(tempDir('kanban-runlog-'), 'task.log');
    const fd = openSync(path, 'a');
    closeSync(fd);
    const log = new RunLog(fd, 7);
    expect(() => {
      log.line('kanban', 'starting');
      log.chunk('err', 'boom\n');
      log.flush();
    }).not.toThrow();
    expect(log.fault).toMatchObject({ code: 'EBADF' });
    expect(log.isFailing).toBe(true);
  });

  it('never throws on a full device (/dev/full): ENOSPC is the fault', () => {
    const log = new RunLog(openSync('/dev/full', 'w'), 7, { retryMs: 0 });
    expect(() => {
      for (let i = 0; i < 10; i++) log.chunk('out', `line ${i}\n`);
      log.close();
    }).not.toThrow();
    expect(log.fault).toMatchObject({ code: 'ENOSPC' });
    expect(log.fault!.message).toMatch(/ENOSPC/);
  });

  it('drops writes while failing and tries again only after retryMs', () => {
    const log = new RunLog(openSync('/dev/full', 'w'), 7, { retryMs: 60_000 });
    log.line('kanban', 'first');
    const lost = log.lostBytes;
    expect(lost).toBeGreaterThan(0);
    log.line('kanban', 'second');
    expect(log.lostBytes).toBeGreaterThan(lost); // counted, not tried
    log.close();
  });

  it('open never throws: a log that cannot be opened starts failed, is opened later, and says what was lost', () => {
    const dir = tempDir('kanban-runlog-');
    const db = join(dir, 'board.db');
    writeFileSync(join(dir, 'logs'), 'a file where the logs folder should be');
    const log = RunLog.open(dirname(db), 't_1a2b3c4d', 3, { retryMs: 0 });
    expect(log.fault).toMatchObject({ code: 'EEXIST' });
    expect(() => log.line('kanban', 'starting run 3')).not.toThrow();
    log.chunk('out', 'lost output\n');
    expect(log.lostBytes).toBeGreaterThan(0);
    const lost = log.lostBytes;
    rmSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'logs'));
    log.chunk('out', 'kept output\n');
    log.close();
    const lines = readFileSync(taskLogPath(dirname(db), 't_1a2b3c4d'), 'utf8').split('\n').slice(0, -1);
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual([`[r3 kanban] ${lost} bytes of output were lost: EEXIST`, '[r3 out] kept output']);
    expect(log.fault).toMatchObject({ code: 'EEXIST' }); // the first fault stays known
    expect(log.isFailing).toBe(false);
  });
});

describe('utf8Cut', () => {
  it('cuts before a character the length would split, and anywhere in bytes that are not UTF-8', () => {
    const euro = Buffer.from('ab€'); // 61 62 e2 82 ac
    expect(utf8Cut(euro, 5)).toBe(5);
    expect(utf8Cut(euro, 4)).toBe(2);
    expect(utf8Cut(euro, 3)).toBe(2);
    expect(utf8Cut(euro, 2)).toBe(2);
    expect(utf8Cut(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80]), 5)).toBe(5);
  });
});

describe('Tail', () => {
  it('keeps the last lines within the limit, cut at a line start', () => {
    const tail = new Tail(20);
    tail.push(Buffer.from('first line\nsecond line\nthird\n'));
    expect(tail.text()).toBe('second line\nthird\n');
    tail.push(Buffer.from('fourth\n'));
    expect(tail.text()).toBe('third\nfourth\n');
    const whole = new Tail(100);
    whole.push(Buffer.from('a\nb\n'));
    expect(whole.text()).toBe('a\nb\n');
  });

  it('keeps a line that starts exactly at the cut', () => {
    const tail = new Tail(6);
    tail.push(Buffer.from('xxxx\nabcde\n'));
    expect(tail.text()).toBe('abcde\n');
  });

  it('never holds more than twice its limit, however much is pushed, and keeps the end right', () => {
    const tail = new Tail(256 * KiB);
    let largest = 0;
    let last = '';
    for (let i = 0; i < 4000; i++) {
      last = `line ${i} ${'q'.repeat(i % 300)}\n`;
      tail.push(Buffer.from(last.repeat(20)));
      largest = Math.max(largest, tail.heldBytes);
    }
    expect(largest).toBeLessThanOrEqual(2 * 256 * KiB);
    const text = tail.text();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(256 * KiB);
    expect(text.endsWith(last)).toBe(true);
    expect(text.startsWith('line ')).toBe(true);
  });

  it('copes with one huge chunk with no newline: the last bytes, from a character start', () => {
    const tail = new Tail(64 * KiB);
    tail.push(Buffer.from('é'.repeat(5 * 1024 * KiB)));
    expect(tail.heldBytes).toBeLessThanOrEqual(64 * KiB + 1);
    const text = tail.text();
    expect(text).not.toContain('\ufffd');
    expect(text).toBe('é'.repeat(32 * KiB));
  });

  it('decodes a UTF-8 character split between chunks', () => {
    const tail = new Tail(1024);
    const bytes = Buffer.from('prix: 3 €\nfin 😀\n');
    for (let i = 0; i < bytes.length; i++) tail.push(bytes.subarray(i, i + 1));
    expect(tail.text()).toBe('prix: 3 €\nfin 😀\n');
  });
});

describe('LogReader (kanban log)', () => {
  function readAll(content: Buffer | string): string {
    const path = join(tempDir('kanban-logreader-'), 'task.log');
    writeFileSync(path, content);
    let out = '';
    new LogReader(path, (text) => (out += text)).drain(true);
    return out;
  }

  it('prints every line, control sequences removed, and the last line without its newline', () => {
    expect(readAll('plain\n\u001b[31mred\u001b[0m and \u001b]0;title\u0007done\nlast')).toBe('plain\nred and done\nlast\n');
  });

  it('prints a line longer than 64 KiB cut, with a marker, and the lines after it whole', () => {
    const out = readAll(`before\n${'w'.repeat(300 * KiB)}\nafter\n`);
    const lines = out.split('\n');
    expect(lines[0]).toBe('before');
    expect(lines[1]).toBe(`${'w'.repeat(LOG_LINE_MAX_BYTES)}${LINE_CUT_MARKER}`);
    expect(lines.slice(2)).toEqual(['after', '']);
  });

  it('prints the 64 KiB pieces RunLog writes whole', () => {
    const { log, path } = fileLog();
    log.chunk('out', `${'v'.repeat(150 * KiB)}\n`);
    log.close();
    let out = '';
    new LogReader(path, (text) => (out += text)).drain(true);
    expect(out).not.toContain(LINE_CUT_MARKER);
    expect(out).toBe(readFileSync(path, 'utf8'));
  });

  it('keeps a character split between two reads whole', () => {
    const content = `${'a'.repeat(1000)}\n${'b'.repeat(64 * KiB - 1 - 1001)}€\n`; // € starts 1 byte before the second read
    expect(Buffer.from(content).indexOf('€')).toBe(64 * KiB - 1);
    expect(readAll(content)).toBe(content);
  });
});

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomHex } from '../../src/random.js';
import { sqliteAddonPath } from '../../src/store/driver.js';

describe('randomHex', () => {
  it('gives as many random bytes as asked, in lowercase hex, different each time', () => {
    for (const bytes of [4, 6, 8]) expect(randomHex(bytes)).toMatch(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
    const many = Array.from({ length: 1000 }, () => randomHex(8));
    expect(new Set(many).size).toBe(1000);
  });
});

describe('sqliteAddonPath', () => {
  it('names better-sqlite3\'s built addon in this install (the driver is not left to search for it)', () => {
    const path = sqliteAddonPath();
    expect(path).toMatch(/better-sqlite3[\\/]build[\\/]Release[\\/]better_sqlite3\.node$/);
    expect(existsSync(path!)).toBe(true);
  });
});

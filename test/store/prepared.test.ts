import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { preparedOnce } from '../../src/store/db.js';

describe('statements prepared once per connection', () => {
  it('are the same statement for the same text and mode, raw and row statements apart, per connection', () => {
    const a = new Database(':memory:');
    const b = new Database(':memory:');
    try {
      const text = 'select 1 as one';
      const rows = preparedOnce(a, text);
      expect(preparedOnce(a, text)).toBe(rows);
      const raw = preparedOnce(a, text, true);
      expect(raw).not.toBe(rows);
      expect(preparedOnce(a, text, true)).toBe(raw);
      expect([rows.get(), raw.get()]).toEqual([{ one: 1 }, [1]]);
      // A statement prepared raw first leaves row statements of the same text answering objects.
      expect(preparedOnce(a, 'select 2 as two', true).get()).toEqual([2]);
      expect(preparedOnce(a, 'select 2 as two').get()).toEqual({ two: 2 });
      expect(preparedOnce(b, text)).not.toBe(rows);
    } finally {
      a.close();
      b.close();
    }
  });
});

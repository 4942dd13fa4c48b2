import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { preparedOnce } from '../../src/store/db.js';

describe('statements prepared once per connection', () => {
  it('are the same statement for the same text and shape, each shape apart, per connection', () => {
    const a = new Database(':memory:');
    const b = new Database(':memory:');
    try {
      const text = 'select 1 as one';
      const rows = preparedOnce(a, text);
      expect(preparedOnce(a, text)).toBe(rows);
      const arrays = preparedOnce(a, text, 'arrays');
      const values = preparedOnce(a, text, 'values');
      expect(new Set([rows, arrays, values]).size).toBe(3);
      expect(preparedOnce(a, text, 'arrays')).toBe(arrays);
      expect(preparedOnce(a, text, 'values')).toBe(values);
      expect([rows.get(), arrays.get(), values.get()]).toEqual([{ one: 1 }, [1], 1]);
      // A statement prepared in one shape first leaves the others of the same text in theirs.
      expect(preparedOnce(a, 'select 2 as two', 'values').get()).toBe(2);
      expect(preparedOnce(a, 'select 2 as two', 'arrays').get()).toEqual([2]);
      expect(preparedOnce(a, 'select 2 as two').get()).toEqual({ two: 2 });
      expect(preparedOnce(b, text)).not.toBe(rows);
    } finally {
      a.close();
      b.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { AnswerBatch } from '../../src/http/batch.js';

describe('AnswerBatch', () => {
  it('writes what a turn added together, in order, once the turn has run its callbacks and promises', async () => {
    const order: string[] = [];
    const batch = new AnswerBatch((err) => order.push(`error ${String(err)}`));
    batch.add(() => order.push('a'));
    await Promise.resolve();
    batch.add(() => order.push('b'));
    process.nextTick(() => order.push('tick'));
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    // A timer of 0 ms may fire before or after setImmediate; the batch has gone out by the next one.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(order).toEqual(['tick', 'a', 'b']);
  });

  it('schedules one flush per batch, and what a write adds goes out with the next one', () => {
    const flushes: (() => void)[] = [];
    const written: string[] = [];
    const batch = new AnswerBatch(() => undefined, (flush) => flushes.push(flush));
    batch.add(() => written.push('first'));
    batch.add(() => {
      written.push('second');
      batch.add(() => written.push('added while writing'));
    });
    expect(flushes).toHaveLength(1);
    expect(written).toEqual([]);
    flushes.shift()!();
    expect(written).toEqual(['first', 'second']);
    expect(flushes).toHaveLength(1);
    flushes.shift()!();
    expect(written).toEqual(['first', 'second', 'added while writing']);
  });

  it('runs what follows each answer once every answer of the batch is written', () => {
    const flushes: (() => void)[] = [];
    const order: string[] = [];
    const batch = new AnswerBatch(() => undefined, (flush) => flushes.push(flush));
    batch.add(
      () => order.push('answer a'),
      () => order.push('line a'),
    );
    batch.add(() => order.push('answer b'));
    batch.add(
      () => order.push('answer c'),
      () => order.push('line c'),
    );
    flushes.shift()!();
    expect(order).toEqual(['answer a', 'answer b', 'answer c', 'line a', 'line c']);
  });

  it('writes the rest of the batch even when reporting a failed write fails too', () => {
    const flushes: (() => void)[] = [];
    const written: string[] = [];
    const batch = new AnswerBatch(
      () => {
        throw new Error('the log is gone');
      },
      (flush) => flushes.push(flush),
    );
    batch.add(
      () => {
        throw new Error('socket gone');
      },
      () => written.push('line of the failed one'),
    );
    batch.add(() => written.push('next answer'));
    flushes.shift()!();
    expect(written).toEqual(['next answer', 'line of the failed one']);
  });

  it('reports a write that throws and still writes the rest', () => {
    const flushes: (() => void)[] = [];
    const errors: unknown[] = [];
    const written: string[] = [];
    const batch = new AnswerBatch((err) => errors.push(err), (flush) => flushes.push(flush));
    batch.add(() => written.push('before'));
    batch.add(() => {
      throw new Error('socket gone');
    });
    batch.add(() => written.push('after'));
    flushes.shift()!();
    expect(written).toEqual(['before', 'after']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['socket gone']);
  });
});

import { describe, expect, test } from 'vitest';
import { KeyCache } from '../../src/auth/keys.js';
import type { SigningKey } from '../../src/store/identity.js';

const key = (accessKey: string, enabled = 1): SigningKey => ({
  access_key: accessKey,
  secret_key: 'secret',
  user_id: 'u',
  description: '',
  enabled,
  created_at: 0,
  failures: 0,
  locked_until: null,
  user_name: 'alice',
  user_enabled: 1,
  domain_id: 'd',
  projectIds: ['p1', 'p2'],
});

function setup() {
  let now = 1_000_000;
  const stored = new Map<string, SigningKey>([['AK1', key('AK1')]]);
  const reads: string[] = [];
  const cache = new KeyCache(
    async (ak) => {
      reads.push(ak);
      return stored.get(ak);
    },
    { now: () => now },
    1000,
  );
  return { cache, stored, reads, advance: (ms: number) => (now += ms) };
}

describe('the access key cache', () => {
  test('reads a key once per period, then again', async () => {
    const { cache, stored, reads, advance } = setup();
    const first = await cache.get('AK1');
    expect(first?.key.enabled).toBe(1);
    expect(first?.projects).toEqual(new Set(['p1', 'p2']));
    stored.set('AK1', key('AK1', 0));
    advance(999);
    expect((await cache.get('AK1'))?.key.enabled).toBe(1);
    expect(reads).toEqual(['AK1']);
    advance(1);
    expect((await cache.get('AK1'))?.key.enabled).toBe(0);
    expect(reads).toEqual(['AK1', 'AK1']);
  });

  test('keeps no miss: a key created a moment later works at once', async () => {
    const { cache, stored, reads } = setup();
    expect(await cache.get('AK2')).toBeUndefined();
    stored.set('AK2', key('AK2'));
    expect((await cache.get('AK2'))?.key.access_key).toBe('AK2');
    expect(reads).toEqual(['AK2', 'AK2']);
  });

  test('a forgotten key, or a clock that went back, is read again', async () => {
    const { cache, reads, advance } = setup();
    await cache.get('AK1');
    cache.forget('AK1');
    await cache.get('AK1');
    advance(-5);
    await cache.get('AK1');
    expect(reads).toEqual(['AK1', 'AK1', 'AK1']);
  });

  test('a read that a forget overtook is not kept (another call counted a failure meanwhile)', async () => {
    const reads: string[] = [];
    let release: () => void = () => undefined;
    const cache = new KeyCache(
      async (ak) => {
        reads.push(ak);
        if (reads.length === 1) await new Promise<void>((r) => (release = r));
        return key(ak);
      },
      { now: () => 0 },
      1000,
    );
    const slow = cache.get('AK1');
    cache.forget('AK1');
    release();
    expect((await slow)?.key.access_key).toBe('AK1');
    await cache.get('AK1');
    expect(reads).toEqual(['AK1', 'AK1']);
  });

  test('a key deleted from the store is dropped', async () => {
    const { cache, stored, advance } = setup();
    await cache.get('AK1');
    stored.delete('AK1');
    advance(1000);
    expect(await cache.get('AK1')).toBeUndefined();
  });
});

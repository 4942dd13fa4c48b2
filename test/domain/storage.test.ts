import { describe, expect, test } from 'vitest';
import { bucketProblem, exportRuleProblem, exportSelects, listPathProblem, objectPathProblem, packageNameProblem, ruleSelects, shareFilePathProblem } from '../../src/domain/storage.js';

describe('export rules', () => {
  test('a plain rule selects its path and all below it, never a sibling that shares its prefix', () => {
    expect(ruleSelects('/data/local/tmp', '/data/local/tmp')).toBe(true);
    expect(ruleSelects('/data/local/tmp/', '/data/local/tmp/a/b.txt')).toBe(true);
    expect(ruleSelects('/data/local/tmp', '/data/local/tmpx')).toBe(false);
  });

  test('a rule ending in * selects every path that starts with what precedes it', () => {
    expect(ruleSelects('/data/misc/oth*', '/data/misc/other.txt')).toBe(true);
    expect(ruleSelects('/data/misc/oth*', '/data/misc/otherdir/x')).toBe(true);
    expect(ruleSelects('/data/misc/oth*', '/data/misc/else')).toBe(false);
    expect(ruleSelects('/data/*', '/data/a')).toBe(true);
  });

  test('exclude wins over include', () => {
    expect(exportSelects(['/data'], ['/data/secret'], '/data/secret/key')).toBe(false);
    expect(exportSelects(['/data'], ['/data/secret'], '/data/public')).toBe(true);
    expect(exportSelects(['/cache'], [], '/data/public')).toBe(false);
  });

  test('rules stay under /data and /cache, with * only at the end', () => {
    for (const ok of ['/data', '/cache', '/data/', '/data/*', '/cache/a*', '/data/x.+#~=_-y', '/data/' + 'a'.repeat(4090)]) expect(exportRuleProblem(ok), ok).toBeUndefined();
    for (const bad of ['data', '/', '/data*', '/datax', '/system', '/data/a*b', '/data/**', '/data/../x', '/data/a b', '/data/é', '/data/' + 'a'.repeat(4091)]) expect(exportRuleProblem(bad), bad).toBeDefined();
  });
});

describe('names and paths of OBS and shared storage', () => {
  test('buckets and object paths', () => {
    for (const ok of ['abc', 'a-b.c', '0'.repeat(63)]) expect(bucketProblem(ok), ok).toBeUndefined();
    for (const bad of ['ab', 'ABC', 'a_b', 'a'.repeat(64)]) expect(bucketProblem(bad), bad).toBeDefined();
    expect(objectPathProblem('a/b_c+d#e=f.tar')).toBeUndefined();
    expect(objectPathProblem('a'.repeat(1024))).toBeUndefined();
    for (const bad of ['a'.repeat(1025), '/a', 'a//b', 'a/../b', 'a b', 'a~b']) expect(objectPathProblem(bad), bad).toBeDefined();
    expect(objectPathProblem('a.zip', true)).toBeDefined();
    expect(objectPathProblem('a.TAR', true)).toBeUndefined();
  });

  test('file paths of DeleteShareFiles and the path of ListShareFiles', () => {
    expect(shareFilePathProblem('/data/a b/c-d_e=f.g')).toBeUndefined();
    for (const bad of ['/', 'data', '/data/../x', '/data/a+b', '/数据']) expect(shareFilePathProblem(bad), bad).toBeDefined();
    expect(listPathProblem('/data/a.b+c-d_e=f/')).toBeUndefined();
    for (const bad of ['/', 'data', '/data//x', '/data/../x', '/data/a b']) expect(listPathProblem(bad), bad).toBeDefined();
  });

  test('package names', () => {
    for (const ok of ['com.example', 'Com.Ex_ample.a1', 'c.' + 'a'.repeat(126)]) expect(packageNameProblem(ok), ok).toBeUndefined();
    for (const bad of ['example', '1com.x', '_com.x', 'com.x.', 'com.ex-ample', 'c.' + 'a'.repeat(127)]) expect(packageNameProblem(bad), bad).toBeDefined();
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Every module a source file under `dir` imports, as "file -> src/…" lines. */
function importsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(SRC, dir), { recursive: true, encoding: 'utf8' })) {
    if (!/\.tsx?$/.test(entry)) continue;
    const file = join(SRC, dir, entry);
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      out.push(`${relative(SRC, file)} -> ${relative(SRC, join(file, '..', m[1]!))}`);
    }
  }
  return out;
}

test('drivers speak domain types: nothing under src/fleet imports the store, the engine or HTTP', () => {
  const imports = importsUnder('fleet');
  expect(imports.length).toBeGreaterThan(0);
  expect(imports.filter((line) => /-> (store|engine|http|runtime|cli|auth)\//.test(line))).toEqual([]);
});

test('src/domain imports nothing of ours outside it', () => {
  expect(importsUnder('domain').filter((line) => !/-> domain\//.test(line))).toEqual([]);
});

test('the web console takes only domain rules from src/: it talks to the server through its API', () => {
  const intoSrc = importsUnder('../web/src').filter((line) => !/-> \.\.\/web\//.test(line));
  expect(intoSrc.length).toBeGreaterThan(0);
  expect(intoSrc.filter((line) => !/-> domain\//.test(line))).toEqual([]);
});

test('the client reads the event type from the domain and imports no server layer, so its CLI verbs load none of the server', () => {
  const imports = importsUnder('client');
  expect(imports.some((line) => /-> domain\/events/.test(line))).toBe(true);
  expect(imports.filter((line) => /-> (store|engine|http|control|runtime|fleet|cli)\//.test(line))).toEqual([]);
});

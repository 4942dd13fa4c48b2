import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { startOpenCph as fromPackage } from 'opencph';
import { describe, expect, it } from 'vitest';
import { startOpenCph } from '../../src/index.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);

/** The package as a user installs it: `exports` with types, the declarations in what `npm pack` ships. */
describe('the opencph package', () => {
  it("resolves 'opencph' to its built entry, for vitest and for Node", async () => {
    expect(typeof fromPackage).toBe('function');
    // The built file that `exports` names, not the sources the type check maps the name to.
    expect(fromPackage.name).toBe(startOpenCph.name);
    expect(fromPackage).not.toBe(startOpenCph);
    // Node's own resolution, through `exports` (a package may import itself by name).
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('opencph'); const p = await import('opencph/package.json', { with: { type: 'json' } }); console.log(JSON.stringify([Object.keys(m).sort(), p.default.name]))"],
      { cwd: root },
    );
    expect(JSON.parse(stdout)).toEqual([['OpenCphApiError', 'OpenCphControl', 'startOpenCph'], 'opencph']);
  });

  it('declares its types beside its entry and ships them', async () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(pkg.types).toBe('./dist/index.d.ts');
    expect(pkg.bin).toEqual({ opencph: 'dist/cli/main.js' });
    const declarations = readFileSync(new URL('dist/index.d.ts', root), 'utf8');
    expect(declarations).toContain('startOpenCph');
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/runtime/embed.d.ts', 'dist/client/control.d.ts', 'dist/cli/main.js', 'package.json']));
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('examples/'))).toBe(false);
  });
});

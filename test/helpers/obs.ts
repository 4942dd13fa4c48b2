import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create } from 'tar';

/** Put `data` where the node's OBS stand-in finds `obs://bucket/key`; returns that URI. */
export function putObject(obsDir: string, bucket: string, key: string, data: Buffer | string): string {
  const file = join(obsDir, bucket, ...key.split('/'));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, data);
  return `obs://${bucket}/${key}`;
}

/** A real tar of the given files (paths relative to the phone's root; a trailing / makes a directory). */
export async function buildTar(files: Record<string, string | Buffer>): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'opencph-tar-'));
  try {
    const root = join(dir, 'root');
    mkdirSync(root);
    for (const [path, content] of Object.entries(files)) {
      if (path.endsWith('/')) mkdirSync(join(root, path), { recursive: true });
      else {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), content);
      }
    }
    const out = join(dir, 'out.tar');
    await create({ file: out, cwd: root, portable: true }, Object.keys(files));
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

import { Writable } from 'node:stream';
import { createLogger } from '../../src/runtime/log.js';

/** A logger set up as a node's is (createLogger), writing to memory: each line as written. */
export function captureLog(level = 'trace') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger(level, stream), lines, text: () => lines.join('') };
}

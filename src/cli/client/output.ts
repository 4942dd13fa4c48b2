import { InvalidArgumentError } from 'commander';

/**
 * How verbs print: `table` (aligned columns for people, the default) or `json` (the API's answer,
 * for scripts). The default does not depend on where the output goes, so a pipe into grep reads
 * the same as the terminal; scripts ask for `--output json`, or set OPENCPH_OUTPUT=json.
 */
export type OutputFormat = 'table' | 'json';

export function parseOutput(value: string): OutputFormat {
  if (value !== 'table' && value !== 'json') throw new InvalidArgumentError('use table or json.');
  return value;
}

export function defaultOutput(): OutputFormat {
  return process.env.OPENCPH_OUTPUT === 'json' ? 'json' : 'table';
}

export interface Column<T> {
  title: string;
  value: (row: T) => unknown;
}

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** Rows as aligned columns under their titles (two spaces apart; the last column is not padded). */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map((c) => c.title), ...rows.map((r) => columns.map((c) => text(c.value(r)).replace(/\s*\n\s*/g, ' ')))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** One object as `field  value` lines (nested values as JSON). */
export function fields(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${typeof obj[k] === 'object' && obj[k] !== null ? JSON.stringify(obj[k]) : text(obj[k])}`).join('\n') + '\n';
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function print(s: string): void {
  process.stdout.write(s);
}

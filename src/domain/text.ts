/**
 * Cut a string to at most `maxBytes` of UTF-8 without splitting a character
 * (execute_msg is capped at 1024 bytes on the wire).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/** phone_name / server_name: letters, digits, Chinese, '-' and '_', 1..60 chars. */
const NAME = /^[A-Za-z0-9\u4e00-\u9fa5_-]{1,60}$/u;

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

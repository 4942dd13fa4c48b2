import { createHash, createHmac } from 'node:crypto';

/**
 * AK/SK request signing as the official Huawei Cloud Node.js SDK does it (cph-api.md §6.2),
 * written here from the recipe rather than taken from the server's own code, so the benchmark
 * signs the way a real client does.
 */

const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');

/** RFC 3986: unreserved characters kept, every other UTF-8 byte as %XX. */
function encode(text) {
  let out = '';
  for (const b of Buffer.from(String(text), 'utf8')) {
    const unreserved = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `20191115T033655Z` */
export function sdkDate(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15) + 'Z';
}

/**
 * Headers for one call: X-Project-Id, content-type: application/json, host and X-Sdk-Date are
 * signed (what the SDK sends on every CPH call); `query` is an object of parameters.
 */
export function signedHeaders({ method, path, query = {}, body, host, projectId, ak, sk, now = Date.now() }) {
  const headers = { 'X-Project-Id': projectId, 'content-type': 'application/json', host, 'X-Sdk-Date': sdkDate(now) };
  const lower = Object.entries(headers)
    .map(([k, v]) => [k.toLowerCase(), v])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const names = lower.map(([k]) => k).join(';');
  let uri = path.split('/').map(encode).join('/');
  if (!uri.endsWith('/')) uri += '/';
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${encode(k)}=${encode(query[k])}`)
    .join('&');
  const canonicalHeaders = lower.map(([k, v]) => `${k}:${v}\n`).join('');
  const payload = sha256Hex(body === undefined ? '' : body);
  const canonical = [method, uri, canonicalQuery, canonicalHeaders, names, payload].join('\n');
  const toSign = `SDK-HMAC-SHA256\n${headers['X-Sdk-Date']}\n${sha256Hex(canonical)}`;
  const signature = createHmac('sha256', Buffer.from(sk, 'utf8')).update(toSign).digest('hex');
  return { ...headers, Authorization: `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${names}, Signature=${signature}` };
}

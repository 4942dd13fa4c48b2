import { connect } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessKey } from '../../src/auth/admin.js';
import { signRequest } from '../../src/auth/signature.js';
import { DEFAULTS } from '../../src/config.js';
import { Errors } from '../../src/domain/errors.js';
import { mayBeId, newId } from '../../src/domain/ids.js';
import { Limits } from '../../src/domain/limits.js';
import { getToken, passwordAuth, sendSigned, type Key } from '../helpers/http.js';
import { PROJECT, startTestNode, waitFor, type TestNode } from '../helpers/node.js';

/**
 * Generated bad input on every route of the running app, with authentication off and verified:
 * whatever arrives, the answer is below 500, an error is `{request_id, error_code, error_msg}` with
 * the `X-Request-Id` it came with and a code of the catalogue, a method a routed path does not take
 * answers 405, a correctly signed call never counts as a signature failure, the node still answers
 * afterwards and every job the calls made finishes. Routes come from the app's own route table, so
 * a new route is fuzzed without a change here. Every failure found in a run is listed at the end,
 * once per kind, with the routes it showed on, a call to replay and the seed.
 * OPENCPH_FUZZ_SEED and OPENCPH_FUZZ_RUNS change the run.
 */

const SEED = Number(process.env.OPENCPH_FUZZ_SEED ?? 20261207);
const RUNS = Number(process.env.OPENCPH_FUZZ_RUNS ?? 2500);
/** A sync command may wait 30 s for its phones; nothing else comes near. */
const ANSWER_MS = Limits.syncCommands.perCallMs + 5_000;
const DEFAULT_KEY: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const CODES = new Set([...Object.values(Errors).map((e) => e.code), 'CPS.0034']);

// ---- the route table ----------------------------------------------------------------------------

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
}

interface Route {
  /** As Fastify spells it: `/v1/:project_id/cloud-phone/phones/:phone_id`. */
  path: string;
  methods: string[];
  query: string[];
  /** The JSON body schema per method, where the route has one. */
  bodies: Record<string, Schema>;
}

/**
 * Every route the app has, from its router (`printRoutes`), with query names and body schemas from
 * its OpenAPI document where the route is documented.
 */
function routeTable(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (stack[depth - 1] ?? '') + (m[2] === '*' ? '/*' : m[2]!);
    stack[depth] = path;
    stack.length = depth + 1;
    if (m[3]) routes.push({ path, methods: m[3].split(', '), query: [], bodies: {} });
  }
  const doc = app.swagger() as { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema: Schema }> } }>> };
  for (const [docPath, ops] of Object.entries(doc.paths)) {
    const route = routes.find((r) => r.path === docPath.replace(/\{(\w+)\}/g, ':$1'));
    if (!route) throw new Error(`${docPath} is documented but not in the route table`);
    for (const [method, op] of Object.entries(ops)) {
      for (const p of op.parameters ?? []) if (p.in === 'query' && !route.query.includes(p.name)) route.query.push(p.name);
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (body) route.bodies[method.toUpperCase()] = body;
    }
  }
  return routes;
}

// ---- one request, byte for byte -----------------------------------------------------------------

interface Case {
  route: string;
  /** The route's own methods. */
  methods: string[];
  method: string;
  /** The request target as sent: a latin1 string, one character per byte. */
  target: string;
  headers: [string, string][];
  body?: Buffer;
  /** Signed with the default key as the SDK signs (under --auth verify). */
  signed: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Why no (complete) answer came: a socket error or the time running out. */
  failure?: string;
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parseAnswer(data: Buffer, failure: string | undefined): Answer {
  const end = data.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 20).toString('latin1'));
  if (end < 0 || !status) return { status: 0, headers: {}, body: Buffer.alloc(0), failure: failure ?? `no complete answer (${data.length} bytes)` };
  const headers: Record<string, string> = {};
  for (const line of data.subarray(0, end).toString('latin1').split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
  }
  const rest = data.subarray(end + 4);
  return { status: Number(status[1]), headers, body: headers['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest };
}

/** Whether `data` holds a whole answer (by its Content-Length, its last chunk, or having no body). */
function isWhole(data: Buffer, method: string): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = data.subarray(0, end).toString('latin1');
  if (method === 'HEAD' || /^HTTP\/1\.[01] (1\d\d|204|304)/.test(head)) return true;
  // An event stream (GET /_opencph/…/events) goes on until the client hangs up: its head is the answer.
  if (/\r\ncontent-type:\s*text\/event-stream/i.test(head)) return true;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return data.length - end - 4 >= Number(length[1]);
  return /\r\ntransfer-encoding:\s*chunked/i.test(head) && data.subarray(-5).toString('latin1') === '0\r\n\r\n';
}

/**
 * The case over a plain socket, exactly as generated (node:http would refuse some of it), with
 * `Connection: close`. An answer that arrived whole
 * counts even if sending the rest of the body then failed.
 */
function sendRaw(port: number, c: Case): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let failure: string | undefined;
    const timer = setTimeout(() => {
      failure = `no answer within ${ANSWER_MS} ms`;
      socket.destroy();
    }, ANSWER_MS);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      // Done once the answer is whole: a server that waits for the client to hang up is not held up.
      if (isWhole(Buffer.concat(chunks), c.method)) socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (failure ??= err.code ?? err.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks), failure));
    });
    const lines = [`${c.method} ${c.target} HTTP/1.1`, ...c.headers.map(([k, v]) => `${k}: ${v}`)];
    if (c.body) lines.push(`content-length: ${c.body.length}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\nconnection: close\r\n\r\n`, 'latin1');
    socket.write(c.body ? Buffer.concat([head, c.body]) : head);
  });
}

const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** The case as an HTTP request to read and replay (a signed one must be signed again to replay). */
function reproOf(c: Case): string {
  const headers = c.headers.map(([k, v]) => (k.toLowerCase() === 'authorization' && c.signed ? `${k}: <signed with the default key>` : `${k}: ${clip(v, 80)}`));
  const body = c.body === undefined ? '' : ` body ${clip(JSON.stringify(c.body.toString('latin1')))}`;
  return `${c.method} ${clip(c.target)} [${headers.join(' | ')}]${body}`;
}

// ---- what every answer must be ------------------------------------------------------------------

/** The gateway's 404: no route for this path (not a resource the route did not find). */
const isNoSuchApi = (a: Answer) => a.body.toString('utf8').includes(`"error_code":"${Errors.apiNotFound.code}"`);

/** Whether the router took the call (a path it could not route or read answers 404 APIGW.0101, 400 or 414). */
const isRouted = (a: Answer) => !a.failure && !(a.status === 404 && isNoSuchApi(a)) && a.status !== 414 && !(a.status === 400 && !a.body.toString('utf8').includes('"error_code":"CPS.'));

/** Whether each path parameter of the case's route is, as the router decodes it, a segment that may be an id. */
function parametersMayBeIds(c: Case): boolean {
  const segments = c.target.split('?')[0]!.split('/');
  return c.route.split('/').every((name, i) => {
    if (!name.startsWith(':')) return true;
    try {
      return mayBeId(decodeURIComponent(segments[i] ?? ''));
    } catch {
      return false;
    }
  });
}

function problemsOf(c: Case, a: Answer): string[] {
  if (a.failure) return [`no answer: ${a.failure}`];
  const problems: string[] = [];
  if (a.status >= 500) problems.push(`answered ${a.status}`);
  const requestId = a.headers['x-request-id'];
  if (!requestId) problems.push(`${a.status} without X-Request-Id`);
  if (a.status >= 400 && c.method !== 'HEAD') {
    let body: unknown;
    try {
      body = JSON.parse(a.body.toString('utf8'));
    } catch {
      body = undefined;
    }
    const e = body as Record<string, unknown> | undefined;
    if (!e || typeof e !== 'object' || Object.keys(e).sort().join() !== 'error_code,error_msg,request_id') {
      const text = a.body.toString('utf8');
      problems.push(`${a.status} not in CPH's error format (${/"code":"(\w+)"/.exec(text)?.[1] ?? /"error":"([^"]+)"/.exec(text)?.[1] ?? clip(text, 40)})`);
    } else {
      if (e.request_id !== requestId) problems.push(`${a.status} whose request_id is not its X-Request-Id`);
      if (!CODES.has(String(e.error_code))) problems.push(`${a.status} with ${String(e.error_code)}, not a catalogue code`);
      if (typeof e.error_msg !== 'string' || e.error_msg === '') problems.push(`${a.status} without error_msg`);
    }
  }
  return problems;
}

// ---- generators ---------------------------------------------------------------------------------

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });

/** Path segments a client should never send, each as the bytes on the wire (latin1 text). */
const badSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('%FF', '%C0%AF', '%', '%zz', '%00', '%2F', '%E0%A4%A', '%2e%2e', '%u0041', '..', '.', 'null', '0', '-1', 'a%20b') },
  { weight: 2, arbitrary: fc.integer({ min: 33, max: 200 }).chain(hex) },
  { weight: 2, arbitrary: fc.integer({ min: 8150, max: 8250 }).map((n) => 'a'.repeat(n)) },
  // Past Fastify's parameter limit, and (over 16 KiB) past node:http's limit for the request head.
  { weight: 1, arbitrary: fc.integer({ min: 8193, max: 20_000 }).map((n) => 'f'.repeat(n)) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map(encodeURIComponent) },
  // Raw UTF-8 and other bytes above 0x7F: sent as they are, unencoded.
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'GHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz-_.~!$&\'()*+,;=:@'), minLength: 1, maxLength: 40 }) },
);

const badNumber = fc.constantFrom('1e19', '1e308', 'Infinity', '-Infinity', 'NaN', '-1', '0', '0x10', '%20', '', ' 1', '1.5', '-0', 'true', '[]', '%FF', '9'.repeat(400), '18446744073709551616', '2147483648', '101', '201', '1,2');

const queryValue = (ids: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 3, arbitrary: badNumber },
    { weight: 2, arbitrary: fc.constantFrom('0', '1', '10', '100', '200', 'v1', 'v2', 'true') },
    { weight: 2, arbitrary: ids },
    { weight: 1, arbitrary: badSegment },
    { weight: 1, arbitrary: fc.array(ids, { minLength: 0, maxLength: 25 }).map((a) => a.join(',')) },
  );

/** Values of the wrong kind for any JSON field. */
const wrongValue = fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, '', 'x', [], {}, [1], [null], { a: 1 }, 'a'.repeat(9000), '\u0000', '\ud800', '%FF', '__proto__');

/** Values shaped as the schema asks (names ending in `_id` drawn from real and made-up ids). */
function shaped(schema: Schema, name: string, ids: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      if (props.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
      return fc.record(Object.fromEntries(props.map(([k, s]) => [k, shaped(s, k, ids)])), { requiredKeys: schema.required ?? [] });
    }
    case 'array':
      return fc.array(shaped(schema.items ?? {}, name, ids), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case 'integer':
    case 'number':
      return fc.oneof(fc.integer(), fc.double());
    case 'boolean':
      return fc.boolean();
    case 'string':
      if (/_ids?$/.test(name)) return ids;
      if (name === 'content') return fc.constantFrom('ls', 'echo hi', 'getprop ro.product.model', 'obs://bucket/app.apk', 'com.example.app', 'obs://b/a.apk obs://b/b.apk', '', '\u0007', 'a'.repeat(1025), 'x'.repeat(8200));
      if (name === 'property') return fc.oneof(fc.constantFrom('{"com.cph.mainkeys":"1"}', '{}', '[]', 'null', '{"a":', '{"x":"' + 'y'.repeat(3000) + '"}'), fc.string());
      return fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom('phone-1', 'a'.repeat(61), ''));
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Every path into a JSON value, to put a wrong value somewhere in it. */
function pathsOf(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...at, k]));
  return out;
}

function replaced(v: unknown, path: (string | number)[], by: (old: unknown) => unknown): unknown {
  if (path.length === 0) return by(v);
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaced(x, rest, by) : x));
  return { ...(v as object), [head!]: replaced((v as Record<string, unknown>)[head!], rest, by) };
}

const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);

/** Bodies for a route with a JSON schema: near-valid, mutated, malformed, huge, deep. */
function bodyFor(schema: Schema | undefined, ids: fc.Arbitrary<string>): fc.Arbitrary<string | Buffer | undefined> {
  const valid = schema ? shaped(schema, 'body', ids) : fc.jsonValue({ maxDepth: 3 });
  const mutated = fc.tuple(valid, fc.nat(), wrongValue, fc.constantFrom('wrong', 'drop', 'huge', 'deep', 'extra')).map(([v, pick, wrong, how]) => {
    const paths = pathsOf(v);
    const path = paths[pick % paths.length]!;
    if (how === 'drop' && path.length > 0) {
      const parent = replaced(v, path.slice(0, -1), (p) => {
        if (Array.isArray(p)) return p.filter((_, i) => i !== path[path.length - 1]);
        const copy = { ...(p as object) } as Record<string, unknown>;
        delete copy[path[path.length - 1] as string];
        return copy;
      });
      return JSON.stringify(parent);
    }
    if (how === 'huge') return JSON.stringify(replaced(v, path, (old) => Array.from({ length: 1001 + (pick % 4000) }, (_, i) => (Array.isArray(old) && old.length ? old[i % old.length] : `x${i}`))));
    if (how === 'deep') return JSON.stringify(replaced(v, path, () => '@@DEEP@@')).replace('"@@DEEP@@"', deep(500 + (pick % 20_000), '[', ']'));
    if (how === 'extra') return JSON.stringify(replaced(v, path, (old) => (old && typeof old === 'object' && !Array.isArray(old) ? { ...old, ['__proto__']: { polluted: 1 }, constructor: { prototype: { polluted: 1 } } } : wrong)));
    return JSON.stringify(replaced(v, path, () => wrong));
  });
  const malformed = fc.oneof(
    fc.constantFrom('{', '{"phones":', '[', 'null', '"text"', '1e999', '\uFEFF{}', 'NaN', '{"a":1}{"b":2}', '{"a":1,}', "{'a':1}", '{"__proto__":{"polluted":1}}', ' ', '\u0000'),
    fc.string({ maxLength: 40 }),
    fc.integer({ min: 1000, max: 60_000 }).map((n) => deep(n, '{"a":', '}')),
    fc.integer({ min: 1000, max: 60_000 }).map((n) => deep(n, '[', ']')),
  );
  const bytes = fc.oneof(
    fc.constant(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])),
    fc.constant(Buffer.from('{"phone_ids":["\xff\xc0\xaf"]}', 'latin1')),
    fc.integer({ min: Limits.bodyBytes - 10, max: Limits.bodyBytes + 5_000 }).map((n) => Buffer.from(JSON.stringify({ phone_ids: ['a'.repeat(n)] }))),
    fc.integer({ min: Limits.bodyBytes + 1, max: 4 * Limits.bodyBytes }).map((n) => Buffer.alloc(n, 0x61)),
  );
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((v) => JSON.stringify(v)) },
    { weight: 6, arbitrary: mutated },
    { weight: 3, arbitrary: malformed },
    { weight: 1, arbitrary: bytes },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant('') },
  );
}

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | undefined>('application/json') },
  {
    weight: 6,
    arbitrary: fc.constantFrom<string | undefined>(
      undefined,
      'text/plain',
      'text/plain; charset=utf-8',
      'application/json; charset=utf-8',
      'application/json;charset=latin1',
      'APPLICATION/JSON',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/octet-stream',
      ';;;',
      '',
      '*/*',
    ),
  },
);

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'QUERY', 'TRACE', 'PROPFIND', 'FOO', 'get'];

type AuthVariant = 'signed' | 'token' | 'none' | 'malformed' | 'badDate' | 'wrongSecret' | 'unknownKey';
const authVariant = fc.oneof(
  { weight: 10, arbitrary: fc.constant<AuthVariant>('signed') },
  { weight: 5, arbitrary: fc.constantFrom<AuthVariant>('token', 'none', 'malformed', 'badDate', 'wrongSecret', 'unknownKey') },
);
const malformedAuthorization = fc.oneof(
  fc.constantFrom('', 'SDK-HMAC-SHA256', 'SDK-HMAC-SHA256 Access=', 'SDK-HMAC-SHA256 Access=a, SignedHeaders=, Signature=zz', 'Bearer x', 'Basic Zm9vOmJhcg==', 'SDK-HMAC-SHA256 Access=EXAMPLEAK0000000001, SignedHeaders=host, Signature=' + '0'.repeat(64), 'sdk-hmac-sha256 Access=a, SignedHeaders=host;x-sdk-date, Signature=' + 'f'.repeat(64)),
  fc.string({ maxLength: 300, unit: fc.constantFrom(...' =,;abcdefSDKHMAC-0123456789') }),
);
const badSdkDate = fc.oneof(
  fc.constantFrom('', '20261301T000000Z', '20260231T120000Z', '20260101T240000Z', '19700101T000000Z', '99991231T235959Z', 'yesterday', '2026-01-01T00:00:00Z', '20260101T000000', '20260101t000000z'),
  fc.string({ maxLength: 40, unit: fc.constantFrom(...'0123456789TZ-: ') }),
);

interface Env {
  port: number;
  routes: Route[];
  ids: fc.Arbitrary<string>;
  token: string;
  otherKey: Key;
}

function caseFor(env: Env): fc.Arbitrary<Case> {
  const perRoute = env.routes.map((route) => {
    const segments = route.path.split('/');
    const params = segments.map((s) =>
      s === ':project_id'
        ? fc.oneof({ weight: 8, arbitrary: fc.constant(PROJECT) }, { weight: 1, arbitrary: hex(32) }, { weight: 2, arbitrary: badSegment })
        : s.startsWith(':') || s === '*'
          ? fc.oneof({ weight: 3, arbitrary: env.ids }, { weight: 3, arbitrary: badSegment })
          : fc.constant(s),
    );
    const queryKey = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...(route.query.length ? route.query : ['offset'])) },
      { weight: 1, arbitrary: fc.constantFrom('offset', 'limit', 'status', 'type', 'request_id', 'request_ids', 'x', '', '%FF') },
    );
    const query = fc.oneof(
      { weight: 2, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.constantFrom('?', '?&&', '?=', '?offset', '?limit=', '?%', '?a=%zz') },
      { weight: 6, arbitrary: fc.array(fc.tuple(queryKey, queryValue(env.ids)), { minLength: 1, maxLength: 5 }).map((pairs) => '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&')) },
    );
    const method = fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...route.methods) }, { weight: 2, arbitrary: fc.constantFrom(...OTHER_METHODS) });
    const arbitrary = fc
      .record({ parts: fc.tuple(...params), query, method, trailingSlash: fc.boolean() })
      .chain(({ parts, query, method, trailingSlash }) => {
        const schema = route.bodies[method.toUpperCase()];
        const body = schema || method === 'POST' || method === 'PUT' ? bodyFor(schema, env.ids) : fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: bodyFor(undefined, env.ids) });
        return fc.record({ body, contentType, auth: authVariant, authorization: malformedAuthorization, sdkDate: badSdkDate, projectHeader: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: badSegment }) }).map((x) => ({
          route: route.path,
          methods: route.methods,
          method,
          target: parts.join('/') + (trailingSlash && !query ? '/' : '') + query,
          ...x,
        }));
      });
    // Routes with query parameters (the lists) have the most ways to go wrong.
    return { weight: route.query.length > 1 ? 3 : 1, arbitrary };
  });
  return fc.oneof(...perRoute).map((g) => {
    const body = g.body === undefined ? undefined : typeof g.body === 'string' ? Buffer.from(g.body, 'utf8') : g.body;
    const base: Record<string, string> = { host: `127.0.0.1:${env.port}` };
    if (g.contentType !== undefined) base['content-type'] = g.contentType;
    const projectId = /^\/v1\/([^/?]+)\//.exec(g.target)?.[1];
    if (g.projectHeader !== undefined) base['X-Project-Id'] = g.projectHeader;
    else if (projectId && projectId.length <= 64) base['X-Project-Id'] = projectId;
    const sign = (key: Key, extra: Record<string, string> = {}) =>
      signRequest({ method: g.method, url: g.target, headers: { ...base, ...extra }, body, accessKey: key.ak, secretKey: key.sk, now: Date.now() });
    let headers: Record<string, string>;
    switch (g.auth) {
      case 'signed':
        headers = sign(DEFAULT_KEY);
        break;
      case 'token':
        headers = { ...base, 'X-Auth-Token': env.token };
        break;
      case 'none':
        headers = base;
        break;
      case 'malformed':
        headers = { ...base, Authorization: g.authorization };
        break;
      case 'badDate':
        headers = sign(DEFAULT_KEY, { 'X-Sdk-Date': g.sdkDate });
        break;
      case 'wrongSecret':
        headers = sign({ ak: env.otherKey.ak, sk: 'not-the-secret-key-of-it' });
        break;
      case 'unknownKey':
        headers = sign({ ak: 'UNKNOWNAK' + newId().slice(-8), sk: DEFAULT_KEY.sk });
        break;
    }
    return { route: g.route, methods: g.methods, method: g.method, target: g.target, headers: Object.entries(headers), body, signed: g.auth === 'signed' };
  });
}

// ---- the runs -----------------------------------------------------------------------------------

describe.each(['off', 'verify'] as const)('fuzz: bad input on every route (--auth %s)', (auth) => {
  let t: TestNode;
  let env: Env;
  const requestIds = new Set<string>();
  /** Failures by kind: how many calls, on which routes, and the first call that showed it. */
  const failures = new Map<string, { count: number; routes: Set<string>; example: string }>();

  /** The default key's consecutive signature failures and lock, as the store holds them. */
  const keyState = () =>
    t.node.handle.db.selectFrom('access_keys').select(['failures', 'locked_until']).where('access_key', '=', DEFAULT_KEY.ak).executeTakeFirstOrThrow();

  beforeAll(async () => {
    // A short simulated delay: jobs finish within the run, yet still overlap the calls.
    t = await startTestNode({ auth, simDelayMs: 5, servers: 2, phonesPerServer: 3 });
    const db = t.node.handle.db;
    const phones = (await db.selectFrom('phones').select('phone_id').execute()).map((r) => r.phone_id);
    const servers = (await db.selectFrom('servers').select('server_id').execute()).map((r) => r.server_id);
    const submitted = await sendSigned(t.node.port, DEFAULT_KEY, 'POST', `/v1/${PROJECT}/cloud-phone/phones/batch-restart`, { body: { phones: [{ phone_id: phones[0] }] } });
    expect(submitted.status, submitted.text).toBe(200);
    requestIds.add(submitted.body.request_id);
    const known = [...phones, ...servers, submitted.body.request_id as string, submitted.body.jobs[0].job_id as string, PROJECT];
    const token = auth === 'verify' ? (await getToken(t.node.port, passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: PROJECT }))).token! : 'not-a-token';
    const otherKey = await createAccessKey({ db, clock: { now: Date.now }, ids: newId }, { account: DEFAULTS.defaultAccount, user: DEFAULTS.defaultUser });
    const ids = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, { weight: 2, arbitrary: hex(32) }, { weight: 1, arbitrary: badSegment });
    env = { port: t.node.port, routes: routeTable(t.node.app!), ids, token, otherKey };
  });
  afterAll(() => t?.close());

  it('reads every route from the app', () => {
    const paths = env.routes.map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(['/v1/:project_id/cloud-phone/jobs', '/v1/:project_id/cloud-phone/phones/:phone_id', '/v1/:project_id/cloud-phone/phones/sync-commands', '/v3/auth/tokens']));
    expect(env.routes.find((r) => r.path === '/v1/:project_id/cloud-phone/phones/batch-restart')?.bodies.POST?.required).toEqual(['phones']);
  });

  it(`answers ${RUNS} generated bad calls below 500, errors in CPH's format (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(caseFor(env), async (c) => {
        const answer = await sendRaw(env.port, c);
        const problems = problemsOf(c, answer);
        if (answer.status === 404 && isNoSuchApi(answer) && !c.methods.includes(c.method) && parametersMayBeIds(c)) {
          // The same target with a method the route has (not HEAD: its answer has no body to tell a
          // missing API by): if that one is routed, this one should have been 405. Only where the
          // path's parameters may be ids: a word where an id goes names no API (errors.ts, routedWith).
          const probe = await sendRaw(env.port, { ...c, method: c.methods.find((m) => m !== 'HEAD') ?? c.methods[0]!, headers: c.headers.filter(([k]) => k === 'host'), body: undefined });
          if (isRouted(probe)) problems.push('404, not 405, for a method the path does not take');
        }
        if (auth === 'verify' && c.signed) {
          // A call signed as the SDK signs must never count against the key, whatever else is wrong with it.
          const key = await keyState();
          if (key.failures > 0 || key.locked_until !== null) {
            problems.push(`a correctly signed call counted as a signature failure (${answer.status})`);
            await t.node.handle.db.updateTable('access_keys').set({ failures: 0, locked_until: null }).where('access_key', '=', DEFAULT_KEY.ak).execute();
          }
        }
        for (const p of problems) {
          const f = failures.get(p) ?? failures.set(p, { count: 0, routes: new Set(), example: reproOf(c) }).get(p)!;
          f.count++;
          f.routes.add(`${c.method} ${c.route}`);
        }
        if (answer.status === 200 && c.method === 'POST') {
          const rid = /"request_id":"([0-9a-f]{32})"/.exec(answer.body.toString('utf8'))?.[1];
          if (rid) requestIds.add(rid);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const report = [...failures]
      .map(([kind, f]) => `  ${kind}: ${f.count} calls, on ${[...f.routes].slice(0, 4).join(', ')}${f.routes.size > 4 ? ` and ${f.routes.size - 4} more` : ''}\n      e.g. ${f.example}`)
      .join('\n');
    expect(failures.size, `seed ${SEED}, ${RUNS} runs, ${failures.size} kinds of failure:\n${report}`).toBe(0);
  });

  it('still answers a normal call afterwards', async () => {
    const r = await sendSigned(t.node.port, DEFAULT_KEY, 'GET', `/v1/${PROJECT}/cloud-phone/phones`);
    expect(r.status, r.text).toBe(200);
    // A fuzzed DeleteCloudPhoneServer with a real id is a valid call: the fleet may have shrunk, its listing still agrees with itself.
    expect(r.body.phones.length).toBe(r.body.count);
    expect(r.body.count).toBeLessThanOrEqual(6);
  });

  it('leaves no job running once the calls have been answered', async () => {
    const db = t.node.handle.db;
    const running = () => db.selectFrom('jobs').select(['job_id', 'request_id', 'state']).where('status', '=', 1).execute();
    await waitFor(async () => ((await running()).length === 0 ? true : undefined), 60_000, 100).catch(async () => {
      throw new Error(`jobs still at status 1: ${JSON.stringify((await running()).slice(0, 10))}`);
    });
    const ids = [...requestIds];
    expect(ids.length).toBeGreaterThan(0);
    for (let i = 0; i < ids.length; i += Limits.listJobs.maxRequestIds) {
      const r = await sendSigned(t.node.port, DEFAULT_KEY, 'GET', `/v1/${PROJECT}/cloud-phone/jobs?request_ids=${ids.slice(i, i + Limits.listJobs.maxRequestIds).join(',')}`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.jobs.filter((j: { status: number }) => j.status === 1)).toEqual([]);
    }
  });
});

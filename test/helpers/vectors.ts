import { readFileSync } from 'node:fs';
import type { SignedRequest } from '../../src/auth/signature.js';

/** Requests signed by the official Node SDK, and altered copies (`valid` says which). */
export interface Vector {
  name: string;
  method: string;
  target: string;
  headers: Record<string, string>;
  body: string;
  valid: boolean;
}

export interface VectorFile {
  credentials: { ak: string; sk: string; project_id: string };
  vectors: Vector[];
}

export const VECTORS: VectorFile = JSON.parse(readFileSync(new URL('../fixtures/sdk-hmac-sha256.json', import.meta.url), 'utf8'));

export function headerOf(v: Vector, name: string): string | undefined {
  return Object.entries(v.headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

export function asSignedRequest(v: Vector): SignedRequest {
  return { method: v.method, url: v.target, header: (n) => headerOf(v, n), body: v.body ? Buffer.from(v.body, 'utf8') : undefined };
}

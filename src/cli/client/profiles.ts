import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

/**
 * Profiles of the command-line client: where to call and as whom, kept in one JSON file (mode
 * 0600, its directory 0700). Environment variables override a profile's fields; a profile is
 * optional when they give everything.
 */

export interface Profile {
  endpoint?: string;
  project_id?: string;
  region?: string;
  /** Where IAM tokens are asked for; absent: the endpoint (OpenCPH serves /v3/auth/tokens). */
  iam_endpoint?: string;
  ak?: string;
  sk?: string;
  user?: string;
  password?: string;
  account?: string;
}

export interface ConfigFile {
  profiles: Record<string, Profile>;
}

export const DEFAULT_PROFILE = 'default';

/** The variables that override a profile's fields. */
export const ENV: Record<keyof Profile, string> = {
  endpoint: 'OPENCPH_ENDPOINT',
  project_id: 'OPENCPH_PROJECT_ID',
  region: 'OPENCPH_REGION',
  iam_endpoint: 'OPENCPH_IAM_ENDPOINT',
  ak: 'OPENCPH_AK',
  sk: 'OPENCPH_SK',
  user: 'OPENCPH_USER',
  password: 'OPENCPH_PASSWORD',
  account: 'OPENCPH_ACCOUNT',
};

/** `$OPENCPH_CONFIG`, else `$XDG_CONFIG_HOME/opencph/config.json`, else `~/.config/opencph/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OPENCPH_CONFIG) return env.OPENCPH_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'opencph', 'config.json');
}

export function profileName(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return given || env.OPENCPH_PROFILE || DEFAULT_PROFILE;
}

export function readConfig(path: string): ConfigFile {
  if (!existsSync(path)) return { profiles: {} };
  let parsed: any;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(`${path} is not valid JSON (${(err as Error).message}): fix or remove it, then run \`opencph configure\`.`);
  }
  const profiles = parsed && typeof parsed.profiles === 'object' && parsed.profiles !== null ? parsed.profiles : {};
  return { profiles };
}

/** Write a JSON file readable by its owner only (0600), its directory created 0700; replaced atomically. */
export function writePrivateJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function saveProfile(path: string, name: string, profile: Profile): void {
  const config = readConfig(path);
  const clean = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined && v !== '')) as Profile;
  config.profiles[name] = clean;
  writePrivateJson(path, config);
}

/** A profile as the client uses it: its name, the file's fields overridden by the environment's. */
export interface ResolvedProfile extends Profile {
  name: string;
  path: string;
  /** Where each field came from, for messages: `profile "x"` or the variable's name. */
  source: Partial<Record<keyof Profile, string>>;
}

export function resolveProfile(given: string | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedProfile {
  const path = configPath(env);
  const name = profileName(given, env);
  const stored = readConfig(path).profiles[name];
  const resolved: ResolvedProfile = { name, path, source: {} };
  for (const field of Object.keys(ENV) as (keyof Profile)[]) {
    const fromEnv = env[ENV[field]];
    if (fromEnv) {
      resolved[field] = fromEnv;
      resolved.source[field] = ENV[field];
    } else if (stored?.[field]) {
      resolved[field] = stored[field];
      resolved.source[field] = `profile "${name}"`;
    }
  }
  const again = `run \`opencph configure${name === DEFAULT_PROFILE ? '' : ` --profile ${name}`}\``;
  if (!stored && !resolved.endpoint) {
    throw new CliError(`No profile "${name}" in ${path} and no ${ENV.endpoint}: ${again}.`);
  }
  if (!resolved.endpoint) throw new CliError(`No endpoint in profile "${name}" (${path}) nor ${ENV.endpoint}: ${again}.`);
  if (!resolved.project_id) throw new CliError(`No project id in profile "${name}" (${path}) nor ${ENV.project_id}: ${again}.`);
  const signs = resolved.ak && resolved.sk;
  const logsIn = resolved.user && resolved.password;
  if (!signs && !logsIn) {
    throw new CliError(`No credentials in profile "${name}" (${path}): give an access key and secret key (${ENV.ak}, ${ENV.sk}) or a user and password (${ENV.user}, ${ENV.password}), or ${again}.`);
  }
  return resolved;
}

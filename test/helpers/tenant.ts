import { createAccessKey, createAccount, createUser, grantProject } from '../../src/auth/admin.js';
import { newId } from '../../src/domain/ids.js';
import type { RunningNode } from '../../src/runtime/node.js';
import { createProject } from '../../src/runtime/projects.js';
import type { Key } from './http.js';

/** The second tenant the isolation tests use: account `tenant-b`, user `bob`, one project. */
export const TENANT_B = { account: 'tenant-b', user: 'bob', password: 'Bob#password1', project: 'cn-south-1' } as const;

/**
 * Another account beside the default one, on a running node's store: its user, a project of
 * `servers` × `phonesPerServer` simulated phones the user may use, and an access key.
 */
export async function addTenant(node: RunningNode, fleet: { servers: number; phonesPerServer: number }): Promise<{ projectId: string; key: Key }> {
  const deps = { db: node.handle.db, clock: { now: () => Date.now() }, ids: newId };
  await createAccount(deps, TENANT_B.account);
  await createUser(deps, { account: TENANT_B.account, name: TENANT_B.user, password: TENANT_B.password });
  const project = await createProject(deps, { account: TENANT_B.account, name: TENANT_B.project, ...fleet });
  await grantProject(deps, { account: TENANT_B.account, user: TENANT_B.user, project: project.project_id });
  const key = await createAccessKey(deps, { account: TENANT_B.account, user: TENANT_B.user });
  return { projectId: project.project_id, key };
}

import { checkNewProject, type AdminDeps } from '../auth/admin.js';
import { seedSimProject } from '../store/seed.js';
import type { ProjectView } from '../store/projects.js';

/**
 * A new project of an account, with its own simulated fleet, in one transaction (`opencph admin
 * projects create`). Here rather than in auth/: identity administration knows nothing of fleets.
 */
export async function createProject(deps: AdminDeps, o: { account: string; name: string; servers: number; phonesPerServer: number }): Promise<ProjectView> {
  const domainId = await checkNewProject(deps, o);
  const projectId = deps.ids();
  await seedSimProject(deps.db, { projectId, name: o.name, domainId, servers: o.servers, phonesPerServer: o.phonesPerServer, now: deps.clock.now(), ids: deps.ids });
  return { project_id: projectId, name: o.name, domain_id: domainId };
}

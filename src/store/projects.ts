import type { Insertable } from 'kysely';
import type { Db } from './db.js';
import type { ProjectTable } from './schema.js';

export async function insertProject(db: Db, row: Insertable<ProjectTable>): Promise<void> {
  await db.insertInto('projects').values(row).execute();
}

export async function countProjects(db: Db): Promise<number> {
  const { n } = await db.selectFrom('projects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(n);
}

/** A project as identity sees it: its id, name and account. */
export interface ProjectView {
  project_id: string;
  name: string;
  domain_id: string | null;
}

const PROJECT_COLUMNS = ['project_id', 'name', 'domain_id'] as const;

export async function getProjectView(db: Db, projectId: string): Promise<ProjectView | undefined> {
  return db.selectFrom('projects').select(PROJECT_COLUMNS).where('project_id', '=', projectId).executeTakeFirst();
}

export async function getProjectByName(db: Db, name: string): Promise<ProjectView | undefined> {
  return db.selectFrom('projects').select(PROJECT_COLUMNS).where('name', '=', name).executeTakeFirst();
}

export async function listProjectViews(db: Db, domainId?: string): Promise<ProjectView[]> {
  let q = db.selectFrom('projects').select(PROJECT_COLUMNS);
  if (domainId !== undefined) q = q.where('domain_id', '=', domainId);
  return q.orderBy('created_at').orderBy('name').execute();
}

/** Projects that predate accounts belong to the given one (the default account, on first start). */
export async function adoptOrphanProjects(db: Db, domainId: string): Promise<void> {
  await db.updateTable('projects').set({ domain_id: domainId }).where('domain_id', 'is', null).execute();
}

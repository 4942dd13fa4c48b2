import type { Insertable } from 'kysely';
import type { Db } from './db.js';
import type { ProjectTable } from './schema.js';

export type ProjectRow = ProjectTable;

export async function getProject(db: Db, projectId: string): Promise<ProjectRow | undefined> {
  return db.selectFrom('projects').selectAll().where('project_id', '=', projectId).executeTakeFirst();
}

export async function insertProject(db: Db, row: Insertable<ProjectTable>): Promise<void> {
  await db.insertInto('projects').values(row).execute();
}

export async function countProjects(db: Db): Promise<number> {
  const { n } = await db.selectFrom('projects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(n);
}

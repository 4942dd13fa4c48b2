import { sql, type Expression, type ExpressionBuilder, type Selectable, type SqlBool } from 'kysely';
import type { IdGenerator } from '../domain/ids.js';
import { readRows, type Db, type ReadStore } from './db.js';
import { dialectOf } from './dialect.js';
import { fuzzy, getImage, type ImageRow, type Page } from './fleet.js';
import type { Database, ImageMemberTable, ImageTable } from './schema.js';

export type MemberStatus = ImageMemberTable['status'];

/** CPH: an image is shared to at most 10 projects. */
export const MAX_IMAGE_MEMBERS = 10;

export const ImageStatus = { creating: 0, production: 1, createFailed: 2 } as const;
export const IMAGE_STATUSES: readonly number[] = Object.values(ImageStatus);

type Images = ExpressionBuilder<Database & { i: ImageTable }, 'i'>;

/** Image `i` is shared to `projectId`, with a member status that `status` accepts. */
function sharedTo(eb: Images, projectId: string, op: '=' | '<>', status: MemberStatus) {
  return eb.exists(eb.selectFrom('image_members as m').select('m.image_id').whereRef('m.image_id', '=', 'i.image_id').where('m.project_id', '=', projectId).where('m.status', op, status));
}

/** The images `projectId` may put on phones: public ones, its own in production, and those shared to it that it accepted. */
function usableBy(projectId: string) {
  return (eb: Images) =>
    eb.and([
      eb('i.status', '=', ImageStatus.production),
      eb.or([
        eb('i.project_id', 'is', null),
        eb('i.project_id', '=', projectId),
        sharedTo(eb, projectId, '=', 'accepted'),
      ]),
    ]);
}

/**
 * The image a project may put on its phones (reset, restart, a bought or changed server), or
 * undefined: every rule of which images a project may use is here. A share the project has not
 * accepted (pending) or has rejected does not count.
 */
export async function usableImage(db: Db, projectId: string, imageId: string): Promise<ImageRow | undefined> {
  return db.selectFrom('images as i').selectAll('i').where('i.image_id', '=', imageId).where(usableBy(projectId)).executeTakeFirst();
}

export type PhoneImageType = 'public' | 'private' | 'share' | 'all';

/**
 * ListCloudPhoneImages: the images a phone of the project can be given, by kind. Private ones only
 * in production, shared ones only once accepted: the list holds nothing that reset would refuse.
 */
export async function listPhoneImages(store: ReadStore, projectId: string, type: PhoneImageType): Promise<ImageRow[]> {
  const q = store.db
    .selectFrom('images as i')
    .selectAll('i')
    .where(usableBy(projectId))
    .where((eb) => {
      if (type === 'public') return eb('i.project_id', 'is', null);
      if (type === 'private') return eb('i.project_id', '=', projectId);
      if (type === 'share') return eb.and([eb('i.project_id', 'is not', null), eb('i.project_id', '<>', projectId)]);
      return eb.lit(true);
    })
    .orderBy(sql`i.project_id is null`, 'desc')
    .orderBy('i.create_time', 'desc')
    .orderBy('i.image_id');
  return readRows(store, q);
}

export interface CustomImageFilter {
  /** Absent: both the project's own images and those shared to it. */
  imageType?: 'private' | 'share';
  status?: number;
  imageId?: string;
  imageName?: string;
  /** Epoch milliseconds, inclusive. */
  createSince?: number;
  createUntil?: number;
  /** The project that owns (shared) the image. */
  srcProjectId?: string;
}

/** A custom image as ListImages shows it: `share` when it is another project's, shared to this one. */
export type CustomImage = ImageRow & { image_type: 'private' | 'share' };

/**
 * ListImages: the project's own private images (every status), and the images shared to it that it
 * has not rejected (pending ones too: this is where a project finds shares to accept), newest first.
 */
export async function listCustomImages(store: ReadStore, projectId: string, f: CustomImageFilter, page: Page): Promise<{ rows: CustomImage[]; total: number }> {
  const matches = (eb: Images) => {
    const own = eb('i.project_id', '=', projectId);
    const shared = sharedTo(eb, projectId, '<>', 'rejected');
    const c: Expression<SqlBool>[] = [f.imageType === 'private' ? own : f.imageType === 'share' ? shared : eb.or([own, shared])];
    if (f.status !== undefined) c.push(eb('i.status', '=', f.status));
    if (f.imageId !== undefined) c.push(eb('i.image_id', '=', f.imageId));
    if (f.imageName) c.push(fuzzy('i.image_name', f.imageName));
    if (f.createSince !== undefined) c.push(eb('i.create_time', '>=', f.createSince));
    if (f.createUntil !== undefined) c.push(eb('i.create_time', '<=', f.createUntil));
    if (f.srcProjectId !== undefined) c.push(eb('i.project_id', '=', f.srcProjectId));
    return eb.and(c);
  };
  const q = store.db.selectFrom('images as i').where(matches);
  const rows = await readRows(store, q.selectAll('i').orderBy('i.create_time', 'desc').orderBy('i.image_id', 'desc').limit(sql.lit(page.limit)).offset(page.offset));
  const [count] = await readRows(store, q.select((eb) => eb.fn.countAll<number>().as('n')));
  return { rows: rows.map((r) => ({ ...r, image_type: r.project_id === projectId ? 'private' : 'share' })), total: Number(count!.n) };
}

/** One of the project's own private images (never a public one, nor one shared to it). */
export async function getOwnImage(db: Db, projectId: string, imageId: string): Promise<ImageRow | undefined> {
  return db.selectFrom('images').selectAll().where('image_id', '=', imageId).where('project_id', '=', projectId).executeTakeFirst();
}

export type DeleteImageResult = 'deleted' | 'unknown' | 'in-use';

/** Delete one of the project's private images with its shares; refused while any phone (of any project) runs it or a job is to put it on one. */
export async function deleteOwnImage(db: Db, projectId: string, imageId: string): Promise<DeleteImageResult> {
  return db.transaction().execute(async (trx) => {
    if (!(await lockOwnImage(trx, projectId, imageId))) return 'unknown';
    const inUse = await trx.selectFrom('phones').select('phone_id').where('image_id', '=', imageId).limit(1).executeTakeFirst();
    // A reset or restart still to run would put it on a phone after it is gone. The state is written
    // into the text so that the unfinished jobs' partial index serves (see jobs.ts).
    const queued = await trx.selectFrom('jobs').select('job_id').where(sql<SqlBool>`state <> 'done'`).where('params', 'like', `%"imageId":"${imageId}"%`).limit(1).executeTakeFirst();
    if (inUse || queued) return 'in-use';
    await trx.deleteFrom('image_members').where('image_id', '=', imageId).execute();
    await trx.deleteFrom('images').where('image_id', '=', imageId).execute();
    return 'deleted';
  });
}

/**
 * The project's own image, read so that changes to it and its members queue behind each other: on
 * PostgreSQL the row is locked; SQLite transactions here begin immediate, one writer at a time.
 */
async function lockOwnImage(trx: Db, projectId: string, imageId: string): Promise<ImageRow | undefined> {
  let q = trx.selectFrom('images').selectAll().where('image_id', '=', imageId).where('project_id', '=', projectId);
  if (dialectOf(trx) === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

export type AddMemberResult = 'added' | 'unknown-image' | 'not-production' | 'unknown-project' | 'self' | 'exists' | 'full';

/** Share one of the project's private images (in production) with another project of this store. */
export async function addImageMember(db: Db, projectId: string, imageId: string, memberId: string, now: number): Promise<AddMemberResult> {
  return db.transaction().execute(async (trx) => {
    const image = await lockOwnImage(trx, projectId, imageId);
    if (!image) return 'unknown-image';
    if (image.status !== ImageStatus.production) return 'not-production';
    if (memberId === projectId) return 'self';
    if (!(await trx.selectFrom('projects').select('project_id').where('project_id', '=', memberId).executeTakeFirst())) return 'unknown-project';
    const members = await trx.selectFrom('image_members').select('project_id').where('image_id', '=', imageId).execute();
    if (members.some((m) => m.project_id === memberId)) return 'exists';
    if (members.length >= MAX_IMAGE_MEMBERS) return 'full';
    await trx.insertInto('image_members').values({ image_id: imageId, project_id: memberId, status: 'pending', create_time: now, update_time: now }).execute();
    return 'added';
  });
}

/** The members of one of the project's private images, oldest first; undefined when it is not the project's. */
export async function listImageMembers(db: Db, projectId: string, imageId: string): Promise<Selectable<ImageMemberTable>[] | undefined> {
  if (!(await getOwnImage(db, projectId, imageId))) return undefined;
  return db.selectFrom('image_members').selectAll().where('image_id', '=', imageId).orderBy('create_time').orderBy('project_id').execute();
}

/** The recipient accepts or rejects an image shared to it; false when it is not shared to `projectId`. */
export async function setImageMemberStatus(db: Db, projectId: string, imageId: string, status: Exclude<MemberStatus, 'pending'>, now: number): Promise<boolean> {
  const r = await db.updateTable('image_members').set({ status, update_time: now }).where('image_id', '=', imageId).where('project_id', '=', projectId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The owner stops sharing an image with a project. */
export async function deleteImageMember(db: Db, projectId: string, imageId: string, memberId: string): Promise<'deleted' | 'unknown-image' | 'not-member'> {
  return db.transaction().execute(async (trx) => {
    if (!(await lockOwnImage(trx, projectId, imageId))) return 'unknown-image';
    const r = await trx.deleteFrom('image_members').where('image_id', '=', imageId).where('project_id', '=', memberId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0 ? 'deleted' : 'not-member';
  });
}

export interface ImportImage {
  projectId: string;
  name: string;
  /** The public image it is made from: its label, OS and (unless given) version. */
  fromImageId: string;
  version?: string;
  status?: number;
  sizeBytes: number;
  supportEncrypt?: boolean;
}

/** A private image of a project, made from a public one (`opencph admin images import`). */
export async function importImage(db: Db, o: ImportImage, now: number, ids: IdGenerator): Promise<ImageRow> {
  const project = await db.selectFrom('projects').select(['project_id', 'domain_id']).where('project_id', '=', o.projectId).executeTakeFirst();
  if (!project) throw new Error(`No project ${o.projectId}.`);
  const from = await getImage(db, o.fromImageId);
  if (!from || from.project_id !== null) throw new Error(`No public image ${o.fromImageId}: a private image is made from a public one (see opencph admin catalogue list).`);
  const row: ImageRow = {
    image_id: ids(),
    image_name: o.name,
    image_version: o.version ?? from.image_version,
    os_name: from.os_name,
    os_type: from.os_type,
    image_label: from.image_label,
    project_id: project.project_id,
    domain_id: project.domain_id,
    status: o.status ?? ImageStatus.production,
    image_size: o.sizeBytes,
    create_time: now,
    update_time: now,
    is_support_encrypt: o.supportEncrypt ? 1 : from.is_support_encrypt,
  };
  await db.insertInto('images').values(row).execute();
  return row;
}

/** Every public image (the catalogue's), for `opencph admin catalogue list`. */
export async function listPublicImages(db: Db): Promise<ImageRow[]> {
  return db.selectFrom('images').selectAll().where('project_id', 'is', null).orderBy('image_label').orderBy('image_name').execute();
}

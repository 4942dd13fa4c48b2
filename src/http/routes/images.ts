import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter, type CatalogueEntry } from '../../domain/errors.js';
import type { RouteDeps } from '../types.js';
import {
  addImageMember,
  deleteImageMember,
  deleteOwnImage,
  IMAGE_STATUSES,
  listCustomImages,
  listImageMembers,
  listPhoneImages,
  setImageMemberStatus,
  type AddMemberResult,
  type PhoneImageType,
} from '../../store/images.js';
import { errorResponses, projectParams } from '../schemas/common.js';
import {
  addMemberBody,
  imageMemberParams,
  imageParams,
  listImagesQuery,
  listImagesResponse,
  listMembersResponse,
  phoneImagesQuery,
  phoneImagesResponse,
  requestIdWithError,
  updateMemberBody,
} from '../schemas/images.js';
import * as wire from '../wireImages.js';

type ProjectParams = { project_id: string };
type ImageParams = ProjectParams & { image_id: string };
interface ListImagesQuery {
  image_type?: 'private' | 'share';
  status?: number;
  offset: number;
  limit: number;
  image_id?: string;
  image_name?: string;
  create_since?: number;
  create_until?: number;
  src_project_id?: string;
}

/** Why AddImageMember refused, as the caller is told. */
const ADD_MEMBER_ERRORS: Record<Exclude<AddMemberResult, 'added'>, [CatalogueEntry, string?]> = {
  'unknown-image': [Errors.invalidImageId, 'It is not a private image of this project.'],
  'not-production': [Errors.imageNotProduction],
  'unknown-project': [invalidParameter('member'), 'No project with this id in this region.'],
  self: [invalidParameter('member'), 'An image cannot be shared with its own project.'],
  exists: [Errors.imageMemberExists],
  full: [Errors.imageMembersFull],
};

/** The body of DeleteImage and the member calls on success: CPH models error fields there, empty here. */
const done = (requestId: string) => ({ request_id: requestId, error_msg: '', error_code: '' });

/** A private image of another project, or an image that does not exist, is answered alike. */
const notOwnImage = () => new CphError(Errors.invalidImageId, 'It is not a private image of this project.');

export async function imageRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;
  const tags = ['images'];
  const now = () => engine.deps.clock.now();
  const imageIdErrors = { errorCodes: { image_id: Errors.invalidImageId } };

  app.get<{ Params: ProjectParams; Querystring: { image_type: PhoneImageType } }>(
    '/phone-images',
    {
      schema: {
        operationId: 'ListCloudPhoneImages',
        summary: 'Images a phone of the project can be given: public, private (own), share (shared to it and accepted), or all',
        tags,
        params: projectParams,
        querystring: phoneImagesQuery,
        response: { 200: phoneImagesResponse, ...errorResponses },
      },
    },
    async (req) => {
      const rows = await listPhoneImages(store, req.params.project_id, req.query.image_type);
      return { request_id: req.id, phone_images: rows.map(wire.phoneImage) };
    },
  );

  app.get<{ Params: ProjectParams; Querystring: ListImagesQuery }>(
    '/images',
    {
      config: { errorCodes: { status: Errors.invalidStatus, image_id: Errors.invalidImageId } },
      schema: {
        operationId: 'ListImages',
        summary: 'Custom images: the project’s own (private) and those shared to it (share, pending or accepted), newest first',
        tags,
        params: projectParams,
        querystring: listImagesQuery,
        response: { 200: listImagesResponse, ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      if (q.status !== undefined && !IMAGE_STATUSES.includes(q.status)) throw new CphError(Errors.invalidStatus);
      const { rows, total } = await listCustomImages(
        store,
        req.params.project_id,
        { imageType: q.image_type, status: q.status, imageId: q.image_id, imageName: q.image_name, createSince: q.create_since, createUntil: q.create_until, srcProjectId: q.src_project_id },
        { offset: q.offset, limit: q.limit },
      );
      return { image_infos: rows.map(wire.customImage), total, request_id: req.id };
    },
  );

  app.delete<{ Params: ImageParams }>(
    '/images/:image_id',
    {
      config: imageIdErrors,
      schema: { operationId: 'DeleteImage', summary: 'Delete a private image of the project (refused while phones run it)', tags, params: imageParams, response: { 200: requestIdWithError, ...errorResponses } },
    },
    async (req) => {
      const r = await deleteOwnImage(db, req.params.project_id, req.params.image_id);
      if (r === 'unknown') throw notOwnImage();
      if (r === 'in-use') throw new CphError(Errors.imageInUse, 'Reset those phones to another image first.');
      return done(req.id);
    },
  );

  app.post<{ Params: ImageParams; Body: { member?: string } }>(
    '/images/:image_id/members',
    {
      config: imageIdErrors,
      schema: { operationId: 'AddImageMember', summary: 'Share a private image with another project (at most 10)', tags, params: imageParams, body: addMemberBody, response: { 200: requestIdWithError, ...errorResponses } },
    },
    async (req) => {
      const member = req.body?.member;
      if (member === undefined || member === '') throw new CphError(invalidParameter('member'), 'Give the project_id to share the image with.');
      const r = await addImageMember(db, req.params.project_id, req.params.image_id, member, now());
      if (r !== 'added') throw new CphError(...ADD_MEMBER_ERRORS[r]);
      return done(req.id);
    },
  );

  app.get<{ Params: ImageParams }>(
    '/images/:image_id/members',
    {
      config: imageIdErrors,
      schema: { operationId: 'ListImageMembers', summary: 'The projects a private image is shared with', tags, params: imageParams, response: { 200: listMembersResponse, ...errorResponses } },
    },
    async (req) => {
      const members = await listImageMembers(db, req.params.project_id, req.params.image_id);
      if (!members) throw notOwnImage();
      return { members: members.map(wire.imageMember) };
    },
  );

  app.put<{ Params: ImageParams; Body: { status: 'accepted' | 'rejected' } }>(
    '/images/:image_id/members',
    {
      config: { errorCodes: { image_id: Errors.invalidImageId, status: Errors.invalidStatus, body: Errors.invalidStatus } },
      schema: {
        operationId: 'UpdateImageMember',
        summary: 'Accept or reject an image shared to the project (only an accepted one can be used)',
        tags,
        params: imageParams,
        body: updateMemberBody,
        response: { 200: requestIdWithError, ...errorResponses },
      },
    },
    async (req) => {
      if (!(await setImageMemberStatus(db, req.params.project_id, req.params.image_id, req.body.status, now()))) {
        throw new CphError(Errors.invalidImageId, 'It is not shared with this project.');
      }
      return { request_id: req.id };
    },
  );

  app.delete<{ Params: ImageParams & { member_id: string } }>(
    '/images/:image_id/members/:member_id',
    {
      config: imageIdErrors,
      schema: { operationId: 'DeleteImageMember', summary: 'Stop sharing a private image with a project', tags, params: imageMemberParams, response: { 200: requestIdWithError, ...errorResponses } },
    },
    async (req) => {
      const r = await deleteImageMember(db, req.params.project_id, req.params.image_id, req.params.member_id);
      if (r === 'unknown-image') throw notOwnImage();
      if (r === 'not-member') throw new CphError(invalidParameter('member_id'), 'The image is not shared with this project.');
      return done(req.id);
    },
  );
}

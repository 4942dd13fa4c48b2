import { Limits } from './limits.js';

/**
 * The error catalogue: every error OpenCPH answers with, as `{request_id, error_code, error_msg}`.
 * Codes and messages marked CPH are CPH's own (cph-api.md §5.3); the others fill gaps the public
 * table leaves open (cph-api.md §9) and are listed in the README.
 */
export interface CatalogueEntry {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

const entry = (status: number, code: string, message: string): CatalogueEntry => ({ status, code, message });
const lockRule = (failures: string) => `${Limits.lockout.lockMs / 60_000} minutes after ${Limits.lockout.afterFailures} consecutive ${failures}`;

export const Errors = {
  // CPH
  noPermission: entry(403, 'CPS.0001', 'No permission to request resources.'),
  pageParams: entry(400, 'CPS.0002', 'Parameter: offset or limit is invalid.'),
  internal: entry(500, 'CPS.0003', 'Service internal error.'),
  invalidPhoneId: entry(400, 'CPS.0004', 'Invalid phone id.'),
  batchInvalidPhoneId: entry(400, 'CPS.0004', 'Parameter: phone_id is invalid.'),
  phoneNotFound: entry(404, 'CPS.0005', 'Phone is not found.'),
  phoneIdsEmpty: entry(400, 'CPS.0009', 'Parameter: phone_id list is empty.'),
  invalidStatus: entry(400, 'CPS.0010', 'Parameter: status is invalid.'),
  invalidServerId: entry(400, 'CPS.0016', 'server_id is invalid.'),
  serverNotFound: entry(404, 'CPS.0016', 'server_id is invalid.'),
  phoneNotAvailable: entry(400, 'CPS.0022', 'Not available phone.'),
  invalidPhoneName: entry(400, 'CPS.0025', 'Parameter: phone_name is invalid.'),
  invalidCount: entry(400, 'CPS.0024', 'Parameter: count is invalid.'),
  phoneModelEmpty: entry(400, 'CPS.0027', 'Parameter: phone_model_name is empty.'),
  invalidPhoneModel: entry(400, 'CPS.0028', 'Parameter: phone_model_name is invalid.'),
  imageIdEmpty: entry(400, 'CPS.0029', 'Parameter: image_id is empty.'),
  invalidBandwidth: entry(400, 'CPS.0031', 'Parameter: band_width is invalid.'),
  invalidImageId: entry(400, 'CPS.0030', 'Parameter: image_id is invalid.'),
  invalidProjectId: entry(400, 'CPS.0046', 'Parameter: project_id is invalid.'),
  invalidAction: entry(400, 'CPS.0047', 'Parameter: action is invalid.'),
  batchInvalidServerId: entry(400, 'CPS.0097', 'Parameter: server_id is invalid.'),
  invalidCommand: entry(400, 'CPS.0117', 'Parameter: command is invalid.'),
  invalidContent: entry(400, 'CPS.0118', 'Parameter: content is invalid.'),
  // OpenCPH (gaps in the public table)
  invalidRequestId: entry(400, 'CPS.0035', 'Parameter: request_id is invalid.'),
  jobNotFound: entry(404, 'CPS.0036', 'Job is not found.'),
  serverNotAvailable: entry(400, 'CPS.0038', 'Not available server.'),
  // OpenCPH's own codes for what CPH documents no code for: CPS.09xx, outside CPH's known range.
  tooManySyncCommands: entry(429, 'CPS.0901', 'Too many sync commands.'),
  commandFailed: entry(400, 'CPS.0902', 'The command on the phone failed.'),
  objectNotFound: entry(400, 'CPS.0903', 'The OBS object does not exist.'),
  commandTimedOut: entry(400, 'CPS.0904', 'The command timed out.'),
  shuttingDown: entry(503, 'CPS.0905', 'The node is shutting down; send the call again.'),
  // Data export/restore and shared storage (CPS.0940–0949).
  sharedStorageUnsupported: entry(400, 'CPS.0940', "Shared storage is not supported by the server's phone model."),
  newerAndroidData: entry(400, 'CPS.0941', 'The data comes from a newer Android version than the phone runs.'),
  unusableTar: entry(400, 'CPS.0942', 'The OBS object is not a tar file that can be used here.'),
  sharedAppNotFound: entry(400, 'CPS.0943', 'The app is not shared on this server.'),
  imageInUse: entry(400, 'CPS.0920', 'The image is in use by phones.'),
  imageMembersFull: entry(400, 'CPS.0921', 'The image is shared with 10 projects already.'),
  imageMemberExists: entry(400, 'CPS.0922', 'The image is shared with this project already.'),
  imageNotProduction: entry(400, 'CPS.0923', 'The image is not in production.'),
  batchInvalidEncodeServerId: entry(400, 'CPS.0930', 'Parameter: encode_server_id is invalid.'),
  encodeServerNotAvailable: entry(400, 'CPS.0931', 'Not available encode server.'),
  volumeSizeTooSmall: entry(400, 'CPS.0932', 'Parameter: new_size is smaller than the current volume size.'),
  // The test-control extension /_opencph (CPS.0965–0969).
  ruleNotFound: entry(404, 'CPS.0965', 'The rule does not exist.'),
  heldJobNotFound: entry(404, 'CPS.0966', 'The job is not held by a rule.'),
  // The virtual clock (CPS.0970–0974).
  clockNotVirtual: entry(409, 'CPS.0970', 'The clock is real; start the server with --clock virtual.'),
  // Snapshots and reset (CPS.0975–0979).
  snapshotNotFound: entry(404, 'CPS.0975', 'The snapshot does not exist.'),
  firstStartUnknown: entry(409, 'CPS.0976', "The project's first-start state is not recorded; the next start of the server records it."),
  // Live events and webhooks (CPS.0980–0984).
  webhookNotFound: entry(404, 'CPS.0980', 'The webhook does not exist.'),
  tooManyWebhooks: entry(400, 'CPS.0981', 'A project has at most 20 webhooks.'),
  // The adb fleet (CPS.0985–0990): job failures on real devices.
  deviceNotMapped: entry(400, 'CPS.0985', 'The phone has no device in the adb fleet mapping.'),
  deviceUnreachable: entry(400, 'CPS.0986', 'The device cannot be reached through its adb server.'),
  bootTimedOut: entry(400, 'CPS.0987', 'The device did not come back from its reboot in time.'),
  propertyNotSettable: entry(400, 'CPS.0988', 'A device without root takes only persist.* and debug.* properties.'),
  notOnAdbFleet: entry(400, 'CPS.0989', 'The operation is not available on an adb fleet.'),
  adbServerDown: entry(400, 'CPS.0990', 'The adb server of the device does not answer.'),
  tooManyTags: entry(400, 'CPS.0950', `A resource holds at most ${Limits.tags.perResource} tags.`),
  // Server lifecycle (CPS.0910–0919).
  prepaidServer: entry(400, 'CPS.0910', 'Only on-demand servers can be deleted; a yearly/monthly server is unsubscribed instead.'),
  bandwidthNotFound: entry(404, 'CPS.0911', 'Bandwidth is not found.'),
  serverDeleted: entry(400, 'CPS.0912', 'The server was deleted.'),
  // API gateway (in front of CPH)
  apiNotFound: entry(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment.'),
  methodNotAllowed: entry(405, 'APIGW.0101', 'The API does not exist or has not been published in the environment.'),
  bodyTooLarge: entry(413, 'APIGW.0201', 'Request entity too large.'),
  unsupportedMediaType: entry(415, 'APIGW.0201', 'Unsupported media type.'),
  badRequest: entry(400, 'APIGW.0201', 'Bad request.'),
  requestTimeout: entry(408, 'APIGW.0201', 'Request timeout.'),
  uriTooLong: entry(414, 'APIGW.0201', 'Request URI too long.'),
  headersTooLarge: entry(431, 'APIGW.0201', 'Request headers too large.'),
  unauthorized: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information.'),
  // API gateway: why a credential was refused (the gateway's own phrases where its FAQ documents them)
  credentialsMissing: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: x-auth-token not found. Send X-Auth-Token or an SDK-HMAC-SHA256 Authorization header.'),
  authorizationMalformed: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: the Authorization header is not "SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…".'),
  signedHeadersIncomplete: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: SignedHeaders must include host and x-sdk-date.'),
  sdkDateMissing: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: X-Sdk-Date is missing or not YYYYMMDDTHHMMSSZ.'),
  sdkDateSkew: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: signature expired, X-Sdk-Date is more than 15 minutes from server time.'),
  accessKeyUnknown: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: Get secretKey failed, err: ak not exist.'),
  accessKeyDisabled: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: the access key is disabled.'),
  accessKeyLocked: entry(401, 'APIGW.0301', `Incorrect IAM authentication information: AK access failed to reach the limit, forbidden. The access key is locked for ${lockRule('signature failures')}.`),
  signatureMismatch: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: verify aksk signature fail.'),
  securityTokenUnsupported: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: temporary credentials (X-Security-Token) are not supported.'),
  projectHeaderMismatch: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: the signed X-Project-Id is not the project in the path.'),
  tokenInvalid: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: decrypt token fail.'),
  tokenExpired: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: token expires.'),
  userDisabled: entry(401, 'APIGW.0301', 'Incorrect IAM authentication information: the user is disabled.'),
  // IAM (OpenCPH's codes: IAM's public pages show no code for these)
  iamBadRequest: entry(400, 'IAM.0001', 'The request is invalid.'),
  iamWrongPassword: entry(401, 'IAM.0002', 'The username or password is wrong.'),
  iamUserDisabled: entry(401, 'IAM.0003', 'The user is disabled.'),
  iamNoProjectAccess: entry(401, 'IAM.0004', 'The user has no access to the requested project.'),
  iamTokenNotFound: entry(404, 'IAM.0005', 'The token is invalid or has expired.'),
  iamUserLocked: entry(401, 'IAM.0006', `The user is locked for ${lockRule('failed logins')}.`),
} as const satisfies Record<string, CatalogueEntry>;

/** `Parameter: <name> is invalid.` for a field CPH has no dedicated code for. */
export function invalidParameter(name: string): CatalogueEntry {
  return entry(400, 'CPS.0034', `Parameter: ${name} is invalid.`);
}

/** The one error type: handlers throw it, one plugin renders it. */
export class CphError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(entryOf: CatalogueEntry, detail?: string) {
    super(detail ? `${entryOf.message} ${detail}` : entryOf.message);
    this.name = 'CphError';
    this.status = entryOf.status;
    this.code = entryOf.code;
  }
}

/** A per-target failure inside a batch: written as a failed job, answered in `jobs[]`. */
export interface TargetError {
  readonly code: string;
  readonly message: string;
}

export function targetError(entryOf: CatalogueEntry, detail?: string): TargetError {
  return { code: entryOf.code, message: detail ? `${entryOf.message} ${detail}` : entryOf.message };
}

import type { HttpQueryParam, S3Operation } from '@airlock/contracts';
import type { OutgoingHeaders } from '../credentials/credential-injector';
import { encodeQueryPart } from './canonical-request';

/*
 * An S3 request read as the S3 operation it is (path-style: /<bucket>/<key>), so that policy
 * can judge GetObject, DeleteObjects or CopyObject rather than a method and a path.
 * docs/policy-http.md has the table. A request with a query parameter this table does not know
 * is "Unknown": S3 may well read it as a subresource, and only a rule naming Unknown allows it.
 */

/** Query parameters S3 reads as options of an operation, never as a subresource that changes it. */
const OPTIONS: ReadonlySet<string> = new Set([
  'x-id',
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'fetch-owner',
  'encoding-type',
  'marker',
  'key-marker',
  'version-id-marker',
  'upload-id-marker',
  'max-uploads',
  'max-parts',
  'part-number-marker',
  'versionId',
  'partNumber',
  'uploadId',
  'optional-object-attributes',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
]);

/** Subresources by method, at bucket level and at object level: `?<name>` → operation. */
const BUCKET: Record<string, Record<string, string>> = {
  GET: {
    acl: 'GetBucketAcl',
    policy: 'GetBucketPolicy',
    location: 'GetBucketLocation',
    versioning: 'GetBucketVersioning',
    tagging: 'GetBucketTagging',
    cors: 'GetBucketCors',
    lifecycle: 'GetBucketLifecycleConfiguration',
    encryption: 'GetBucketEncryption',
    website: 'GetBucketWebsite',
    uploads: 'ListMultipartUploads',
    versions: 'ListObjectVersions',
  },
  PUT: {
    acl: 'PutBucketAcl',
    policy: 'PutBucketPolicy',
    versioning: 'PutBucketVersioning',
    tagging: 'PutBucketTagging',
    cors: 'PutBucketCors',
    lifecycle: 'PutBucketLifecycleConfiguration',
    encryption: 'PutBucketEncryption',
    website: 'PutBucketWebsite',
    publicAccessBlock: 'PutPublicAccessBlock',
    ownershipControls: 'PutBucketOwnershipControls',
  },
  DELETE: {
    policy: 'DeleteBucketPolicy',
    tagging: 'DeleteBucketTagging',
    cors: 'DeleteBucketCors',
    lifecycle: 'DeleteBucketLifecycle',
    encryption: 'DeleteBucketEncryption',
    website: 'DeleteBucketWebsite',
    publicAccessBlock: 'DeletePublicAccessBlock',
  },
  POST: { delete: 'DeleteObjects' },
};

const OBJECT: Record<string, Record<string, string>> = {
  GET: {
    acl: 'GetObjectAcl',
    tagging: 'GetObjectTagging',
    attributes: 'GetObjectAttributes',
    retention: 'GetObjectRetention',
    'legal-hold': 'GetObjectLegalHold',
  },
  PUT: {
    acl: 'PutObjectAcl',
    tagging: 'PutObjectTagging',
    retention: 'PutObjectRetention',
    'legal-hold': 'PutObjectLegalHold',
  },
  DELETE: { tagging: 'DeleteObjectTagging' },
  POST: { uploads: 'CreateMultipartUpload', restore: 'RestoreObject', select: 'SelectObjectContent' },
};

/** Without a subresource. */
const BUCKET_PLAIN: Record<string, string> = {
  HEAD: 'HeadBucket',
  PUT: 'CreateBucket',
  DELETE: 'DeleteBucket',
};
const OBJECT_PLAIN: Record<string, string> = {
  GET: 'GetObject',
  HEAD: 'HeadObject',
  PUT: 'PutObject',
  DELETE: 'DeleteObject',
};

export type S3Derived = { ok: true; s3: S3Operation } | { ok: false; reason: string };

/**
 * The S3 operation of a request: `path` is the canonical path below the connection, `query` its
 * decoded parameters, `headers` the agent's (lower-case names).
 */
export function deriveS3Operation(
  method: string,
  path: string,
  query: readonly HttpQueryParam[],
  headers: OutgoingHeaders,
): S3Derived {
  const slash = path.indexOf('/', 1);
  const bucket = decodePathPart(slash < 0 ? path.slice(1) : path.slice(1, slash));
  const key = slash < 0 ? '' : decodePathPart(path.slice(slash + 1));
  const names = new Set(query.map((p) => p.name));
  const subresources = [...names].filter((n) => !OPTIONS.has(n));
  const copyHeader = headers['x-amz-copy-source'];
  const base = { ...(bucket ? { bucket } : {}), ...(key ? { key } : {}) };

  let operation: string;
  if (subresources.length > 1) operation = 'Unknown';
  else if (!bucket) operation = method === 'GET' && subresources.length === 0 ? 'ListBuckets' : 'Unknown';
  else if (!key) {
    const sub = subresources[0];
    if (sub !== undefined) operation = BUCKET[method]?.[sub] ?? 'Unknown';
    else if (method === 'GET') operation = names.has('list-type') ? listV2(query) : 'ListObjects';
    else operation = BUCKET_PLAIN[method] ?? 'Unknown';
    if (names.has('uploadId') || names.has('partNumber')) operation = 'Unknown';
  } else {
    const sub = subresources[0];
    const upload = names.has('uploadId');
    if (sub !== undefined) operation = OBJECT[method]?.[sub] ?? 'Unknown';
    else if (upload && method === 'PUT') operation = copyHeader ? 'UploadPartCopy' : 'UploadPart';
    else if (upload && method === 'POST') operation = 'CompleteMultipartUpload';
    else if (upload && method === 'DELETE') operation = 'AbortMultipartUpload';
    else if (upload && method === 'GET') operation = 'ListParts';
    else if (method === 'PUT' && copyHeader) operation = 'CopyObject';
    else operation = OBJECT_PLAIN[method] ?? 'Unknown';
  }

  if (copyHeader !== undefined && operation !== 'CopyObject' && operation !== 'UploadPartCopy') {
    return { ok: false, reason: 'x-amz-copy-source is allowed on CopyObject and UploadPartCopy only' };
  }
  if (operation === 'CopyObject' || operation === 'UploadPartCopy') {
    const source = parseCopySource(Array.isArray(copyHeader) ? undefined : copyHeader);
    if (!source) {
      return { ok: false, reason: 'x-amz-copy-source must be one /<bucket>/<key>[?versionId=<id>]' };
    }
    return { ok: true, s3: { operation, ...base, copySource: source } };
  }
  return { ok: true, s3: { operation, ...base } };
}

function listV2(query: readonly HttpQueryParam[]): string {
  return query.some((p) => p.name === 'list-type' && p.value === '2') ? 'ListObjectsV2' : 'Unknown';
}

/** A canonical path part (escapes left are non-ASCII or reserved characters) decoded. */
function decodePathPart(s: string): string {
  return s.includes('%') ? decodeURIComponent(s) : s;
}

/**
 * `x-amz-copy-source`: `[/]<bucket>/<key>[?versionId=<id>]`, URL-encoded. Access point ARNs and
 * anything else are refused rather than guessed at.
 */
export function parseCopySource(value: string | undefined): S3Operation['copySource'] | undefined {
  if (!value) return undefined;
  const q = value.indexOf('?');
  const target = q < 0 ? value : value.slice(0, q);
  let versionId: string | undefined;
  if (q >= 0) {
    const query = value.slice(q + 1);
    if (!query.startsWith('versionId=') || query.includes('&')) return undefined;
    versionId = safeDecode(query.slice('versionId='.length));
    if (!versionId) return undefined;
  }
  const decoded = safeDecode(target.startsWith('/') ? target.slice(1) : target);
  if (!decoded) return undefined;
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) return undefined;
  const bucket = decoded.slice(0, slash);
  const key = decoded.slice(slash + 1);
  if (bucket.includes(':') || /[\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  return versionId === undefined ? { bucket, key } : { bucket, key, versionId };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The copy source as it goes upstream, in one encoding: what policy judged. */
export function copySourceHeader(source: NonNullable<S3Operation['copySource']>): string {
  const key = source.key.split('/').map(encodeQueryPart).join('/');
  const version = source.versionId === undefined ? '' : `?versionId=${encodeQueryPart(source.versionId)}`;
  return `/${encodeQueryPart(source.bucket)}/${key}${version}`;
}

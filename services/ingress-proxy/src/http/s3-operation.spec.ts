import type { HttpQueryParam } from '@airlock/contracts';
import { canonicalQuery } from './canonical-request';
import { copySourceHeader, deriveS3Operation, parseCopySource } from './s3-operation';

function params(q: string): HttpQueryParam[] {
  const r = canonicalQuery(q);
  if (!r.ok) throw new Error(r.reason);
  return r.value.params;
}

function op(method: string, path: string, q = '', headers: Record<string, string> = {}) {
  const r = deriveS3Operation(method, path, params(q), headers);
  return r.ok ? r.s3 : r.reason;
}

describe('S3 operations', () => {
  it.each([
    ['GET', '/', '', 'ListBuckets'],
    ['GET', '/b', '?list-type=2&prefix=a', 'ListObjectsV2'],
    ['GET', '/b', '', 'ListObjects'],
    ['GET', '/b', '?versions', 'ListObjectVersions'],
    ['GET', '/b', '?uploads', 'ListMultipartUploads'],
    ['GET', '/b', '?acl', 'GetBucketAcl'],
    ['GET', '/b', '?policy', 'GetBucketPolicy'],
    ['PUT', '/b', '', 'CreateBucket'],
    ['PUT', '/b', '?policy', 'PutBucketPolicy'],
    ['PUT', '/b', '?acl', 'PutBucketAcl'],
    ['DELETE', '/b', '', 'DeleteBucket'],
    ['HEAD', '/b', '', 'HeadBucket'],
    ['POST', '/b', '?delete', 'DeleteObjects'],
    ['POST', '/b', '?delete=', 'DeleteObjects'],
    ['GET', '/b/k', '', 'GetObject'],
    ['GET', '/b/k', '?x-id=GetObject&versionId=3&response-content-type=text/plain', 'GetObject'],
    ['HEAD', '/b/k', '', 'HeadObject'],
    ['PUT', '/b/k', '?x-id=PutObject', 'PutObject'],
    ['DELETE', '/b/k', '', 'DeleteObject'],
    ['GET', '/b/k', '?acl', 'GetObjectAcl'],
    ['PUT', '/b/k', '?acl', 'PutObjectAcl'],
    ['PUT', '/b/k', '?tagging', 'PutObjectTagging'],
    ['POST', '/b/k', '?uploads', 'CreateMultipartUpload'],
    ['PUT', '/b/k', '?partNumber=1&uploadId=u', 'UploadPart'],
    ['POST', '/b/k', '?uploadId=u', 'CompleteMultipartUpload'],
    ['DELETE', '/b/k', '?uploadId=u', 'AbortMultipartUpload'],
    ['GET', '/b/k', '?uploadId=u', 'ListParts'],
    ['POST', '/b/k', '?restore', 'RestoreObject'],
    // Anything the table does not know is Unknown, never a guess.
    ['GET', '/b/k', '?renameObject', 'Unknown'],
    ['PUT', '/b/k', '?acl&tagging', 'Unknown'],
    ['POST', '/b', '', 'Unknown'],
    ['PATCH', '/b/k', '', 'Unknown'],
    ['GET', '/b', '?list-type=1', 'Unknown'],
    ['DELETE', '/', '', 'Unknown'],
  ])('%s %s%s is %s', (method, path, q, expected) => {
    const s3 = op(method, path, q);
    expect(typeof s3 === 'string' ? s3 : s3.operation).toBe(expected);
  });

  it('names the bucket and the decoded key', () => {
    expect(op('GET', '/b/dir/a%20b%3B.txt')).toEqual({ operation: 'GetObject', bucket: 'b', key: 'dir/a b;.txt' });
    expect(op('POST', '/b', '?delete')).toEqual({ operation: 'DeleteObjects', bucket: 'b' });
  });

  it('reads a copy as CopyObject (or UploadPartCopy) of a source, and refuses a copy source anywhere else', () => {
    expect(op('PUT', '/b/dst', '', { 'x-amz-copy-source': '/src/a%2Fb.txt?versionId=v1' })).toEqual({
      operation: 'CopyObject',
      bucket: 'b',
      key: 'dst',
      copySource: { bucket: 'src', key: 'a/b.txt', versionId: 'v1' },
    });
    expect(op('PUT', '/b/dst', '?partNumber=2&uploadId=u', { 'x-amz-copy-source': 'src/k' })).toMatchObject({
      operation: 'UploadPartCopy',
      copySource: { bucket: 'src', key: 'k' },
    });
    expect(op('GET', '/b/k', '', { 'x-amz-copy-source': 'src/k' })).toMatch(/CopyObject and UploadPartCopy only/);
    expect(op('PUT', '/b/k', '?acl', { 'x-amz-copy-source': 'src/k' })).toMatch(/CopyObject and UploadPartCopy only/);
  });

  it.each([
    'src',
    '/src/',
    'arn:aws:s3:us-east-1:1:accesspoint/ap/object/k',
    'src/k?versionId=1&x=2',
    'src/k?other=1',
    'src/%zz',
    'src/a%00b',
  ])('refuses the copy source %s', (source) => {
    expect(parseCopySource(source)).toBeUndefined();
  });

  it('sends the copy source upstream in one encoding', () => {
    expect(copySourceHeader({ bucket: 'src', key: 'a b/c+d.txt', versionId: 'v 1' })).toBe(
      '/src/a%20b/c%2Bd.txt?versionId=v%201',
    );
    expect(parseCopySource(copySourceHeader({ bucket: 'src', key: 'a b/ü.txt' }))).toEqual({
      bucket: 'src',
      key: 'a b/ü.txt',
    });
  });
});

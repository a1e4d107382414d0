/**
 * How a response body is masked, by its content type: JSON by the streaming JSON masker, text
 * by the windowed text masker, binary not at all. A missing or unfamiliar type is decided from
 * the first bytes.
 */
export type BodyKind = 'json' | 'text' | 'binary' | 'sniff';

const JSON_SUBTYPES = new Set(['json', 'x-ndjson', 'ndjson', 'jsonl', 'x-jsonlines', 'json-patch+json']);

const TEXT_APPLICATION = new Set([
  'xml',
  'x-www-form-urlencoded',
  'javascript',
  'x-javascript',
  'ecmascript',
  'yaml',
  'x-yaml',
  'toml',
  'x-toml',
  'sql',
  'graphql',
  'x-sh',
  'x-shellscript',
  'x-httpd-php',
  'csv',
  'x-pem-file',
  'pem-certificate-chain',
  'x-sql',
  'x-ini',
  'x-properties',
  'x-tex',
  'rtf',
]);

const BINARY_APPLICATION = new Set([
  'octet-stream',
  'zip',
  'gzip',
  'x-gzip',
  'x-tar',
  'x-bzip2',
  'x-xz',
  'zstd',
  'x-7z-compressed',
  'x-rar-compressed',
  'vnd.rar',
  'pdf',
  'wasm',
  'protobuf',
  'x-protobuf',
  'vnd.google.protobuf',
  'grpc',
  'msgpack',
  'x-msgpack',
  'cbor',
  'java-archive',
  'x-msdownload',
  'msword',
  'vnd.ms-excel',
  'vnd.ms-powerpoint',
  'vnd.apache.parquet',
  'x-parquet',
  'avro',
  'vnd.apache.avro+binary',
  'vnd.sqlite3',
  'x-sqlite3',
  'ogg',
  'x-iso9660-image',
  'x-apple-diskimage',
  'x-shockwave-flash',
]);

const BINARY_TYPES = new Set(['image', 'audio', 'video', 'font', 'model']);

/** The media type without parameters, lowercased; '' when there is none. */
export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export function classifyContentType(contentType: string | undefined): BodyKind {
  const mime = mediaType(contentType);
  const slash = mime.indexOf('/');
  if (slash <= 0) return 'sniff';
  const type = mime.slice(0, slash);
  const sub = mime.slice(slash + 1);
  if (JSON_SUBTYPES.has(sub) || sub.endsWith('+json')) return 'json';
  if (type === 'text') return 'text';
  if (BINARY_TYPES.has(type)) return sub === 'svg+xml' ? 'text' : 'binary';
  if (type === 'multipart' || type === 'message') return 'text';
  if (type === 'application') {
    if (TEXT_APPLICATION.has(sub) || sub.endsWith('+xml') || sub.endsWith('+yaml')) return 'text';
    if (
      BINARY_APPLICATION.has(sub) ||
      sub.endsWith('+zip') ||
      sub.endsWith('+gzip') ||
      sub.startsWith('vnd.openxmlformats-') ||
      sub.startsWith('vnd.oasis.opendocument.')
    ) {
      return 'binary';
    }
  }
  return 'sniff';
}

/** Bytes a sniffing stream gathers before it decides. */
export const SNIFF_BYTES = 512;

/** Decides a body without a usable content type from its first bytes. */
export function sniffBody(head: Uint8Array): Exclude<BodyKind, 'sniff'> {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  if (i < head.length && (head[i] === 0x7b || head[i] === 0x5b)) return 'json';
  let control = 0;
  for (let k = 0; k < head.length; k++) {
    const c = head[k];
    if (c === 0) return 'binary';
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c && c !== 0x1b) || c === 0x7f) control++;
  }
  return control * 10 > head.length ? 'binary' : 'text';
}

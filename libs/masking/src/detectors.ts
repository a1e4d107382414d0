/**
 * Value detectors: each finds one kind of secret (or personal datum) in a text and reports the
 * span to mask. A detector only runs when one of its anchors occurs in the text (see
 * anchors.ts), so a regular expression never sees the many strings that cannot match.
 *
 * Texts reach detectors either as JavaScript strings or as latin1 strings of UTF-8 bytes
 * (streams). Every pattern therefore uses ASCII classes only: no `\s` (it matches U+00A0,
 * which is a UTF-8 continuation byte in latin1) and no `u` flag, so both forms give the same
 * spans and a span never cuts a multi-byte character.
 */
import {
  IBAN_LENGTHS,
  base62CrcValid,
  entropy,
  ibanChecksumValid,
  looksLikeJwtHeader,
  luhnValid,
  ssnValid,
} from './checksums';
import { patternDetector } from './pattern';
import { DETECTOR_IDS, type DetectorId } from './rules';
import { VENDOR_DETECTORS } from './vendors';

/** Receives one span to mask: [start, end). `open` marks a private key whose end the text has not reached. */
export type SpanSink = (start: number, end: number, open?: boolean) => void;

/**
 * A detector. No match may contain a line break (`\n`): streams emit text up to the last line
 * break without waiting. A private key body is the one exception, with its own streaming state.
 */
export interface Detector {
  readonly id: DetectorId;
  readonly kind: 'secret' | 'pii';
  /** ASCII substrings, compared case-insensitively; the detector runs only if one occurs. */
  readonly anchors: readonly string[];
  /** For detectors without anchors: the least number of ASCII digits a text must hold. */
  readonly minDigits?: number;
  /**
   * For digit-gated detectors: the run of digits (single spaces or dashes between them allowed)
   * every match holds; the JSON stream looks at a string closer only when it has such a run.
   */
  readonly digitRun?: number;
  /**
   * Literal strings whose base64 forms mark an encoded value worth decoding (default: the
   * anchors). Written in the case the format uses.
   */
  readonly encoded?: readonly string[];
  /**
   * The detector reads a key name before the value (`password=...`, `DATADOG_API_KEY: ...`).
   * A JSON string value is then also scanned as `<its key>=<value>`, so `{"db_password": "..."}`
   * is found like `db_password=...` in a text.
   */
  readonly keyed?: boolean;
  /** The regular expressions a detector runs, for the tests that bound them. */
  readonly patterns?: readonly RegExp[];
  /**
   * The longest stretch of text a match depends on, from the first character it looks at
   * (lookbehind included) to the last (lookahead included). Streaming keeps a window at least
   * this long. `private-key` is unbounded and streams with an explicit begin/end state instead.
   */
  readonly reach: number;
  /** How far before its masked span a match may begin (streaming keeps this much context). */
  readonly lead: number;
  find(text: string, out: SpanSink): void;
}

interface RegexDetectorSpec {
  id: DetectorId;
  kind?: 'secret' | 'pii';
  anchors: readonly string[];
  minDigits?: number;
  digitRun?: number;
  reach: number;
  lead?: number;
  encoded?: readonly string[];
  /** Global regular expression; with `group`, it needs the `d` flag and only that group is masked. */
  re: RegExp;
  group?: number;
  accept?: (match: RegExpExecArray) => boolean;
}

function regexDetector(spec: RegexDetectorSpec): Detector {
  const { re, group, accept, ...rest } = spec;
  return patternDetector({ ...rest, patterns: [{ re, group, accept }] });
}

// ---------------------------------------------------------------------------------------------
// PEM private keys: a hand-written scanner, because a key block has no useful length bound.

const PEM_BEGIN = '-----BEGIN ';
const PEM_END = '-----END ';
const PRIVATE_LABEL = /^(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?$/;

/** Characters a PEM body may hold: base64, line breaks (also as JSON `\n` escapes), header lines. */
const PEM_BODY = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\r\n\\:,-') {
  PEM_BODY[c.charCodeAt(0)] = 1;
}

/** Index of the `-----` closing a label that starts at `from`, -1 if none, -2 if the text ends first. */
function pemLabelEnd(text: string, from: number): number {
  const n = text.length;
  for (let i = from; i < from + 64; i++) {
    if (i >= n) return -2;
    const c = text.charCodeAt(i);
    if (c === 0x2d) {
      for (let k = 1; k < 5; k++) {
        if (i + k >= n) return -2;
        if (text.charCodeAt(i + k) !== 0x2d) return -1;
      }
      return i;
    }
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20)) return -1;
  }
  return -1;
}

/** The longest text a PEM END line can take; streams keep this much while inside a key body. */
export const PEM_END_LINE_MAX = PEM_END.length + 64 + 5;

/**
 * Scans a private key body from `from`. Returns the index just past its END line, or the index of
 * the first character that cannot be part of a key (a truncated key ends there), or -1 when the
 * text ends while the body may still go on.
 */
export function scanPemBody(text: string, from: number): number {
  const n = text.length;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2d && text.startsWith(PEM_END, i)) {
      const labelEnd = pemLabelEnd(text, i + PEM_END.length);
      if (labelEnd >= 0) return labelEnd + 5;
      if (labelEnd === -2) return -1;
      continue;
    }
    if (c >= 128 || PEM_BODY[c] === 0) return i;
  }
  return -1;
}

const privateKey: Detector = {
  id: 'private-key',
  kind: 'secret',
  anchors: ['-----begin'],
  encoded: ['-----BEGIN', 'PRIVATE KEY'],
  reach: PEM_BEGIN.length + 64 + 5,
  lead: 0,
  find(text, out) {
    let from = 0;
    for (;;) {
      const begin = text.indexOf(PEM_BEGIN, from);
      if (begin < 0) return;
      const labelStart = begin + PEM_BEGIN.length;
      const labelEnd = pemLabelEnd(text, labelStart);
      if (labelEnd < 0 || !PRIVATE_LABEL.test(text.slice(labelStart, labelEnd))) {
        from = begin + 1;
        continue;
      }
      const end = scanPemBody(text, labelEnd + 5);
      if (end < 0) {
        out(begin, text.length, true);
        return;
      }
      out(begin, end);
      from = end;
    }
  },
};

// ---------------------------------------------------------------------------------------------
// AWS secret access key: 40 base64 characters, only when an `aws`/`secret` keyword precedes it
// closely on the same line, and only with mixed case and a digit or symbol (a git SHA is not one).

const AWS_KEYWORD = /(?<![A-Za-z])(?:aws|secret)/gi;
const AWS_SECRET_SEARCH = 64;

function isBase64Char(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

function looksRandom40(text: string, start: number): boolean {
  let upper = false;
  let lower = false;
  let other = false;
  for (let i = start; i < start + 40; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (c >= 0x61 && c <= 0x7a) lower = true;
    else other = true;
  }
  return upper && lower && other;
}

const awsSecretAccessKey: Detector = {
  id: 'aws-secret-access-key',
  kind: 'secret',
  anchors: ['aws', 'secret'],
  keyed: true,
  reach: 6 + AWS_SECRET_SEARCH + 40 + 1,
  lead: 6 + AWS_SECRET_SEARCH,
  find(text, out) {
    const n = text.length;
    AWS_KEYWORD.lastIndex = 0;
    while (AWS_KEYWORD.exec(text) !== null) {
      const limit = Math.min(n, AWS_KEYWORD.lastIndex + AWS_SECRET_SEARCH);
      let p = AWS_KEYWORD.lastIndex;
      while (p < limit) {
        const c = text.charCodeAt(p);
        if (c === 0x0a || c === 0x0d) break;
        if (!isBase64Char(c)) {
          p++;
          continue;
        }
        let q = p + 1;
        while (q < n && isBase64Char(text.charCodeAt(q))) q++;
        const startsFree = !isBase64Char(text.charCodeAt(p - 1));
        if (
          startsFree &&
          q - p === 40 &&
          text.charCodeAt(q) !== 0x3d &&
          looksRandom40(text, p) &&
          !text.startsWith('EXAMPLEKEY', q - 10)
        ) {
          out(p, q);
          AWS_KEYWORD.lastIndex = q;
          break;
        }
        p = q;
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------
// `password=...`, `secret: ...`, `"token": "..."`: the value after a secret-naming key.

const ASSIGNMENT_KEY =
  /(?:pass(?:word|wd|phrase)|[_-]pwd|[_-]pass|secret(?:[_-]?key)?|token|api[_-]?key|access[_-]?key|private[_-]?key|(?:signing|encryption|master)[_-]?key|credentials?)(?:\\?["'])?[ \t]{0,16}(?::=|=>|[:=])[ \t]{0,16}/gi;
const ASSIGNMENT_VALUE_MAX = 1024;
/** Characters that end an unquoted value. */
const VALUE_STOP = new Uint8Array(128);
for (const c of ' \t\r\n\f\v"\'`&;,<>(){}[]\\') VALUE_STOP[c.charCodeAt(0)] = 1;

/** Whole values that name no secret: booleans and nulls, and the words templates put in place of one. */
const NOT_A_SECRET = new Set(
  (
    'true false null none nil undefined changeme change_me change-me changeit password passwd secret ' +
    'example dummy test testing redacted hidden masked placeholder todo tbd fixme required optional string ' +
    'value empty n/a na default sample foo bar foobar xxx yyy'
  ).split(' '),
);
/** Parts of values that mark a template, an example or a reference, not a secret. */
const PLACEHOLDER_PART =
  /your[_-]?|example|changeme|change[_-]me|dummy|placeholder|redacted|x{4}|\*{3}|\.{3}|•|fake|sample|insert[_-]|replace[_-]?me|process\.env|os\.environ|getenv|secretkeyref|valuefrom|vault:|^env[:(]|^\$[A-Za-z_{(]|^%[({]|^#\{|^\{\{|^<|^\[\[/i;

/**
 * Values that are no secret: booleans and nulls, template words (`changeme`, `<your-key>`,
 * `${VAR}`, `{{ x }}`, `***`, `xxxx`, `example`), references to the environment, and values of one
 * repeated character or too little variety to be a credential (`aaaaaa`, `0000000`).
 */
export function isPlaceholder(text: string, start: number, end: number): boolean {
  if (text.startsWith('${', start) || text.startsWith('{{', start) || text.startsWith('$(', start)) return true;
  const value = text.slice(start, end);
  if (end - start <= 16 && NOT_A_SECRET.has(value.toLowerCase())) return true;
  if (PLACEHOLDER_PART.test(value)) return true;
  return end - start >= 6 && entropy(value) < 1.5;
}

const secretAssignment: Detector = {
  id: 'secret-assignment',
  kind: 'secret',
  anchors: [
    'password',
    'passwd',
    'passphrase',
    '_pwd',
    '-pwd',
    '_pass',
    '-pass',
    'secret',
    'token',
    'api_key',
    'apikey',
    'api-key',
    'access_key',
    'accesskey',
    'access-key',
    'private_key',
    'privatekey',
    'private-key',
    'signing_key',
    'signingkey',
    'encryption_key',
    'encryptionkey',
    'master_key',
    'masterkey',
    'credential',
  ],
  encoded: ['password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'credential'],
  keyed: true,
  reach: 20 + 2 + 16 + 2 + 16 + 1 + ASSIGNMENT_VALUE_MAX + 2,
  lead: 20 + 2 + 16 + 2 + 16 + 2,
  find(text, out) {
    const n = text.length;
    ASSIGNMENT_KEY.lastIndex = 0;
    while (ASSIGNMENT_KEY.exec(text) !== null) {
      let p = ASSIGNMENT_KEY.lastIndex;
      if (p >= n) return;
      let q = text.charCodeAt(p);
      // A JSON-escaped quote (`\"`) in a text body opens a value that an escaped quote closes.
      const escaped = q === 0x5c && p + 1 < n && text.charCodeAt(p + 1) === 0x22;
      if (escaped) {
        p++;
        q = 0x22;
      }
      let start: number;
      let end: number;
      if (q === 0x22 || q === 0x27) {
        start = p + 1;
        end = start;
        const limit = Math.min(n, start + ASSIGNMENT_VALUE_MAX);
        while (end < limit) {
          const c = text.charCodeAt(end);
          if (c === q || c === 0x0a || c === 0x0d) break;
          end++;
        }
        if (end >= n || text.charCodeAt(end) !== q) continue;
        if (escaped) {
          if (text.charCodeAt(end - 1) !== 0x5c) continue;
          end--;
        }
      } else {
        start = p;
        end = p;
        const limit = Math.min(n, p + ASSIGNMENT_VALUE_MAX);
        while (end < limit) {
          const c = text.charCodeAt(end);
          if (c < 128 && VALUE_STOP[c] === 1) break;
          end++;
        }
      }
      if (end > start && !isPlaceholder(text, start, end)) {
        out(start, end);
        ASSIGNMENT_KEY.lastIndex = end;
      }
    }
  },
};

// ---------------------------------------------------------------------------------------------
// IBAN: country code, check digits and the country's BBAN length, validated mod 97.

const IBAN_CANDIDATE = /(?<![A-Za-z0-9])([A-Z]{2})[0-9]{2}(?: ?[A-Z0-9]){11,30}/g;

function isAlnum(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

const iban: Detector = {
  id: 'iban',
  kind: 'pii',
  anchors: [],
  minDigits: 2,
  reach: 1 + 34 + 33 + 1,
  lead: 0,
  find(text, out) {
    IBAN_CANDIDATE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = IBAN_CANDIDATE.exec(text)) !== null) {
      const length = IBAN_LENGTHS[m[1]];
      const candidate = m[0];
      let compact = '';
      let end = 0;
      if (length !== undefined) {
        for (let i = 0; i < candidate.length && compact.length < length; i++) {
          if (candidate[i] !== ' ') compact += candidate[i];
          end = i + 1;
        }
      }
      const after = m.index + end;
      if (
        length === undefined ||
        compact.length !== length ||
        (after < text.length && isAlnum(text.charCodeAt(after))) ||
        !ibanChecksumValid(compact)
      ) {
        IBAN_CANDIDATE.lastIndex = m.index + 2;
        continue;
      }
      out(m.index, after);
      IBAN_CANDIDATE.lastIndex = after;
    }
  },
};

// ---------------------------------------------------------------------------------------------

function hasDigitOrIsLong(token: string): boolean {
  return token.length >= 32 || /[0-9]/.test(token);
}

/** Schemes whose base64 forms mark an encoded connection string. */
const URI_SCHEMES = [
  'postgres://',
  'postgresql://',
  'mysql://',
  'mongodb://',
  'mongodb+srv://',
  'redis://',
  'rediss://',
  'amqp://',
  'amqps://',
  'https://',
  'http://',
  'ftp://',
  'sqlserver://',
];

const githubToken = patternDetector({
  id: 'github-token',
  anchors: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  reach: 264,
  patterns: [
    {
      // Classic formats: 30 random characters and a CRC-32 of them in base 62 (longer ones, which
      // GitHub reserves the right to issue, carry no documented checksum).
      re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g,
      accept: (m) => m[0].length !== 40 || base62CrcValid(m[0].slice(4)),
    },
    { re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59,229}(?![A-Za-z0-9_])/g },
  ],
});

const GITLAB_PREFIXES = [
  'glpat',
  'gldt',
  'glrt',
  'glptt',
  'glcbt',
  'glft',
  'glimt',
  'glsoat',
  'gloas',
  'glagent',
  'glwt',
  'glffct',
];

const gitlabToken = patternDetector({
  id: 'gitlab-token',
  anchors: [...GITLAB_PREFIXES.map((p) => `${p}-`), 'GR1348941'],
  reach: 1 + 8 + 255 + 3 * 65 + 1,
  patterns: [
    {
      re: new RegExp(
        `(?<![A-Za-z0-9_-])(?:${GITLAB_PREFIXES.join('|')})-[A-Za-z0-9_-]{20,255}(?:\\.[A-Za-z0-9_-]{1,64}){0,3}(?![A-Za-z0-9_-])`,
        'g',
      ),
    },
    { re: /(?<![A-Za-z0-9_-])GR1348941[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])/g },
  ],
});

const slackToken = patternDetector({
  id: 'slack-token',
  anchors: ['xox', 'xapp-'],
  reach: 1 + 5 + 4 * 21 + 300 + 1,
  patterns: [
    { re: /(?<![A-Za-z0-9])xox[abeoprs]-(?:[0-9]{1,20}-){1,4}[A-Za-z0-9]{8,128}(?![A-Za-z0-9-])/g },
    { re: /(?<![A-Za-z0-9])xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{100,300}(?![A-Za-z0-9-])/g },
    { re: /(?<![A-Za-z0-9])xapp-[0-9]-[A-Z0-9]{1,16}-[0-9]{1,16}-[a-f0-9]{32,128}(?![A-Za-z0-9-])/g },
  ],
});

const azureStorageKey = patternDetector({
  id: 'azure-storage-key',
  anchors: ['AccountKey=', 'SharedAccessKey='],
  reach: 16 + 88 + 1,
  lead: 16,
  patterns: [
    {
      re: /(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])/dg,
      group: 1,
    },
  ],
});

const usSsn = patternDetector({
  id: 'us-ssn',
  kind: 'pii',
  anchors: [],
  minDigits: 9,
  digitRun: 9,
  reach: 1 + 11 + 1,
  patterns: [
    {
      re: /(?<![0-9A-Za-z-])([0-9]{3})([ -])([0-9]{2})\2([0-9]{4})(?![0-9A-Za-z-])/g,
      accept: (m) => ssnValid(m[1], m[3], m[4]),
    },
  ],
});

const phoneNumber = patternDetector({
  id: 'phone-number',
  kind: 'pii',
  anchors: [],
  // Ten digits at least: shorter E.164 numbers exist (small countries) but every ISO date and
  // timestamp has runs of eight, which would send every JSON string with a date to this pattern.
  minDigits: 10,
  digitRun: 10,
  reach: 1 + 1 + 15 * 2 + 1,
  patterns: [{ re: /(?<![0-9A-Za-z+])\+[1-9](?:[ -]?[0-9]){9,14}(?![0-9])/g }],
});

/** Every detector, in any order; {@link DETECTORS} puts them in priority order. */
const ALL: readonly Detector[] = [
  privateKey,
  regexDetector({
    id: 'google-service-account',
    anchors: ['private_key'],
    re: /"private_key"[ \t]{0,16}:[ \t]{0,16}"(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[^"\\\r\n]|\\.){0,8192})"/dg,
    group: 1,
    reach: 13 + 16 + 1 + 16 + 1 + 67 + 8192 * 2 + 1,
    lead: 13 + 16 + 1 + 16 + 1,
  }),
  regexDetector({
    id: 'aws-access-key-id',
    anchors: ['AKIA', 'ASIA'],
    re: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    accept: (m) => !m[0].endsWith('EXAMPLE'),
    reach: 22,
  }),
  githubToken,
  gitlabToken,
  slackToken,
  regexDetector({
    id: 'slack-webhook',
    anchors: ['hooks.slack.com'],
    re: /hooks\.slack\.com\/(?:services|workflows|triggers)\/([A-Za-z0-9_]{4,64}\/[A-Za-z0-9_]{4,64}(?:\/[A-Za-z0-9_]{4,128}){0,3})/dg,
    group: 1,
    reach: 26 + 64 + 1 + 64 + 3 * 129,
    lead: 26,
  }),
  regexDetector({
    id: 'stripe-key',
    anchors: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', 'whsec_'],
    re: /(?<![A-Za-z0-9_])(?:[rs]k_(?:live|test)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9+/=]{24,128})(?![A-Za-z0-9_])/g,
    accept: (m) => entropy(m[0].slice(8)) > 3,
    reach: 1 + 8 + 247 + 1,
  }),
  regexDetector({
    id: 'anthropic-key',
    anchors: ['sk-ant-'],
    re: /(?<![A-Za-z0-9_-])sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_-]{32,250}(?![A-Za-z0-9_-])/g,
    reach: 1 + 7 + 10 + 1 + 250 + 1,
  }),
  regexDetector({
    id: 'openai-key',
    anchors: ['sk-'],
    re: /(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,250}|[A-Za-z0-9]{48})(?![A-Za-z0-9_-])/g,
    reach: 1 + 3 + 8 + 250 + 1,
  }),
  regexDetector({
    id: 'google-api-key',
    anchors: ['AIza'],
    re: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g,
    reach: 41,
  }),
  azureStorageKey,
  regexDetector({
    id: 'jwt',
    anchors: ['eyJ'],
    re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{6,1024}\.[A-Za-z0-9_-]{2,12288}\.[A-Za-z0-9_-]{0,1024}(?:\.[A-Za-z0-9_-]{0,12288}\.[A-Za-z0-9_-]{0,1024})?(?![A-Za-z0-9_-])/g,
    accept: (m) => looksLikeJwtHeader(m[0].slice(0, m[0].indexOf('.'))),
    reach: 1 + 3 + 1024 + 1 + 12288 + 1 + 1024 + 1 + 12288 + 1 + 1024 + 1,
  }),
  awsSecretAccessKey,
  regexDetector({
    id: 'uri-password',
    anchors: ['://'],
    encoded: URI_SCHEMES,
    re: /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,31}:\/\/[^ \t\r\n\f\v:@/?#"'<>\\[\]{}|^`]{0,256}:([^ \t\r\n\f\v/?#"'<>\\[\]{}|^`]{1,256})@(?=[A-Za-z0-9[._-])/dg,
    group: 1,
    accept: (m) => !/^\*+$/.test(m[1]),
    reach: 1 + 32 + 3 + 256 + 1 + 256 + 2,
    lead: 1 + 32 + 3 + 256 + 1,
  }),
  regexDetector({
    id: 'bearer-token',
    anchors: ['bearer'],
    re: /(?<![A-Za-z0-9])(?:Bearer|bearer|BEARER)[ \t]{1,16}([A-Za-z0-9._~+/-]{8,4096}={0,4})(?![A-Za-z0-9._~+/=-])/dg,
    group: 1,
    accept: (m) => hasDigitOrIsLong(m[1]),
    reach: 1 + 6 + 16 + 4096 + 4 + 1,
    lead: 1 + 6 + 16,
  }),
  secretAssignment,
  regexDetector({
    id: 'email',
    kind: 'pii',
    anchors: ['@'],
    re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
    reach: 1 + 64 + 1 + 8 * 64 + 24 + 1,
  }),
  regexDetector({
    id: 'payment-card',
    kind: 'pii',
    anchors: [],
    minDigits: 13,
    digitRun: 13,
    re: /(?<![0-9A-Za-z.+-])[2-6][0-9](?:[ -]?[0-9]){11,17}(?![0-9A-Za-z-])/g,
    accept: (m) => luhnValid(m[0].replace(/[ -]/g, '')),
    reach: 1 + 37 + 1,
  }),
  iban,
  usSsn,
  phoneNumber,
  ...VENDOR_DETECTORS,
];

/** Every detector, in priority order: when two spans start at the same place, the earlier wins. */
export const DETECTORS: readonly Detector[] = DETECTOR_IDS.map((id) => {
  const found = ALL.filter((d) => d.id === id);
  if (found.length !== 1) throw new Error(`detector ${id}: ${found.length} implementations`);
  return found[0];
});

const BY_ID = new Map<string, Detector>(DETECTORS.map((d) => [d.id, d]));

export function detectorById(id: string): Detector | undefined {
  return BY_ID.get(id);
}

import { Masker, resolveMaskingRules, type DetectorId } from './index';
import { ALNUM, BASE64, BASE64URL, DIGITS, Fakes, LOWER, UPPER } from '../test/fakes';
import { formatVectors, type Vectors } from '../test/vectors';
import { DETECTORS } from './detectors';
import { DETECTOR_IDS } from './rules';

/**
 * Every detector against text that holds its secret (true positives: exactly the secret part is
 * masked, the rest of the text kept) and text that comes close without holding one (false
 * positives: nothing is masked).
 */

const f = new Fakes();
const r = f.rng;

const akid = f.awsAccessKeyId();
const asia = f.awsAccessKeyId('ASIA');
const awsSecret = f.awsSecretKey();
const ghp = f.github('ghp');
const ghs = f.github('ghs');
const gho = f.github('gho');
const ghu = f.github('ghu');
const ghr = f.github('ghr');
const pat = f.githubPat();
const glpat = f.gitlab();
const glrt = f.gitlab('glrt');
const xoxb = f.slackBot('xoxb');
const xoxp = `xoxp-${r.chars(DIGITS, 10)}-${r.chars(DIGITS, 11)}-${r.chars(DIGITS, 12)}-${f.hex(32)}`;
const xoxe = `xoxe-1-${r.chars(ALNUM, 140).slice(0, 120)}`;
const hook1 = f.slackWebhookPath();
const hook2 = f.slackWebhookPath();
const skLive = f.stripe('sk_live');
const skTest = f.stripe('sk_test');
const rkLive = f.stripe('rk_live');
const whsec = `whsec_${f.alnum(32)}`;
const openai = f.openai();
const openaiProj = f.openaiProject();
const openaiSvc = `sk-svcacct-${r.chars(BASE64URL, 60)}`;
const anthropic = f.anthropic();
const anthropicAdmin = `sk-ant-admin01-${r.chars(BASE64URL, 80)}`;
const gkey = f.googleApiKey();
const gkey2 = f.googleApiKey();
const azure = f.azureKey();
const azure2 = f.azureKey();
const jwt = f.jwt();
const jwtHs = f.jwt({ sub: '1234567890', name: 'agent', admin: true }, 'HS256');
const jwtNone = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
const rsa = f.pem('RSA PRIVATE KEY');
const pkcs8 = f.pem('PRIVATE KEY');
const openssh = f.pem('OPENSSH PRIVATE KEY');
const ec = f.pem('EC PRIVATE KEY', 3);
const pgp = f.pem('PGP PRIVATE KEY BLOCK', 5);
const sa = f.serviceAccount();
const saJsonPretty = JSON.stringify(sa, null, 2);
const saJsonMin = JSON.stringify(sa);
const saKeyEscaped = JSON.stringify(sa.private_key).slice(1, -1);
const bearer40 = f.alnum(40);
const b64body = r.chars(BASE64, 64);
const sha = f.hex(40);
const uuid = `${f.hex(8)}-${f.hex(4)}-4${f.hex(3)}-a${f.hex(3)}-${f.hex(12)}`;

const own: Partial<Record<DetectorId, Vectors>> = {
  'aws-access-key-id': {
    tp: [
      { text: `aws_access_key_id = ${akid}`, secrets: [akid] },
      { text: `{"AccessKeyId":"${asia}","Expiration":"2030-01-01"}`, secrets: [asia] },
      { text: `GET /obj?X-Amz-Credential=${akid}%2F20240101%2Fus-east-1`, secrets: [akid] },
    ],
    fp: [
      `key AKIA${r.chars(UPPER, 15)} end`,
      `id AKIA${r.chars(UPPER, 17)}`,
      `akia${r.chars(LOWER, 16)}`,
      `XAKIA${r.chars(UPPER, 16)}`,
      `AKIA-${r.chars(UPPER, 16)}`,
      'Travel to ASIA is fun',
    ],
  },
  'aws-secret-access-key': {
    tp: [
      { text: `aws_secret_access_key = ${awsSecret}`, secrets: [awsSecret] },
      { text: `AWS_SECRET_ACCESS_KEY: "${awsSecret}"\nregion: eu-west-1`, secrets: [awsSecret] },
      { text: `the AWS secret is ${awsSecret} for prod`, secrets: [awsSecret] },
      { text: `"SecretAccessKey": "${awsSecret}"`, secrets: [awsSecret] },
    ],
    fp: [
      `aws commit ${sha}`,
      `value: ${awsSecret}`,
      `aws ${'x '.repeat(40)}${awsSecret}`,
      `aws_secret=${awsSecret}A`,
      `secret: ${awsSecret}==`,
      `aws\n${awsSecret}`,
      `secret ${uuid}`,
    ],
  },
  'github-token': {
    tp: [
      { text: `Authorization: token ${ghp}`, secrets: [ghp] },
      { text: `GITHUB_TOKEN=${ghs}`, secrets: [ghs] },
      { text: `https://x-access-token:${ghs}@github.com/org/repo.git`, secrets: [ghs] },
      { text: `${gho} ${ghu} ${ghr}`, secrets: [gho, ghu, ghr] },
      { text: `fine-grained: ${pat}.`, secrets: [pat] },
    ],
    fp: [
      `ghp_${f.alnum(35)}`,
      `xghp_${f.alnum(36)}`,
      `ghx_${f.alnum(36)}`,
      `ghp_${f.alnum(20)}-${f.alnum(16)}`,
      'github_pat_short',
    ],
  },
  'gitlab-token': {
    tp: [
      { text: `PRIVATE-TOKEN: ${glpat}`, secrets: [glpat] },
      { text: `runner token ${glrt} registered`, secrets: [glrt] },
      { text: `{"token":"${glpat}"}`, secrets: [glpat] },
    ],
    fp: ['glpat-short', `glpat_${f.alnum(20)}`, `myglpat-${f.alnum(20)}`, `glpat-${f.alnum(19)}`],
  },
  'slack-token': {
    tp: [
      { text: `SLACK_BOT_TOKEN=${xoxb}`, secrets: [xoxb] },
      { text: `user token ${xoxp} expired`, secrets: [xoxp] },
      { text: `refresh: ${xoxe}`, secrets: [xoxe] },
    ],
    fp: ['xoxb-not-a-token', 'xoxb-1234', `xoxz-123-456-${f.alnum(12)}`, 'xoxb-123-456-short', 'Xoxo, Gossip Girl'],
  },
  'slack-webhook': {
    tp: [
      { text: `https://hooks.slack.com/services/${hook1}`, secrets: [hook1] },
      { text: `{"url":"https://hooks.slack.com/services/${hook2}","channel":"#ops"}`, secrets: [hook2] },
      { text: `post to hooks.slack.com/workflows/${hook1} now`, secrets: [hook1] },
    ],
    fp: [
      'https://hooks.slack.com/',
      'see https://hooks.slack.com/services/ for details',
      'hooks.slack.com/services/T123',
      'https://api.slack.com/messaging/webhooks',
    ],
  },
  'stripe-key': {
    tp: [
      { text: `STRIPE_SECRET_KEY=${skLive}`, secrets: [skLive] },
      { text: `test mode ${skTest} ok`, secrets: [skTest] },
      { text: `restricted: "${rkLive}"`, secrets: [rkLive] },
      { text: `endpoint secret ${whsec}`, secrets: [whsec] },
    ],
    fp: [`pk_live_${f.alnum(24)}`, 'sk_live_short', `sk_prod_${f.alnum(24)}`, `task_live_${f.alnum(24)}`],
  },
  'anthropic-key': {
    tp: [
      { text: `ANTHROPIC_API_KEY=${anthropic}`, secrets: [anthropic] },
      { text: `x-api-key: ${anthropicAdmin}`, secrets: [anthropicAdmin] },
      { text: `{"key":"${anthropic}"}`, secrets: [anthropic] },
    ],
    fp: ['sk-ant-', 'sk-ant-api03-short', `sk-ant-api-${f.alnum(40)}`, openai],
  },
  'openai-key': {
    tp: [
      { text: `OPENAI_API_KEY=${openai}`, secrets: [openai] },
      { text: `key: ${openaiProj}`, secrets: [openaiProj] },
      { text: `"${openaiSvc}"`, secrets: [openaiSvc] },
    ],
    fp: [
      'pip install scikit-learn sk-learn',
      `the risk-${f.alnum(48)}`,
      `sk-${f.alnum(47)}`,
      anthropic,
      'sk-proj-short',
      'desk-top sk- and sk-1',
    ],
  },
  'google-api-key': {
    tp: [
      { text: `https://maps.googleapis.com/maps/api/geocode/json?key=${gkey}&address=x`, secrets: [gkey] },
      { text: `{"apiKey":"${gkey2}"}`, secrets: [gkey2] },
      { text: `GOOGLE_API_KEY=${gkey}`, secrets: [gkey] },
    ],
    fp: [
      `AIza${r.chars(ALNUM, 34)}`,
      `AIza${r.chars(ALNUM, 36)}`,
      `aiza${r.chars(ALNUM, 35)}`,
      `AIZA${r.chars(ALNUM, 35)}`,
    ],
  },
  'google-service-account': {
    tp: [
      { text: saJsonPretty, secrets: [saKeyEscaped] },
      { text: saJsonMin, secrets: [saKeyEscaped] },
      { text: `creds: ${saJsonMin} (rotated)`, secrets: [saKeyEscaped] },
    ],
    fp: [
      '{"type": "service_account", "private_key": ""}',
      '{"private_key": "-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----\\n"}',
      `{"private_key_id": "${f.hex(40)}"}`,
      '{"private_key": "stored in vault"}',
    ],
  },
  'azure-storage-key': {
    tp: [
      {
        text: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${azure};EndpointSuffix=core.windows.net`,
        secrets: [azure],
      },
      { text: `AccountKey=${azure2}`, secrets: [azure2] },
      { text: `{"conn":"AccountName=x;AccountKey=${azure}"}`, secrets: [azure] },
    ],
    fp: [
      `AccountKey=${r.chars(BASE64, 86)}`,
      'AccountKey=<your-key>',
      `AccountKey=${r.chars(BASE64, 90)}==`,
      'AccountName=acct;EndpointSuffix=core.windows.net',
    ],
  },
  jwt: {
    tp: [
      { text: `Authorization: Bearer ${jwt}`, secrets: [jwt] },
      { text: `https://app.example.com/cb?id_token=${jwtHs}&state=x`, secrets: [jwtHs] },
      { text: `unsigned ${jwtNone} token`, secrets: [jwtNone] },
      { text: `{"token":"${jwt}"}`, secrets: [jwt] },
    ],
    fp: [
      'eyJhbGciOiJIUzI1NiJ9',
      `${Buffer.from('{"foo":1}').toString('base64url')}.${Buffer.from('{"bar":2}').toString('base64url')}.c2ln`,
      'eyJhbGciOg.abc.def',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0',
    ],
  },
  'private-key': {
    tp: [
      { text: `key:\n${rsa}\nend`, secrets: [rsa] },
      { text: `${pkcs8}\n${openssh}`, secrets: [pkcs8, openssh] },
      { text: `{"k":"${JSON.stringify(ec).slice(1, -1)}"}`, secrets: [JSON.stringify(ec).slice(1, -1)] },
      { text: `[${pgp}]`, secrets: [pgp] },
      {
        text: `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${b64body}\n-----END ENCRYPTED PRIVATE KEY-----`,
        secrets: [`-----BEGIN ENCRYPTED PRIVATE KEY-----\n${b64body}\n-----END ENCRYPTED PRIVATE KEY-----`],
      },
      // Cut off before its END line: masked up to where the text stops looking like a key.
      { text: `-----BEGIN RSA PRIVATE KEY-----\n${b64body}`, secrets: [`-----BEGIN RSA PRIVATE KEY-----\n${b64body}`] },
      {
        text: `"-----BEGIN RSA PRIVATE KEY-----\\n${b64body}", "x": 1`,
        secrets: [`-----BEGIN RSA PRIVATE KEY-----\\n${b64body}`],
      },
    ],
    fp: [
      `-----BEGIN CERTIFICATE-----\n${b64body}\n-----END CERTIFICATE-----`,
      `-----BEGIN PUBLIC KEY-----\n${b64body}\n-----END PUBLIC KEY-----`,
      `-----BEGIN RSA PUBLIC KEY-----\n${b64body}\n-----END RSA PUBLIC KEY-----`,
      'BEGIN PRIVATE KEY',
      'the -----BEGIN PRIVATE KEY line and more',
    ],
  },
  'uri-password': {
    tp: [
      { text: 'postgres://app:s3cr3t-pw@db.internal:5432/app', secrets: ['s3cr3t-pw'] },
      { text: 'REDIS_URL=redis://:hunter2hunter2@cache:6379/0', secrets: ['hunter2hunter2'] },
      { text: 'https://user:p@ss:word@example.com/path', secrets: ['p@ss:word'] },
      { text: '"mongodb+srv://admin:Zx9-q@cluster0.example.net/?retryWrites=true"', secrets: ['Zx9-q'] },
    ],
    fp: [
      'https://example.com:8443/path',
      'ftp://anonymous@ftp.example.com',
      'postgres://user:****@host',
      'postgres://app:${DB_PASSWORD}@db:5432',
      'https://host/path?email=a:b@c.com',
      'mailto:user:x@example.com',
      'https://user:@host/x',
    ],
  },
  'bearer-token': {
    tp: [
      { text: 'Authorization: Bearer abc123def456ghi789', secrets: ['abc123def456ghi789'] },
      { text: `curl -H "Authorization: bearer ${bearer40}" https://api`, secrets: [bearer40] },
      { text: '{"Authorization":"Bearer ya29.a0AfH6SMBx3-1x_Zy"}', secrets: ['ya29.a0AfH6SMBx3-1x_Zy'] },
    ],
    fp: [
      'the bearer of bad news',
      'Authorization: Bearer <token>',
      'Authorization: Bearer YOUR_TOKEN_HERE',
      'token_type: bearer',
      'WWW-Authenticate: Bearer realm="api"',
      'Bearer instrument',
    ],
  },
  'secret-assignment': {
    tp: [
      { text: 'password=hunter2', secrets: ['hunter2'] },
      { text: 'DB_PASSWORD: "correct horse"', secrets: ['correct horse'] },
      { text: "api_key = 'abc123'", secrets: ['abc123'] },
      { text: 'grant_type=client_credentials&client_secret=xyz987&scope=a', secrets: ['xyz987'] },
      { text: '{"password": "hunter2", "user": "bob"}', secrets: ['hunter2'] },
      { text: 'spring.datasource.password=s3cr3t\nPGPASSWORD=pg-secret', secrets: ['s3cr3t', 'pg-secret'] },
      { text: 'secret_key: AbCdEf', secrets: ['AbCdEf'] },
    ],
    fp: [
      'max_tokens: 4096',
      'secretName: db-creds',
      'password_hint: pet name',
      'password: true',
      'password=',
      'tokens = 5',
      'PWD=/home/user',
      'token_type: bearer',
      'password: ${DB_PASSWORD}',
    ],
  },
  email: {
    tp: [
      { text: 'contact: jane.doe@example.com', secrets: ['jane.doe@example.com'] },
      { text: '<a href="mailto:bob+tag@sub.example.co.uk">', secrets: ['bob+tag@sub.example.co.uk'] },
      { text: '{"email":"x_y@corp.io"}', secrets: ['x_y@corp.io'] },
    ],
    fp: ['@handle', 'user@localhost', 'name@domain.c', 'npm i @scope/pkg', 'a@b'],
  },
  'payment-card': {
    tp: [
      { text: 'card 4111 1111 1111 1111 exp 12/30', secrets: ['4111 1111 1111 1111'] },
      { text: 'mc: 5555-5555-5555-4444.', secrets: ['5555-5555-5555-4444'] },
      { text: 'amex 378282246310005', secrets: ['378282246310005'] },
      { text: '{"pan":"4012888888881881"}', secrets: ['4012888888881881'] },
    ],
    fp: [
      '4111 1111 1111 1112',
      'id 411111111111',
      'ts 1700000000000',
      '4111111111111111111111',
      'v1.4111111111111111',
      `uuid ${uuid}`,
    ],
  },
  iban: {
    tp: [
      { text: 'IBAN GB82 WEST 1234 5698 7654 32 (GBP)', secrets: ['GB82 WEST 1234 5698 7654 32'] },
      { text: 'DE89370400440532013000', secrets: ['DE89370400440532013000'] },
      { text: 'pay to FR14 2004 1010 0505 0001 3M02 606.', secrets: ['FR14 2004 1010 0505 0001 3M02 606'] },
      { text: '{"iban":"NL91ABNA0417164300"}', secrets: ['NL91ABNA0417164300'] },
    ],
    fp: [
      'GB82 WEST 1234 5698 7654 33',
      'DE89 3704 0044 0532 0130 0',
      'XX82WEST12345698765432',
      'gb82west12345698765432',
      'DE89370400440532013000X',
    ],
  },
  'us-ssn': {
    tp: [
      { text: 'SSN 219-45-6789 on file', secrets: ['219-45-6789'] },
      { text: '{"ssn":"536-22-1234"}', secrets: ['536-22-1234'] },
      { text: 'ssn: 772 10 5520.', secrets: ['772 10 5520'] },
    ],
    fp: [],
  },
  'phone-number': {
    tp: [
      { text: 'call +14155552671 today', secrets: ['+14155552671'] },
      { text: '{"phone":"+44 20 7946 0958"}', secrets: ['+44 20 7946 0958'] },
      { text: 'mobile: +49-151-2345-6789.', secrets: ['+49-151-2345-6789'] },
    ],
    fp: [],
  },
};

/** These vectors and those of every generated format kind, per detector. */
const vectors: Record<string, Vectors> = {};
for (const source of [own, formatVectors()]) {
  for (const [id, v] of Object.entries(source)) {
    const into = (vectors[id] ??= { tp: [], fp: [] });
    into.tp.push(...v.tp);
    into.fp.push(...v.fp);
  }
}

function expected(text: string, secrets: string[], rule: string): string {
  let out = text;
  for (const s of secrets) {
    const at = out.indexOf(s);
    if (at < 0) throw new Error(`vector secret not in its text: ${s}`);
    out = out.slice(0, at) + `[MASKED:${rule}]` + out.slice(at + s.length);
  }
  return out;
}

describe('detectors', () => {
  it('every detector has at least three true and three false positive vectors', () => {
    for (const id of DETECTOR_IDS) {
      expect(vectors[id].tp.length).toBeGreaterThanOrEqual(3);
      expect(vectors[id].fp.length).toBeGreaterThanOrEqual(3);
    }
  });

  describe.each(DETECTOR_IDS.map((id) => [id]))('%s', (id) => {
    const alone = new Masker({ fieldNames: [], detectors: [id] });

    it.each(vectors[id].tp.map((v, i) => [i, v] as const))('masks true positive %i', (_i, v) => {
      const { text, counts } = alone.maskText(v.text);
      expect(text).toBe(expected(v.text, v.secrets, id));
      expect(counts).toEqual({ [id]: v.secrets.length });
    });

    it.each(vectors[id].fp.map((text, i) => [i, text] as const))('leaves false positive %i alone', (_i, text) => {
      expect(alone.maskText(text)).toEqual({ text, counts: {} });
    });
  });

  it('with every detector on, no true positive survives', () => {
    const all = new Masker(resolveMaskingRules(['secrets', 'pii']));
    for (const id of DETECTOR_IDS) {
      for (const v of vectors[id].tp) {
        const { text } = all.maskText(v.text);
        for (const s of v.secrets) expect(text).not.toContain(s);
      }
    }
  });

  it('keeps every match within the streaming window and context', () => {
    for (const d of DETECTORS) {
      if (d.id !== 'private-key') expect(d.reach).toBeLessThanOrEqual(32 * 1024);
      expect(d.lead).toBeLessThanOrEqual(d.reach);
      expect(d.anchors.length > 0 || d.minDigits !== undefined).toBe(true);
    }
  });

  it('has one detector per id, in priority order', () => {
    expect(DETECTORS.map((d) => d.id)).toEqual([...DETECTOR_IDS]);
  });
});

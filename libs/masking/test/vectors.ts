/**
 * Detector vectors built from the format generators: each kind in three settings (an environment
 * line, a JSON member, a sentence), and look-alikes that must stay as they are.
 */
import type { DetectorId } from '../src/rules';
import { ALNUM, BASE64, HEX, LOWER, Rng } from './fakes';
import { checksummed, coreOf, FORMATS } from './formats';

export interface Vectors {
  /** Each text with the substrings that must be masked. */
  tp: Array<{ text: string; secrets: string[] }>;
  fp: string[];
}

function jsonInner(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** Look-alikes per detector: near misses a person would write, or the same shape without its mark. */
function lookAlikes(r: Rng): Partial<Record<DetectorId, string[]>> {
  const npm = checksummed('npm_', r);
  const ghp = checksummed('ghp_', r);
  const flip = (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
  return {
    'aws-session-token': ['IQoJb3JpZ2luX2Vj', `FwoGZXIvYXdzE${r.chars(BASE64, 40)}`, 'aws session token: <redacted>'],
    'atlassian-token': [`ATBB${r.chars(ALNUM, 31)}`, 'ATATT3 short', `XATBB${r.chars(ALNUM, 32)}`],
    'circleci-token': [
      `CCIPAT_${r.chars(ALNUM, 22)}`,
      `CCIPAT_${r.chars(ALNUM, 22)}_${r.chars(HEX, 39)}`,
      'circleci token: <your-token>',
    ],
    'buildkite-token': [`bkua_${r.chars(HEX, 39)}`, `bkua_${r.chars(ALNUM, 40)}x`, 'bkua_'],
    'npm-token': [flip(npm), `npm_${r.chars(ALNUM, 35)}`, 'npm_config_cache=/tmp/npm'],
    'pypi-token': ['pypi-AgEIcHlwaS5vcmc', `pypi-${r.chars(ALNUM, 60)}`, 'pip install pypi-simple'],
    'rubygems-token': [`rubygems_${r.chars(HEX, 47)}`, 'rubygems_version: 3.4.10', `rubygems_${r.chars(ALNUM, 48)}`],
    'nuget-key': [`oy2${'a'.repeat(43)}`, `oy2${r.chars(LOWER, 42)}`, 'boy2 toy2 joy2'],
    'docker-hub-token': ['dckr_pat_short', `dckr_xyz_${r.chars(ALNUM, 27)}`, 'docker login -u me --password-stdin'],
    'crates-io-token': [`cio${'a'.repeat(32)}`, 'Francisco precious ciao', `cio${r.chars(LOWER, 32)}`],
    'jfrog-token': [`AKCp${r.chars(ALNUM, 60)}`, 'AKCp', `cmVmdGtu${r.chars(ALNUM, 20)}`],
    'discord-bot-token': [
      `MTA${r.chars(ALNUM, 21)}.${r.chars(ALNUM, 6)}.${r.chars(ALNUM, 30)}`,
      'discord bot token: <paste here>',
      `${Buffer.from('hello world here!!').toString('base64url')}.abcdef.${r.chars(ALNUM, 30)}`,
    ],
    'discord-webhook': [
      'https://discord.com/api/webhooks/',
      'https://discord.com/api/webhooks/123/abc',
      'see discord.com/developers/docs',
    ],
    'telegram-bot-token': [`123456789:AA${'a'.repeat(33)}`, '12:30:AA meeting', `123456789:BB${r.chars(ALNUM, 33)}`],
    'teams-webhook': [
      'https://contoso.webhook.office.com/webhookb2/',
      'webhook.office.com/webhookb2/not-a-uuid',
      'https://outlook.office.com/mail',
    ],
    'sendgrid-key': ['SG.short.key', `SG.${r.chars(ALNUM, 22)}.${r.chars(ALNUM, 42)}`, 'msg.sg.example.com'],
    'mailgun-key': ['key-value store', `key-${'0'.repeat(32)}`, `key-${r.chars(HEX, 31)}`],
    'mailchimp-key': ['en-us locale', `${'0'.repeat(32)}-us6`, `${r.chars(HEX, 31)}-us6`],
    'brevo-key': ['xkeysib-short', `xkeysib-${r.chars(HEX, 64)}`, 'brevo api key: <your-key>'],
    'postmark-token': [
      `postmark message id ${r.chars(HEX, 8)}`,
      'POSTMARK_SERVER_TOKEN=<token>',
      `postmark: ${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`,
    ],
    'twilio-key': [`SK${'0'.repeat(32)}`, 'ACCOUNT access ACE SKU', `twilio sid AC${r.chars(HEX, 31)}`],
    'vonage-key': ['VONAGE_API_SECRET=changeme', 'vonage: aaaaaaaa', 'nexmo sdk version 2.0'],
    'square-token': ['sq0atp-short', `EAAB${r.chars(ALNUM, 60)}`, 'EAAA too short'],
    'braintree-token': ['access_token$production$', 'access_token$production$abc$def', 'access_token=none'],
    'shopify-token': [`shpat_${r.chars(HEX, 31)}`, `shpat_${r.chars(LOWER, 32)}x`, 'shpat_'],
    'datadog-key': [
      'DATADOG_SITE=datadoghq.eu',
      `datadog trace id ${r.chars('0123456789', 20)}`,
      `DD_API_KEY=${'0'.repeat(32)}`,
    ],
    'newrelic-key': ['NRAK-SHORT', `NRAK-${r.chars(ALNUM, 26)}`, 'NRAL is a word'],
    'sentry-dsn': [
      'https://sentry.io/organizations/acme/',
      `https://${r.chars(HEX, 31)}@o1.ingest.sentry.io/1`,
      'sentry dsn: <your-dsn>',
    ],
    'sentry-token': [`sntryu_${r.chars(HEX, 63)}`, 'sntrys_short', `sntryu_${r.chars(ALNUM, 64)}`],
    'grafana-token': ['glc_short', `glsa_${r.chars(ALNUM, 32)}_${r.chars(HEX, 7)}`, `glc_${'a'.repeat(40)}`],
    'honeycomb-key': ['HONEYCOMB_DATASET=prod', `hcaik_${r.chars(LOWER, 40)}`, 'honeycomb team: my-team'],
    'dynatrace-token': ['dt0c01.SHORT.SHORT', `dt0c01.${r.chars(ALNUM, 24)}`, 'dt0c01'],
    'vault-token': ['hvs.short', `hvs.${'a'.repeat(30)}`, 'VAULT_ADDR=https://vault.internal:8200'],
    'doppler-token': ['dp.st.short', `dp.pt.${r.chars(ALNUM, 20)}`, 'doppler run -- npm start'],
    'onepassword-token': ['ops_eyJ', `ops_${r.chars(ALNUM, 50)}`, 'OP_CONNECT_HOST=http://localhost:8080'],
    'infisical-token': ['st.short', 'first. last. best.', `st.${r.chars(HEX, 36)}.${r.chars(HEX, 32)}`],
    'digitalocean-token': [`dop_v1_${r.chars(HEX, 63)}`, 'dop_v1_', `doo_v2_${r.chars(HEX, 64)}`],
    'heroku-key': ['HEROKU_APP_NAME=my-app', 'HRKU-short', `heroku release v${r.int(100)}`],
    'linode-token': [
      'LINODE_REGION=eu-central',
      `linode id ${r.chars('0123456789', 8)}`,
      `LINODE_TOKEN=${'0'.repeat(64)}`,
    ],
    'hetzner-token': ['HCLOUD_LOCATION=fsn1', `hetzner server cx${r.int(50)}`, 'HCLOUD_TOKEN=<your-token>'],
    'cloudflare-key': ['CLOUDFLARE_ZONE=example.com', 'cloudflare api token: <token>', `v1.0-${r.chars(HEX, 24)}`],
    'fastly-token': ['FASTLY_SERVICE=www', 'fastly purge all', `FASTLY_API_TOKEN=${'x'.repeat(32)}`],
    'netlify-token': ['NETLIFY_SITE_ID=my-site', 'nfp_short', `netlify deploy --prod`],
    'vercel-token': ['VERCEL_ORG=acme', 'vercel --prod', `VERCEL_TOKEN=${'a'.repeat(24)}`],
    'flyio-token': ['fm2_short', 'FlyV1 fm2_', 'fly deploy --app x'],
    'terraform-token': ['x.atlasv1.y', `${r.chars(ALNUM, 14)}.atlasv1.short`, 'app.terraform.io/app/acme'],
    'pulumi-token': [`pul-${r.chars(HEX, 39)}`, 'pul-request', `pul-${r.chars(ALNUM, 40)}x`],
    'databricks-token': [`dapi${'0'.repeat(32)}`, 'dapi', `dapi${r.chars(HEX, 31)}`],
    'linear-key': ['lin_api_short', `lin_api_${r.chars(ALNUM, 39)}`, 'linear api: <key>'],
    'notion-token': ['secret_sauce', `ntn_${r.chars(ALNUM, 20)}`, `secret_${'a'.repeat(43)}`],
    'postman-key': ['PMAK-short', `PMAK-${r.chars(HEX, 24)}`, 'postman collection run'],
    'age-secret-key': ['AGE-SECRET-KEY-1', `AGE-SECRET-KEY-1${'B'.repeat(58)}`, 'age public key age1qqq'],
    'google-oauth-token': ['ya29.short', 'GOCSPX-short', 'refresh token: 1//short'],
    'azure-sas-token': [`?sig=${r.chars(ALNUM, 43)}`, 'sig=short&sv=2022', 'signature sig=abc'],
    'huggingface-token': [`hf_${'a'.repeat(34)}`, 'hf_hub_download', `hf_${r.chars(LOWER, 34)}`],
    'groq-key': [`gsk_${r.chars(ALNUM, 51)}`, 'gsk_short', 'gsk_'],
    'replicate-token': [`r8_${'a'.repeat(37)}`, 'r8_short', `r8_${r.chars(ALNUM, 36)}`],
    'perplexity-key': [`pplx-${r.chars(ALNUM, 47)}`, 'pplx-short', 'pplx-api'],
    'xai-key': [`xai-${r.chars(ALNUM, 79)}`, 'xai-short', 'xai-grok'],
    'cohere-key': ['COHERE_MODEL=command-r', 'cohere embed v3', `COHERE_API_KEY=${'a'.repeat(40)}`],
    'mistral-key': ['MISTRAL_MODEL=mistral-large', 'mistral 7b instruct', `MISTRAL_API_KEY=${'0'.repeat(32)}`],
    'basic-auth': [
      'basic usage',
      'Authorization: Basic realm="x"',
      `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
    ],
    'us-ssn': ['000-12-3456', '666-12-3456', '123-00-4567', '900-12-3456', '123-45-0000', '078-05-1120', '2024-01-15'],
    'phone-number': ['+1 23', 'version +1234', 'call 555-0100', '+12345678901234567'],
    'github-token': [flip(ghp)],
  };
}

/** Vectors for every kind of {@link FORMATS}, grouped by the detector that must find them. */
export function formatVectors(seed = 11): Partial<Record<DetectorId, Vectors>> {
  const r = new Rng(seed);
  const out: Partial<Record<DetectorId, Vectors>> = {};
  for (const format of FORMATS) {
    const v = format.make(r);
    const core = coreOf(format.kind, v);
    const entry = (out[format.rule] ??= { tp: [], fp: [] });
    entry.tp.push(
      { text: `${format.envName}=${v}`, secrets: [core] },
      { text: `{"${format.envName.toLowerCase()}": "${jsonInner(v)}"}`, secrets: [jsonInner(core)] },
    );
    if (format.configOnly !== true) {
      entry.tp.push({ text: `Here is the ${format.label}: ${v} (rotate it after the demo).`, secrets: [core] });
    } else {
      entry.tp.push({ text: `settings:\n  ${format.envName.toLowerCase()}: '${v}'\n`, secrets: [core] });
    }
  }
  for (const [id, fp] of Object.entries(lookAlikes(r)) as Array<[DetectorId, string[]]>) {
    (out[id] ??= { tp: [], fp: [] }).fp.push(...fp);
  }
  return out;
}

/**
 * Credential formats of particular services: package registries, chat, e-mail and SMS, payments,
 * observability, secret stores, infrastructure and AI providers, source hosting and CI.
 *
 * Most formats carry a prefix, which is the detector's anchor; where a format has a checksum or
 * an inner structure (a CRC-32 in base 62, a base64 user id, a decodable header) the match must
 * pass it. Formats without any mark (a bare hex key) are found only after a key that names their
 * service ({@link contextPattern}). Every quantifier is bounded and every pattern begins with a
 * literal or a short class, so no input makes a pattern backtrack more than linearly.
 */
import { base62CrcValid, basicCredentials, discordIdPart, entropy } from './checksums';
import type { Detector } from './detectors';
import { contextLead, contextPattern, looksRandom, mixedCase, patternDetector, type Pattern } from './pattern';
import type { DetectorId } from './rules';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** A prefixed token: `anchors` as the literal prefixes, `body` the pattern (with its boundaries). */
function prefixed(
  id: DetectorId,
  anchors: readonly string[],
  re: RegExp,
  reach: number,
  accept?: (m: RegExpExecArray) => boolean,
): Detector {
  return patternDetector({ id, anchors, reach, patterns: [{ re, accept }] });
}

/** A service whose keys are marked only by the key name in front of them. */
function contextual(
  id: DetectorId,
  keywords: readonly string[],
  value: string,
  valueMax: number,
  extra: Pattern[] = [],
): Detector {
  const lead = contextLead(keywords);
  return patternDetector({
    id,
    anchors: keywords,
    reach: lead + valueMax + 1,
    lead,
    keyed: true,
    patterns: [...extra, contextPattern(keywords, value)],
  });
}

export const VENDOR_DETECTORS: readonly Detector[] = [
  // --- package registries ---------------------------------------------------------------------
  prefixed('npm-token', ['npm_'], /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g, 42, (m) =>
    base62CrcValid(m[0].slice(4)),
  ),
  prefixed(
    'pypi-token',
    ['pypi-AgE'],
    /(?<![A-Za-z0-9_-])pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1024}(?![A-Za-z0-9_-])/g,
    1 + 8 + 19 + 1024 + 1,
  ),
  prefixed('rubygems-token', ['rubygems_'], /(?<![A-Za-z0-9_])rubygems_[a-f0-9]{48}(?![A-Za-z0-9_])/g, 59),
  prefixed('nuget-key', ['oy2'], /(?<![A-Za-z0-9])oy2[a-z0-9]{43}(?![A-Za-z0-9])/g, 48, (m) => looksRandom(m[0])),
  prefixed(
    'docker-hub-token',
    ['dckr_pat_', 'dckr_oat_'],
    /(?<![A-Za-z0-9_])dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,64}(?![A-Za-z0-9_-])/g,
    75,
  ),
  patternDetector({
    id: 'crates-io-token',
    // `cio` begins too many words to be an anchor: crates.io tokens are found next to Cargo's names.
    anchors: ['cargo_registry', 'crates.io', 'crates-io', 'cargo_token'],
    keyed: true,
    reach: contextLead(['cargo_registry']) + 37,
    lead: contextLead(['cargo_registry']),
    patterns: [{ re: /(?<![A-Za-z0-9])cio[A-Za-z0-9]{32}(?![A-Za-z0-9])/g, accept: (m) => looksRandom(m[0].slice(3)) }],
  }),
  prefixed(
    'jfrog-token',
    ['AKCp', 'cmVmdGtu'],
    /(?<![A-Za-z0-9])(?:AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAx[A-Za-z0-9]{52})(?![A-Za-z0-9])/g,
    75,
  ),

  // --- source hosting and CI ------------------------------------------------------------------
  prefixed(
    'atlassian-token',
    ['ATBB', 'ATATT3', 'ATCTT3'],
    /(?<![A-Za-z0-9_-])(?:ATBB[A-Za-z0-9]{32}|AT[AC]TT3[A-Za-z0-9_=-]{100,400})(?![A-Za-z0-9_=-])/g,
    1 + 6 + 400 + 1,
  ),
  prefixed(
    'circleci-token',
    ['CCIPAT_', 'CCIPRJ_'],
    /(?<![A-Za-z0-9_])CCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[a-f0-9]{40}(?![A-Za-z0-9_])/g,
    72,
  ),
  prefixed('buildkite-token', ['bkua_'], /(?<![A-Za-z0-9_])bkua_[a-f0-9]{40}(?![A-Za-z0-9_])/g, 47),

  // --- chat and bots --------------------------------------------------------------------------
  patternDetector({
    id: 'discord-bot-token',
    // The token's first part is a user id in base64 with nothing literal about it, and its first
    // characters (`MT`, `OD`, ...) begin too many words: bot tokens are found next to Discord's name.
    anchors: ['discord'],
    keyed: true,
    reach: contextLead(['discord']) + 1 + 28 + 1 + 6 + 1 + 40 + 1,
    lead: contextLead(['discord']),
    patterns: [
      {
        re: /(?<![A-Za-z0-9_.-])([MNO][A-Za-z0-9_-]{22,27})\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_.-])/g,
        accept: (m) => discordIdPart(m[1]),
      },
    ],
  }),
  patternDetector({
    id: 'discord-webhook',
    anchors: ['discord.com/api/webhooks/', 'discordapp.com/api/webhooks/'],
    reach: 28 + 20 + 1 + 68 + 1,
    lead: 28 + 20 + 1,
    patterns: [
      {
        re: /discord(?:app)?\.com\/api\/webhooks\/[0-9]{17,20}\/([A-Za-z0-9_-]{60,68})(?![A-Za-z0-9_-])/dg,
        group: 1,
      },
    ],
  }),
  prefixed(
    'telegram-bot-token',
    [':AA'],
    /(?<![0-9])[0-9]{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/g,
    1 + 10 + 3 + 33 + 1,
    (m) => entropy(m[0].slice(-33)) > 3,
  ),
  patternDetector({
    id: 'teams-webhook',
    anchors: ['webhook.office.com/webhookb2/'],
    reach: 29 + 36 + 1 + 36 + 17 + 32 + 1 + 36 + 66,
    lead: 29,
    patterns: [
      {
        re: new RegExp(
          `webhook\\.office\\.com\\/webhookb2\\/(${UUID}@${UUID}\\/IncomingWebhook\\/[0-9a-f]{32}\\/${UUID}(?:\\/[A-Za-z0-9_-]{1,64})?)`,
          'dg',
        ),
        group: 1,
      },
    ],
  }),

  // --- e-mail and SMS ---------------------------------------------------------------------------
  prefixed('sendgrid-key', ['SG.'], /(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, 71),
  prefixed('mailgun-key', ['key-'], /(?<![A-Za-z0-9_-])key-[0-9a-f]{32}(?![A-Za-z0-9_-])/g, 38, (m) =>
    looksRandom(m[0].slice(4)),
  ),
  prefixed(
    'mailchimp-key',
    ['-us1', '-us2', '-us3', '-us4', '-us5', '-us6', '-us7', '-us8', '-us9'],
    /(?<![A-Za-z0-9])[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])/g,
    38,
    (m) => looksRandom(m[0].slice(0, 32)),
  ),
  prefixed(
    'brevo-key',
    ['xkeysib-', 'xsmtpsib-'],
    /(?<![A-Za-z0-9_-])x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}(?![A-Za-z0-9_-])/g,
    92,
  ),
  contextual('postmark-token', ['postmark'], UUID, 36),
  patternDetector({
    id: 'twilio-key',
    keyed: true,
    // Bare SIDs (`AC`/`SK` and 32 hex digits) are identifiers rather than secrets and `AC`/`SK`
    // begin too many words to be anchors: Twilio credentials are found next to Twilio's name.
    anchors: ['twilio'],
    reach: contextLead(['twilio']) + 35,
    lead: contextLead(['twilio']),
    patterns: [
      { re: /(?<![A-Za-z0-9])(?:AC|SK)[0-9a-f]{32}(?![A-Za-z0-9])/g, accept: (m) => looksRandom(m[0].slice(2)) },
      contextPattern(['twilio'], '[0-9a-fA-F]{32}'),
    ],
  }),
  contextual('vonage-key', ['vonage', 'nexmo'], '[A-Za-z0-9]{8,32}', 32),

  // --- payments -------------------------------------------------------------------------------
  prefixed(
    'square-token',
    ['sq0atp-', 'sq0csp-', 'EAAA'],
    /(?<![A-Za-z0-9_-])(?:sq0atp-[A-Za-z0-9_-]{22}|sq0csp-[A-Za-z0-9_-]{43}|EAAA[A-Za-z0-9_-]{60})(?![A-Za-z0-9_-])/g,
    66,
  ),
  prefixed(
    'braintree-token',
    ['access_token$production$', 'access_token$sandbox$'],
    /access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}(?![A-Za-z0-9])/g,
    76,
  ),
  prefixed(
    'shopify-token',
    ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
    /(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9_])/g,
    40,
  ),

  // --- observability --------------------------------------------------------------------------
  contextual(
    'datadog-key',
    ['datadog', 'dd_api_key', 'dd-api-key', 'dd_app_key', 'dd-application-key', 'dd_application_key'],
    '[0-9a-fA-F]{40}|[0-9a-fA-F]{32}',
    40,
  ),
  patternDetector({
    id: 'newrelic-key',
    // License keys end in `NRAL`, a common letter pair: they count next to New Relic's name.
    anchors: ['NRAK-', 'NRJS-', 'NRII-', 'NRRA-', 'new_relic', 'newrelic', 'nr_license'],
    keyed: true,
    reach: 49,
    patterns: [
      {
        re: /(?<![A-Za-z0-9_-])(?:NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRII-[A-Za-z0-9_-]{32}|NRRA-[a-f0-9]{42}|[a-f0-9]{36}NRAL)(?![A-Za-z0-9_-])/g,
      },
    ],
  }),
  patternDetector({
    id: 'sentry-dsn',
    anchors: ['sentry.', 'ingest.'],
    reach: 3 + 65 + 1 + 128 + 8,
    lead: 3,
    patterns: [
      {
        re: /:\/\/([0-9a-f]{32}(?::[0-9a-f]{32})?)@[A-Za-z0-9.-]{0,128}(?:sentry|\.ingest\.)/dgi,
        group: 1,
      },
    ],
  }),
  prefixed(
    'sentry-token',
    ['sntrys_', 'sntryu_'],
    /(?<![A-Za-z0-9_])(?:sntryu_[a-f0-9]{64}|sntrys_eyJ[A-Za-z0-9+/=_-]{60,400})(?![A-Za-z0-9+/=_-])/g,
    1 + 10 + 400 + 1,
  ),
  prefixed(
    'grafana-token',
    ['glc_', 'glsa_'],
    /(?<![A-Za-z0-9_])(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[a-f0-9]{8})(?![A-Za-z0-9+/=_])/g,
    1 + 4 + 400 + 2 + 1,
    (m) => /[0-9]/.test(m[0]),
  ),
  patternDetector({
    id: 'honeycomb-key',
    keyed: true,
    anchors: ['hcaik_', 'hcxik_', 'hcamk_', 'hcxmk_', 'honeycomb'],
    encoded: ['hcaik_', 'hcxik_', 'honeycomb'],
    reach: contextLead(['honeycomb']) + 65,
    lead: contextLead(['honeycomb']),
    patterns: [
      { re: /(?<![A-Za-z0-9_])hc[ax][im]k_[a-z0-9]{58,64}(?![A-Za-z0-9_])/g },
      contextPattern(['honeycomb'], '[A-Za-z0-9]{22}|[A-Za-z0-9]{32}'),
    ],
  }),
  prefixed('dynatrace-token', ['dt0c01.'], /(?<![A-Za-z0-9_])dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}(?![A-Za-z0-9_])/g, 98),

  // --- secret stores ----------------------------------------------------------------------------
  prefixed(
    'vault-token',
    ['hvs.', 'hvb.', 'hvr.'],
    /(?<![A-Za-z0-9_.-])hv[sbr]\.[A-Za-z0-9_-]{24,400}(?![A-Za-z0-9_-])/g,
    406,
    (m) => looksRandom(m[0].slice(4)),
  ),
  prefixed(
    'doppler-token',
    ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'],
    /(?<![A-Za-z0-9_.-])dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{1,64}\.)?[A-Za-z0-9]{40,44}(?![A-Za-z0-9_-])/g,
    1 + 9 + 65 + 44 + 1,
  ),
  prefixed(
    'onepassword-token',
    ['ops_eyJ'],
    /(?<![A-Za-z0-9_-])ops_eyJ[A-Za-z0-9+/=_-]{100,2048}(?![A-Za-z0-9+/=_-])/g,
    1 + 7 + 2048 + 1,
  ),
  prefixed(
    'infisical-token',
    ['st.'],
    new RegExp(`(?<![A-Za-z0-9_.-])st\\.${UUID}\\.[0-9a-f]{32}\\.[0-9a-f]{32}(?![A-Za-z0-9_.-])`, 'g'),
    1 + 3 + 36 + 66 + 1,
  ),

  // --- infrastructure providers ----------------------------------------------------------------
  prefixed(
    'digitalocean-token',
    ['dop_v1_', 'doo_v1_', 'dor_v1_'],
    /(?<![A-Za-z0-9_])do[por]_v1_[a-f0-9]{64}(?![A-Za-z0-9_])/g,
    73,
  ),
  contextual('heroku-key', ['heroku'], UUID, 36, [
    { re: /(?<![A-Za-z0-9_-])HRKU-AA[A-Za-z0-9_-]{58}(?![A-Za-z0-9_-])/g },
  ]),
  contextual('linode-token', ['linode_'], '[0-9a-fA-F]{64}', 64),
  contextual('hetzner-token', ['hcloud', 'hetzner'], '[A-Za-z0-9]{64}', 64),
  patternDetector({
    id: 'cloudflare-key',
    keyed: true,
    // Origin CA keys (`v1.0-...`) count only near Cloudflare's name: `v1.0-` alone is a version.
    anchors: ['cloudflare', 'cf_api', 'x-auth-key'],
    encoded: ['cloudflare'],
    reach: 1 + 5 + 24 + 1 + 146 + 1 + contextLead(['cloudflare']),
    lead: contextLead(['cloudflare']),
    patterns: [
      { re: /(?<![A-Za-z0-9_.-])v1\.0-[a-f0-9]{24}-[a-f0-9]{146}(?![A-Za-z0-9_-])/g },
      contextPattern(['cloudflare', 'cf_api', 'x-auth-key'], '[A-Za-z0-9_-]{40}|[0-9a-f]{37}'),
    ],
  }),
  contextual('fastly-token', ['fastly'], '[A-Za-z0-9_-]{32}', 32),
  contextual('netlify-token', ['netlify'], '[A-Za-z0-9_-]{40,64}', 64, [
    { re: /(?<![A-Za-z0-9_])nf[pc]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g },
  ]),
  contextual('vercel-token', ['vercel'], '[A-Za-z0-9]{24}', 24),
  prefixed(
    'flyio-token',
    ['fm1a_', 'fm1r_', 'fm2_'],
    /(?<![A-Za-z0-9_])fm(?:1[ar]|2)_[A-Za-z0-9+/=_-]{100,2048}(?:,fm(?:1[ar]|2)_[A-Za-z0-9+/=_-]{100,2048}){0,3}(?![A-Za-z0-9+/=_-])/g,
    1 + 4 * 2054 + 1,
  ),
  prefixed(
    'terraform-token',
    ['.atlasv1.'],
    /(?<![A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}(?![A-Za-z0-9_=-])/g,
    1 + 14 + 9 + 70 + 1,
  ),
  prefixed('pulumi-token', ['pul-'], /(?<![A-Za-z0-9_-])pul-[a-f0-9]{40}(?![A-Za-z0-9_-])/g, 46),
  prefixed('databricks-token', ['dapi'], /(?<![A-Za-z0-9_])dapi[a-f0-9]{32}(?:-[0-9])?(?![A-Za-z0-9_-])/g, 40, (m) =>
    looksRandom(m[0].slice(4)),
  ),
  prefixed('linear-key', ['lin_api_'], /(?<![A-Za-z0-9_])lin_api_[A-Za-z0-9]{40}(?![A-Za-z0-9_])/g, 50),
  prefixed(
    'notion-token',
    ['ntn_', 'secret_'],
    /(?<![A-Za-z0-9_])(?:ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})(?![A-Za-z0-9_])/g,
    52,
    (m) => mixedCase(m[0]),
  ),
  prefixed('postman-key', ['PMAK-'], /(?<![A-Za-z0-9_-])PMAK-[a-f0-9]{24}-[a-f0-9]{34}(?![A-Za-z0-9_-])/g, 66),
  prefixed(
    'age-secret-key',
    ['AGE-SECRET-KEY-1'],
    /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}(?![A-Za-z0-9])/g,
    75,
  ),

  // --- cloud and AI providers ------------------------------------------------------------------
  prefixed(
    'google-oauth-token',
    // `ya29.` access tokens are matched once another anchor is there; alone they are bearer
    // tokens and `access_token` values, which other rules mask (`29.` is everywhere in numbers).
    ['GOCSPX-', '1//0'],
    /(?<![A-Za-z0-9_-])(?:GOCSPX-[A-Za-z0-9_-]{28}|ya29\.[A-Za-z0-9_-]{30,2048}|1\/\/0[A-Za-z0-9_-]{40,512})(?![A-Za-z0-9_-])/g,
    1 + 5 + 2048 + 1,
  ),
  prefixed(
    'aws-session-token',
    ['IQoJb3JpZ2luX2Vj', 'FwoGZXIvYXdzE'],
    /(?<![A-Za-z0-9+/])(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9+/]{100,4096}={0,2}(?![A-Za-z0-9+/=])/g,
    1 + 16 + 4096 + 3,
  ),
  patternDetector({
    id: 'azure-sas-token',
    anchors: ['sig='],
    encoded: ['&sig=', 'SharedAccessSignature'],
    reach: 1 + 4 + 120 + 6 + 1,
    lead: 5,
    patterns: [
      {
        re: /(?<=[?&;])sig=([A-Za-z0-9%+/]{40,120}(?:%3[Dd]|=){0,2})(?![A-Za-z0-9%+/=])/dg,
        group: 1,
        accept: (m) => /[?&;](?:sv|se|sp|sr|skoid)=/.test(m.input) || /SharedAccessSignature/i.test(m.input),
      },
    ],
  }),
  prefixed(
    'huggingface-token',
    ['hf_', 'api_org_'],
    /(?<![A-Za-z0-9_])(?:hf_|api_org_)[A-Za-z]{34}(?![A-Za-z0-9_])/g,
    44,
    (m) => mixedCase(m[0].slice(3)),
  ),
  prefixed('groq-key', ['gsk_'], /(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{52}(?![A-Za-z0-9_])/g, 58),
  prefixed('replicate-token', ['r8_'], /(?<![A-Za-z0-9_])r8_[A-Za-z0-9]{37}(?![A-Za-z0-9_])/g, 42, (m) =>
    looksRandom(m[0].slice(3)),
  ),
  prefixed('perplexity-key', ['pplx-'], /(?<![A-Za-z0-9_-])pplx-[A-Za-z0-9]{48}(?![A-Za-z0-9_-])/g, 55),
  prefixed('xai-key', ['xai-'], /(?<![A-Za-z0-9_-])xai-[A-Za-z0-9]{80}(?![A-Za-z0-9_-])/g, 86),
  contextual('cohere-key', ['cohere', 'co_api_key'], '[A-Za-z0-9]{40}', 40),
  // `mistral` and `linode` are made of common letter pairs: only the names configurations use count.
  contextual('mistral-key', ['mistral_', 'mistral-'], '[A-Za-z0-9]{32}', 32),

  // --- HTTP credentials -------------------------------------------------------------------------
  patternDetector({
    id: 'basic-auth',
    // `Basic` alone is a word; the header's name is the anchor.
    anchors: ['authorization'],
    keyed: true,
    encoded: [],
    reach: 1 + 5 + 16 + 2048 + 2 + 1,
    lead: 1 + 5 + 16,
    patterns: [
      {
        re: /(?<![A-Za-z0-9])(?:Basic|basic|BASIC)[ \t]{1,16}([A-Za-z0-9+/]{6,2048}={0,2})(?![A-Za-z0-9+/=])/dg,
        group: 1,
        accept: (m) => basicCredentials(m[1]),
      },
    ],
  }),
];

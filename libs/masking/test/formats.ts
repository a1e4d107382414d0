/**
 * Generators of format-valid fake credentials, one per kind, for the detector tests and the
 * detection benchmark. Every value is built at run time from a seeded generator (no token-shaped
 * literal sits in the sources), has the structure and checksum its format prescribes, and grants
 * nothing anywhere.
 */
import { base62, crc32 } from '../src/checksums';
import type { DetectorId } from '../src/rules';
import { ALNUM, BASE64, BASE64URL, DIGITS, HEX, LOWER, Rng, UPPER } from './fakes';

export interface Format {
  /** What the credential is, for reports: `github-pat-classic`, `npm-token`, ... */
  kind: string;
  /** The detector that must find it. */
  rule: DetectorId;
  /** The name a configuration gives it (an environment variable). */
  envName: string;
  /** How a person would call it in a sentence or a log line. */
  label: string;
  make(rng: Rng): string;
  /** Found only under the names configurations give it, not by the service's name in a sentence. */
  configOnly?: boolean;
}

function uuid(rng: Rng): string {
  const h = rng.chars(HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

/** A random part that surely has upper and lower case letters and a digit. */
function mixed(rng: Rng, alphabet: string, n: number): string {
  return rng.chars(UPPER, 1) + rng.chars(LOWER, 1) + rng.chars(DIGITS, 1) + rng.chars(alphabet, n - 3);
}

/** GitHub's and npm's format: 30 random base62 characters and their CRC-32 in base 62. */
export function checksummed(prefix: string, rng: Rng): string {
  const body = mixed(rng, ALNUM, 30);
  return `${prefix}${body}${base62(crc32(body), 6)}`;
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

function pemKey(rng: Rng, label: string, lines = 6): string {
  const body: string[] = [];
  for (let i = 0; i < lines; i++) body.push(rng.chars(BASE64, 64));
  return `-----BEGIN ${label}-----\n${body.join('\n')}\n-----END ${label}-----`;
}

function discordToken(rng: Rng): string {
  const id = `1${rng.chars('0123456789', 18)}`;
  return `${Buffer.from(id).toString('base64url')}.${rng.chars(BASE64URL, 6)}.${mixed(rng, BASE64URL, 38)}`;
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'.toUpperCase();

export const FORMATS: readonly Format[] = [
  { kind: 'aws-access-key-id', rule: 'aws-access-key-id', envName: 'AWS_ACCESS_KEY_ID', label: 'AWS access key id', make: (r) => `AKIA${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}` },
  { kind: 'aws-secret-access-key', rule: 'aws-secret-access-key', envName: 'AWS_SECRET_ACCESS_KEY', label: 'AWS secret access key', make: (r) => mixed(r, BASE64, 40) },
  { kind: 'aws-session-token', rule: 'aws-session-token', envName: 'AWS_SESSION_TOKEN', label: 'AWS session token', make: (r) => `IQoJb3JpZ2luX2Vj${r.chars(BASE64, 300)}` },
  { kind: 'gcp-api-key', rule: 'google-api-key', envName: 'GOOGLE_API_KEY', label: 'Google API key', make: (r) => `AIza${r.chars(BASE64URL, 35)}` },
  { kind: 'gcp-oauth-client-secret', rule: 'google-oauth-token', envName: 'GOOGLE_CLIENT_SECRET', label: 'Google OAuth client secret', make: (r) => `GOCSPX-${mixed(r, BASE64URL, 28)}` },
  { kind: 'gcp-oauth-access-token', rule: 'secret-assignment', envName: 'GOOGLE_ACCESS_TOKEN', label: 'Google access token', make: (r) => `ya29.${mixed(r, BASE64URL, 150)}` },
  { kind: 'azure-storage-connection-string', rule: 'azure-storage-key', envName: 'AZURE_STORAGE_CONNECTION_STRING', label: 'Azure storage connection string', make: (r) => `DefaultEndpointsProtocol=https;AccountName=acct${r.chars(LOWER, 6)};AccountKey=${r.chars(BASE64, 86)}==;EndpointSuffix=core.windows.net` },
  { kind: 'azure-service-bus-key', rule: 'azure-storage-key', envName: 'SERVICEBUS_CONNECTION', label: 'Service Bus connection string', make: (r) => `Endpoint=sb://ns${r.chars(LOWER, 6)}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${r.chars(BASE64, 43)}=` },
  { kind: 'azure-sas-url', rule: 'azure-sas-token', envName: 'AZURE_BLOB_SAS_URL', label: 'Azure SAS URL', make: (r) => `https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=${encodeURIComponent(r.chars(BASE64, 43) + '=')}` },
  { kind: 'github-pat-classic', rule: 'github-token', envName: 'GITHUB_TOKEN', label: 'GitHub token', make: (r) => checksummed('ghp_', r) },
  { kind: 'github-oauth-token', rule: 'github-token', envName: 'GH_OAUTH_TOKEN', label: 'GitHub OAuth token', make: (r) => checksummed('gho_', r) },
  { kind: 'github-app-token', rule: 'github-token', envName: 'GH_APP_INSTALLATION_TOKEN', label: 'GitHub App installation token', make: (r) => checksummed('ghs_', r) },
  { kind: 'github-fine-grained-pat', rule: 'github-token', envName: 'GH_PAT', label: 'GitHub fine-grained token', make: (r) => `github_pat_${mixed(r, ALNUM, 22)}_${mixed(r, ALNUM, 59)}` },
  { kind: 'gitlab-pat', rule: 'gitlab-token', envName: 'GITLAB_TOKEN', label: 'GitLab personal access token', make: (r) => `glpat-${mixed(r, ALNUM + '_-', 20)}` },
  { kind: 'gitlab-runner-token', rule: 'gitlab-token', envName: 'CI_RUNNER_TOKEN', label: 'GitLab runner token', make: (r) => `glrt-${mixed(r, ALNUM + '_-', 20)}` },
  { kind: 'gitlab-deploy-token', rule: 'gitlab-token', envName: 'GITLAB_DEPLOY_TOKEN', label: 'GitLab deploy token', make: (r) => `gldt-${mixed(r, ALNUM + '_-', 20)}` },
  { kind: 'bitbucket-app-password', rule: 'atlassian-token', envName: 'BITBUCKET_APP_PASSWORD', label: 'Bitbucket app password', make: (r) => `ATBB${mixed(r, ALNUM, 32)}` },
  { kind: 'atlassian-api-token', rule: 'atlassian-token', envName: 'JIRA_API_TOKEN', label: 'Atlassian API token', make: (r) => `ATATT3xFfGF0${mixed(r, ALNUM + '_-', 170)}=${r.chars(HEX, 8).toUpperCase()}` },
  { kind: 'circleci-pat', rule: 'circleci-token', envName: 'CIRCLE_TOKEN', label: 'CircleCI token', make: (r) => `CCIPAT_${mixed(r, ALNUM, 22)}_${r.chars(HEX, 40)}` },
  { kind: 'buildkite-token', rule: 'buildkite-token', envName: 'BUILDKITE_API_TOKEN', label: 'Buildkite API token', make: (r) => `bkua_${r.chars(HEX, 40)}` },
  { kind: 'npm-token', rule: 'npm-token', envName: 'NPM_TOKEN', label: 'npm token', make: (r) => checksummed('npm_', r) },
  { kind: 'pypi-token', rule: 'pypi-token', envName: 'PYPI_API_TOKEN', label: 'PyPI token', make: (r) => `pypi-AgEIcHlwaS5vcmc${r.chars(BASE64URL, 150)}` },
  { kind: 'rubygems-key', rule: 'rubygems-token', envName: 'GEM_HOST_API_KEY', label: 'RubyGems API key', make: (r) => `rubygems_${r.chars(HEX, 48)}` },
  { kind: 'nuget-key', rule: 'nuget-key', envName: 'NUGET_API_KEY', label: 'NuGet API key', make: (r) => `oy2${r.chars(LOWER, 1)}${r.chars(DIGITS, 1)}${r.chars(LOWER + DIGITS, 41)}` },
  { kind: 'docker-hub-pat', rule: 'docker-hub-token', envName: 'DOCKERHUB_TOKEN', label: 'Docker Hub token', make: (r) => `dckr_pat_${mixed(r, BASE64URL, 27)}` },
  { kind: 'crates-io-token', rule: 'crates-io-token', envName: 'CARGO_REGISTRY_TOKEN', label: 'crates.io token', make: (r) => `cio${mixed(r, ALNUM, 32)}` },
  { kind: 'jfrog-api-key', rule: 'jfrog-token', envName: 'ARTIFACTORY_API_KEY', label: 'Artifactory API key', make: (r) => `AKCp${mixed(r, ALNUM, 69)}` },
  { kind: 'slack-bot-token', rule: 'slack-token', envName: 'SLACK_BOT_TOKEN', label: 'Slack bot token', make: (r) => `xoxb-${r.chars(DIGITS, 12)}-${r.chars(DIGITS, 13)}-${mixed(r, ALNUM, 24)}` },
  { kind: 'slack-user-token', rule: 'slack-token', envName: 'SLACK_USER_TOKEN', label: 'Slack user token', make: (r) => `xoxp-${r.chars(DIGITS, 12)}-${r.chars(DIGITS, 12)}-${r.chars(DIGITS, 13)}-${r.chars(HEX, 32)}` },
  { kind: 'slack-app-token', rule: 'slack-token', envName: 'SLACK_APP_TOKEN', label: 'Slack app token', make: (r) => `xapp-1-A${r.chars(UPPER + DIGITS, 10)}-${r.chars(DIGITS, 13)}-${r.chars(HEX, 64)}` },
  { kind: 'slack-webhook', rule: 'slack-webhook', envName: 'SLACK_WEBHOOK_URL', label: 'Slack webhook', make: (r) => `https://hooks.slack.com/services/T${r.chars(UPPER + DIGITS, 8)}/B${r.chars(UPPER + DIGITS, 10)}/${mixed(r, ALNUM, 24)}` },
  { kind: 'discord-bot-token', rule: 'discord-bot-token', envName: 'DISCORD_BOT_TOKEN', label: 'Discord bot token', make: discordToken },
  { kind: 'discord-webhook', rule: 'discord-webhook', envName: 'DISCORD_WEBHOOK_URL', label: 'Discord webhook', make: (r) => `https://discord.com/api/webhooks/1${r.chars(DIGITS, 18)}/${mixed(r, BASE64URL, 68)}` },
  { kind: 'telegram-bot-token', rule: 'telegram-bot-token', envName: 'TELEGRAM_BOT_TOKEN', label: 'Telegram bot token', make: (r) => `${1 + r.int(8)}${r.chars(DIGITS, 9)}:AA${mixed(r, BASE64URL, 33)}` },
  { kind: 'teams-webhook', rule: 'teams-webhook', envName: 'TEAMS_WEBHOOK_URL', label: 'Teams webhook', make: (r) => `https://contoso.webhook.office.com/webhookb2/${uuid(r)}@${uuid(r)}/IncomingWebhook/${r.chars(HEX, 32)}/${uuid(r)}` },
  { kind: 'sendgrid-key', rule: 'sendgrid-key', envName: 'SENDGRID_API_KEY', label: 'SendGrid API key', make: (r) => `SG.${mixed(r, BASE64URL, 22)}.${mixed(r, BASE64URL, 43)}` },
  { kind: 'mailgun-key', rule: 'mailgun-key', envName: 'MAILGUN_API_KEY', label: 'Mailgun API key', make: (r) => `key-${r.chars(HEX, 31)}${r.chars('abcdef', 1)}` },
  { kind: 'mailchimp-key', rule: 'mailchimp-key', envName: 'MAILCHIMP_API_KEY', label: 'Mailchimp API key', make: (r) => `${r.chars(HEX, 31)}a-us${1 + r.int(20)}` },
  { kind: 'postmark-token', rule: 'postmark-token', envName: 'POSTMARK_SERVER_TOKEN', label: 'Postmark server token', make: uuid },
  { kind: 'brevo-key', rule: 'brevo-key', envName: 'BREVO_API_KEY', label: 'Brevo API key', make: (r) => `xkeysib-${r.chars(HEX, 64)}-${mixed(r, ALNUM, 16)}` },
  { kind: 'twilio-api-key', rule: 'twilio-key', envName: 'TWILIO_API_KEY', label: 'Twilio API key', make: (r) => `SK${r.chars(HEX, 31)}${r.chars('0123456789', 1)}` },
  { kind: 'twilio-auth-token', rule: 'twilio-key', envName: 'TWILIO_AUTH_TOKEN', label: 'Twilio auth token', make: (r) => `${r.chars(HEX, 30)}a1` },
  { kind: 'vonage-api-secret', rule: 'vonage-key', envName: 'VONAGE_API_SECRET', label: 'Vonage API secret', make: (r) => mixed(r, ALNUM, 16) },
  { kind: 'stripe-secret-key', rule: 'stripe-key', envName: 'STRIPE_SECRET_KEY', label: 'Stripe secret key', make: (r) => `sk_live_${mixed(r, ALNUM, 99)}` },
  { kind: 'stripe-restricted-key', rule: 'stripe-key', envName: 'STRIPE_RESTRICTED_KEY', label: 'Stripe restricted key', make: (r) => `rk_live_${mixed(r, ALNUM, 99)}` },
  { kind: 'stripe-webhook-secret', rule: 'stripe-key', envName: 'STRIPE_WEBHOOK_SECRET', label: 'Stripe webhook secret', make: (r) => `whsec_${mixed(r, ALNUM, 32)}` },
  { kind: 'square-access-token', rule: 'square-token', envName: 'SQUARE_ACCESS_TOKEN', label: 'Square access token', make: (r) => `EAAA${mixed(r, BASE64URL, 60)}` },
  { kind: 'braintree-token', rule: 'braintree-token', envName: 'BRAINTREE_ACCESS_TOKEN', label: 'Braintree access token', make: (r) => `access_token$production$${r.chars(LOWER + DIGITS, 16)}$${r.chars(HEX, 32)}` },
  { kind: 'shopify-token', rule: 'shopify-token', envName: 'SHOPIFY_ACCESS_TOKEN', label: 'Shopify access token', make: (r) => `shpat_${r.chars(HEX, 32)}` },
  { kind: 'datadog-api-key', rule: 'datadog-key', envName: 'DATADOG_API_KEY', label: 'Datadog API key', make: (r) => `${r.chars(HEX, 30)}a1` },
  { kind: 'newrelic-user-key', rule: 'newrelic-key', envName: 'NEW_RELIC_API_KEY', label: 'New Relic user key', make: (r) => `NRAK-${r.chars(UPPER + DIGITS, 27)}` },
  { kind: 'sentry-dsn', rule: 'sentry-dsn', envName: 'SENTRY_DSN', label: 'Sentry DSN', make: (r) => `https://${r.chars(HEX, 32)}@o${r.chars(DIGITS, 6)}.ingest.sentry.io/${r.chars(DIGITS, 7)}` },
  { kind: 'sentry-auth-token', rule: 'sentry-token', envName: 'SENTRY_AUTH_TOKEN', label: 'Sentry auth token', make: (r) => `sntryu_${r.chars(HEX, 64)}` },
  { kind: 'grafana-service-account-token', rule: 'grafana-token', envName: 'GRAFANA_TOKEN', label: 'Grafana service account token', make: (r) => `glsa_${mixed(r, ALNUM, 32)}_${r.chars(HEX, 8)}` },
  { kind: 'honeycomb-ingest-key', rule: 'honeycomb-key', envName: 'HONEYCOMB_API_KEY', label: 'Honeycomb ingest key', make: (r) => `hcaik_${r.chars(LOWER + DIGITS, 58)}` },
  { kind: 'vault-service-token', rule: 'vault-token', envName: 'VAULT_TOKEN', label: 'Vault token', make: (r) => `hvs.${mixed(r, BASE64URL, 90)}` },
  { kind: 'vault-batch-token', rule: 'vault-token', envName: 'VAULT_BATCH_TOKEN', label: 'Vault batch token', make: (r) => `hvb.${mixed(r, BASE64URL, 138)}` },
  { kind: 'doppler-token', rule: 'doppler-token', envName: 'DOPPLER_TOKEN', label: 'Doppler service token', make: (r) => `dp.st.prd.${mixed(r, ALNUM, 43)}` },
  { kind: 'onepassword-service-account', rule: 'onepassword-token', envName: 'OP_SERVICE_ACCOUNT_TOKEN', label: '1Password service account token', make: (r) => `ops_eyJ${mixed(r, BASE64URL, 400)}` },
  { kind: 'infisical-service-token', rule: 'infisical-token', envName: 'INFISICAL_TOKEN', label: 'Infisical service token', make: (r) => `st.${uuid(r)}.${r.chars(HEX, 32)}.${r.chars(HEX, 32)}` },
  { kind: 'digitalocean-pat', rule: 'digitalocean-token', envName: 'DIGITALOCEAN_TOKEN', label: 'DigitalOcean token', make: (r) => `dop_v1_${r.chars(HEX, 64)}` },
  { kind: 'heroku-api-key', rule: 'heroku-key', envName: 'HEROKU_API_KEY', label: 'Heroku API key', make: (r) => `HRKU-AA${mixed(r, BASE64URL, 58)}` },
  { kind: 'linode-token', rule: 'linode-token', envName: 'LINODE_TOKEN', label: 'Linode token', make: (r) => `${r.chars(HEX, 62)}a1`, configOnly: true },
  { kind: 'hetzner-token', rule: 'hetzner-token', envName: 'HCLOUD_TOKEN', label: 'Hetzner Cloud token', make: (r) => mixed(r, ALNUM, 64) },
  { kind: 'cloudflare-api-token', rule: 'cloudflare-key', envName: 'CLOUDFLARE_API_TOKEN', label: 'Cloudflare API token', make: (r) => mixed(r, BASE64URL, 40) },
  { kind: 'fastly-token', rule: 'fastly-token', envName: 'FASTLY_API_TOKEN', label: 'Fastly API token', make: (r) => mixed(r, BASE64URL, 32) },
  { kind: 'netlify-token', rule: 'netlify-token', envName: 'NETLIFY_AUTH_TOKEN', label: 'Netlify token', make: (r) => `nfp_${mixed(r, ALNUM, 36)}` },
  { kind: 'vercel-token', rule: 'vercel-token', envName: 'VERCEL_TOKEN', label: 'Vercel token', make: (r) => mixed(r, ALNUM, 24) },
  { kind: 'flyio-token', rule: 'flyio-token', envName: 'FLY_API_TOKEN', label: 'Fly.io token', make: (r) => `FlyV1 fm2_${mixed(r, BASE64, 300)}` },
  { kind: 'terraform-cloud-token', rule: 'terraform-token', envName: 'TFE_TOKEN', label: 'Terraform Cloud token', make: (r) => `${mixed(r, ALNUM, 14)}.atlasv1.${mixed(r, BASE64URL, 67)}` },
  { kind: 'pulumi-token', rule: 'pulumi-token', envName: 'PULUMI_ACCESS_TOKEN', label: 'Pulumi token', make: (r) => `pul-${r.chars(HEX, 40)}` },
  { kind: 'databricks-token', rule: 'databricks-token', envName: 'DATABRICKS_TOKEN', label: 'Databricks token', make: (r) => `dapi${r.chars(HEX, 30)}a1` },
  { kind: 'openai-project-key', rule: 'openai-key', envName: 'OPENAI_API_KEY', label: 'OpenAI API key', make: (r) => `sk-proj-${mixed(r, BASE64URL, 156)}` },
  { kind: 'anthropic-key', rule: 'anthropic-key', envName: 'ANTHROPIC_API_KEY', label: 'Anthropic API key', make: (r) => `sk-ant-api03-${mixed(r, BASE64URL, 93)}AA` },
  { kind: 'huggingface-token', rule: 'huggingface-token', envName: 'HF_TOKEN', label: 'Hugging Face token', make: (r) => `hf_${mixed(r, UPPER + LOWER, 34).replace(/[0-9]/g, 'q')}` },
  { kind: 'cohere-key', rule: 'cohere-key', envName: 'COHERE_API_KEY', label: 'Cohere API key', make: (r) => mixed(r, ALNUM, 40) },
  { kind: 'groq-key', rule: 'groq-key', envName: 'GROQ_API_KEY', label: 'Groq API key', make: (r) => `gsk_${mixed(r, ALNUM, 52)}` },
  { kind: 'replicate-token', rule: 'replicate-token', envName: 'REPLICATE_API_TOKEN', label: 'Replicate token', make: (r) => `r8_${mixed(r, ALNUM, 37)}` },
  { kind: 'dynatrace-token', rule: 'dynatrace-token', envName: 'DT_API_TOKEN', label: 'Dynatrace token', make: (r) => `dt0c01.${r.chars(UPPER + DIGITS, 24)}.${r.chars(UPPER + DIGITS, 64)}` },
  { kind: 'linear-key', rule: 'linear-key', envName: 'LINEAR_API_KEY', label: 'Linear API key', make: (r) => `lin_api_${mixed(r, ALNUM, 40)}` },
  { kind: 'notion-token', rule: 'notion-token', envName: 'NOTION_TOKEN', label: 'Notion integration token', make: (r) => `ntn_${r.chars(DIGITS, 11)}${mixed(r, ALNUM, 35)}` },
  { kind: 'postman-key', rule: 'postman-key', envName: 'POSTMAN_API_KEY', label: 'Postman API key', make: (r) => `PMAK-${r.chars(HEX, 24)}-${r.chars(HEX, 34)}` },
  { kind: 'perplexity-key', rule: 'perplexity-key', envName: 'PERPLEXITY_API_KEY', label: 'Perplexity API key', make: (r) => `pplx-${mixed(r, ALNUM, 48)}` },
  { kind: 'xai-key', rule: 'xai-key', envName: 'XAI_API_KEY', label: 'xAI API key', make: (r) => `xai-${mixed(r, ALNUM, 80)}` },
  { kind: 'mistral-key', rule: 'mistral-key', envName: 'MISTRAL_API_KEY', label: 'Mistral API key', make: (r) => mixed(r, ALNUM, 32), configOnly: true },
  { kind: 'age-secret-key', rule: 'age-secret-key', envName: 'SOPS_AGE_KEY', label: 'age secret key', make: (r) => `AGE-SECRET-KEY-1${r.chars(BECH32, 58)}` },
  { kind: 'rsa-private-key', rule: 'private-key', envName: 'TLS_KEY', label: 'private key', make: (r) => pemKey(r, 'RSA PRIVATE KEY') },
  { kind: 'openssh-private-key', rule: 'private-key', envName: 'SSH_PRIVATE_KEY', label: 'SSH key', make: (r) => pemKey(r, 'OPENSSH PRIVATE KEY') },
  { kind: 'ec-private-key', rule: 'private-key', envName: 'EC_KEY', label: 'EC key', make: (r) => pemKey(r, 'EC PRIVATE KEY', 3) },
  { kind: 'pgp-private-key', rule: 'private-key', envName: 'GPG_PRIVATE_KEY', label: 'PGP key', make: (r) => pemKey(r, 'PGP PRIVATE KEY BLOCK', 5) },
  { kind: 'jwt', rule: 'jwt', envName: 'ID_TOKEN', label: 'ID token', make: (r) => `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: r.chars(HEX, 8) })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: r.chars(HEX, 12), iat: 1700000000 + r.int(1e7) })).toString('base64url')}.${r.chars(BASE64URL, 86)}` },
  { kind: 'postgres-uri', rule: 'uri-password', envName: 'DATABASE_URL', label: 'database URL', make: (r) => `postgres://app:${mixed(r, ALNUM, 20)}@db.internal:5432/app` },
  { kind: 'mysql-uri', rule: 'uri-password', envName: 'MYSQL_URL', label: 'MySQL URL', make: (r) => `mysql://root:${mixed(r, ALNUM, 16)}@mysql.internal:3306/shop` },
  { kind: 'mongodb-uri', rule: 'uri-password', envName: 'MONGODB_URI', label: 'MongoDB URI', make: (r) => `mongodb+srv://admin:${mixed(r, ALNUM, 18)}@cluster0.ab${r.chars(LOWER, 4)}.mongodb.net/?retryWrites=true` },
  { kind: 'redis-uri', rule: 'uri-password', envName: 'REDIS_URL', label: 'Redis URL', make: (r) => `redis://:${mixed(r, ALNUM, 24)}@cache.internal:6379/0` },
  { kind: 'amqp-uri', rule: 'uri-password', envName: 'AMQP_URL', label: 'AMQP URL', make: (r) => `amqps://svc:${mixed(r, ALNUM, 20)}@mq.internal:5671/vhost` },
  { kind: 'basic-auth-header', rule: 'basic-auth', envName: 'HTTP_AUTHORIZATION', label: 'Authorization header', make: (r) => `Basic ${b64(`svc-${r.chars(LOWER, 5)}:${mixed(r, ALNUM, 18)}`)}` },
  { kind: 'password-assignment', rule: 'secret-assignment', envName: 'DB_PASSWORD', label: 'database password', make: (r) => mixed(r, ALNUM + '!#%', 14) },
]; // prettier-ignore

/** The part of a generated value a detector masks, where it is not the whole value. */
const CORE: Partial<Record<string, (value: string) => string>> = {
  'azure-storage-connection-string': (v) => /AccountKey=([^;]+)/.exec(v)?.[1] ?? v,
  'azure-service-bus-key': (v) => /SharedAccessKey=([^;]+)/.exec(v)?.[1] ?? v,
  'azure-sas-url': (v) => /sig=(.+)$/.exec(v)?.[1] ?? v,
  'slack-webhook': (v) => v.slice('https://hooks.slack.com/services/'.length),
  'discord-webhook': (v) => v.slice(v.lastIndexOf('/') + 1),
  'teams-webhook': (v) => v.slice(v.indexOf('webhookb2/') + 'webhookb2/'.length),
  'sentry-dsn': (v) => v.slice(8, 40),
  'flyio-token': (v) => v.slice('FlyV1 '.length),
  'basic-auth-header': (v) => v.slice('Basic '.length),
  'postgres-uri': uriPassword,
  'mysql-uri': uriPassword,
  'mongodb-uri': uriPassword,
  'redis-uri': uriPassword,
  'amqp-uri': uriPassword,
};

function uriPassword(v: string): string {
  return /:\/\/[^:]*:([^@]+)@/.exec(v)?.[1] ?? v;
}

/** What must not survive masking of a value of this kind. */
export function coreOf(kind: string, value: string): string {
  return (CORE[kind] ?? ((v: string) => v))(value);
}

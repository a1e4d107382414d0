import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { uuidv7, type PolicyDecision, type PolicyEvaluateRequest } from '@airlock/contracts';
import { PolicyEvaluator } from './evaluator';
import { PolicyDocumentError, checkPolicyDocument, parsePolicyDocument, type PolicyDocument } from './policy-document';
import { dryRunOperation } from './dry-run';
import type { DryRunBody, DryRunView, ValidateView } from './dto/admin.dto';
import { POLICY_CONFIG, type PolicyConfig } from '../config';
import { PolicyChangePublisher } from './policy-change.publisher';

/** Holds the active policy. A reload that fails keeps the previous policy in force. */
@Injectable()
export class PolicyService {
  private readonly logger = new Logger(PolicyService.name);
  private evaluator!: PolicyEvaluator;

  constructor(
    @Inject(POLICY_CONFIG) private readonly config: PolicyConfig,
    private readonly changes: PolicyChangePublisher,
  ) {}

  /** Loads the policy at start; an invalid file stops the service. */
  async load(): Promise<void> {
    this.evaluator = new PolicyEvaluator(parsePolicyDocument(await readFile(this.config.POLICY_FILE, 'utf8')));
    this.logger.log({ version: this.version, rules: this.evaluator.document.rules.length }, 'policy loaded');
  }

  get version(): string {
    return this.evaluator.document.version;
  }

  get summary(): { id: string; version: string; rules: number } {
    const d = this.evaluator.document;
    return { id: d.id, version: d.version, rules: d.rules.length };
  }

  evaluate(req: PolicyEvaluateRequest): PolicyDecision {
    return this.evaluator.evaluate(req);
  }

  /** The policy in force, rules as parsed (defaults filled in). */
  get document(): PolicyDocument {
    return this.evaluator.document;
  }

  /** Checks a policy document's text; nothing is applied. */
  validate(text: string): ValidateView {
    const checked = checkPolicyDocument(text);
    if (!checked.ok) return { valid: false, errors: checked.errors };
    const d = checked.document;
    return { valid: true, id: d.id, version: d.version, rules: d.rules.length };
  }

  /** What the policy in force decides for this principal and operation: the live evaluation, nothing sent anywhere. */
  dryRun(body: DryRunBody): DryRunView {
    const operation = dryRunOperation(body);
    const evaluator = this.evaluator;
    const d = evaluator.evaluate({
      requestId: uuidv7(),
      sessionId: uuidv7(),
      principal: body.principal,
      connection: body.connection,
      protocol: operation.kind === 'postgres' ? 'postgres' : 'http',
      operation,
    });
    return {
      policy: { id: evaluator.document.id, version: evaluator.document.version },
      decision: d.decision,
      reason: d.reason,
      ruleId: d.ruleId ?? null,
      masking: d.masking,
      approval: d.approval ?? null,
      operation,
      principal: body.principal,
    };
  }

  /**
   * Re-reads the policy file; when its version changed, tells every ingress to drop cached
   * decisions. A file that cannot be read or is invalid throws PolicyDocumentError and changes nothing.
   */
  async reload(): Promise<{ id: string; version: string; rules: number; changed: boolean }> {
    let text: string;
    try {
      text = await readFile(this.config.POLICY_FILE, 'utf8');
    } catch (err) {
      throw new PolicyDocumentError(
        `the policy file cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    const next = new PolicyEvaluator(parsePolicyDocument(text));
    const changed = next.document.version !== this.version;
    if (changed) {
      this.evaluator = next;
      await this.changes.publish(next.document.id, next.document.version);
      this.logger.log({ version: this.version }, 'policy reloaded');
    }
    return { ...this.summary, changed };
  }
}

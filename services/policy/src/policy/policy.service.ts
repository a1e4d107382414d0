import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PolicyDecision, PolicyEvaluateRequest } from '@airlock/contracts';
import { PolicyEvaluator } from './evaluator';
import { PolicyDocumentError, parsePolicyDocument } from './policy-document';
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

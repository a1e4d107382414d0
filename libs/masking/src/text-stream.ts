import { PEM_END_LINE_MAX, scanPemBody } from './detectors';
import { addCount, type MaskCounts, type MaskingEngine } from './masker';
import { maskToken } from './rules';

/** New text gathered before a pass over it: large enough that the rescanned window costs little. */
export const TEXT_STEP = 64 * 1024;
/** What a stream keeps of a private key body while looking for its END line. */
const PEM_TAIL = PEM_END_LINE_MAX + 16;

export interface IncrementalTextOptions {
  /** Characters held back at the end of each pass; at least the longest match a detector makes. */
  window?: number;
  /** Characters of already emitted text kept before the pending text, for matches that begin there. */
  context?: number;
  step?: number;
}

/**
 * Masks a text that arrives in pieces and gives exactly what masking the whole text at once
 * would give (for matches no longer than the window), holding only a bounded amount.
 *
 * Each pass runs the detectors over the kept context and the pending text, emits everything up
 * to the last line break (no detector matches across one) or, on a long line, up to `window`
 * characters before the end, and keeps the rest: a secret cut by a chunk boundary is whole
 * again in the next pass, and line-oriented streams (logs, server-sent events) are not held
 * up. A span that begins before the cut is masked in full, so the cut moves past it and no
 * character is masked twice. A private key whose END line is not in sight switches to an
 * explicit state that drops the body until its END line (or a character no key contains),
 * however long the body.
 */
export class IncrementalTextMasker {
  /** Text not emitted yet, in the pieces it came in (joined once per pass into one flat string). */
  private pieces: string[] = [];
  private pendingLength = 0;
  private context = '';
  private inKey = false;
  private readonly window: number;
  private readonly contextSize: number;
  private readonly step: number;

  constructor(
    private readonly engine: MaskingEngine,
    private readonly counts: MaskCounts,
    options: IncrementalTextOptions = {},
  ) {
    this.window = options.window ?? engine.reach + 64;
    this.contextSize = options.context ?? engine.lead + 64;
    this.step = options.step ?? TEXT_STEP;
  }

  /** Adds text; returns the masked text that is final now (possibly empty). */
  write(text: string): string {
    if (!this.engine.hasDetectors) return text;
    if (text.length > 0) {
      this.pieces.push(text);
      this.pendingLength += text.length;
    }
    // A line break lets everything before it go at once; without one, gather a step first.
    if (!this.inKey && this.pendingLength < this.window + this.step && !text.includes('\n')) return '';
    return this.drain(false);
  }

  /** The masked rest of the text. */
  end(): string {
    if (!this.engine.hasDetectors) return '';
    return this.drain(true);
  }

  private setPending(text: string): void {
    this.pieces = text.length > 0 ? [text] : [];
    this.pendingLength = text.length;
  }

  private drain(final: boolean): string {
    let out = '';
    for (;;) {
      if (this.inKey) {
        const pending = this.pieces.join('');
        const end = scanPemBody(pending, 0);
        if (end < 0) {
          this.setPending(final ? '' : pending.slice(Math.max(0, pending.length - PEM_TAIL)));
          if (final) this.inKey = false;
          return out;
        }
        this.setPending(pending.slice(end));
        this.inKey = false;
        this.context = '';
      }
      // One flat string (a join, not a concatenation: scanning a rope is several times slower).
      const off = this.context.length;
      this.pieces.unshift(this.context);
      const text = this.pieces.join('');
      // No match but a private key crosses a line break, so all before the last one is final;
      // on a long line, all but the window is.
      const cut = final ? text.length : Math.max(text.length - this.window, text.lastIndexOf('\n') + 1);
      if (cut <= off) {
        this.pieces.shift();
        return out;
      }
      const hits = this.engine.prefilter(text);
      const spans = hits === 0 ? [] : this.engine.findSpans(text, hits);
      let pos = off;
      let keyStart = -1;
      for (const span of spans) {
        if (span.end <= pos) continue;
        const start = Math.max(span.start, pos);
        if (start >= cut) break;
        out += text.slice(pos, start) + maskToken(span.rule);
        addCount(this.counts, span.rule);
        pos = span.end;
        if (span.open && !final) {
          keyStart = span.start;
          break;
        }
      }
      if (keyStart >= 0) {
        // Everything from the BEGIN line on is body-like, so the kept tail rescans safely.
        this.setPending(text.slice(Math.max(keyStart, text.length - PEM_TAIL)));
        this.context = '';
        this.inKey = true;
        continue;
      }
      const emitEnd = Math.max(cut, pos);
      out += text.slice(pos, emitEnd);
      this.context = text.slice(Math.max(0, emitEnd - this.contextSize), emitEnd);
      this.setPending(final ? '' : text.slice(emitEnd));
      return out;
    }
  }
}

/**
 * The named prepared statements and portals of one upstream session, as the server holds them.
 *
 * A change (Parse, Bind, Close, or SQL such as PREPARE and DEALLOCATE) is only a request until the
 * server confirms it: it waits in order as pending, and the confirmed view changes when the server
 * answers (ParseComplete, BindComplete, CloseComplete), or when it reports an error or skips the
 * message. Looking a name up at the time a client message is decided gives what the server will
 * hold when it reaches that message:
 * - a change sent in the same Sync segment is taken as done: if it fails, the server skips every
 *   later message up to the Sync, so nothing decided on it runs;
 * - a change of an earlier segment that the server has not answered yet may or may not take
 *   effect: the look-up waits for its answer;
 * - otherwise the confirmed view.
 */

export type Target = 'S' | 'P';

/** A name change on its way to the server; `name` '*' stands for every name of its target. */
interface Change<T> {
  target: Target;
  name: string;
  /** The new value; undefined when the name goes. */
  value: T | undefined;
  segment: number;
  /** Resolves the promise of a look-up that waits for this change; made only when one does. */
  settle?: () => void;
  settled?: Promise<void>;
}

/** Handle of one pending change, settled by the server's answer. */
export interface PendingChange {
  readonly target: Target;
  readonly name: string;
}

export type Lookup<T> = { known: true; value: T } | { known: false } | { wait: Promise<void> };

export class ServerNames<S, P> {
  private readonly statements = new Map<string, S>();
  private readonly portals = new Map<string, P>();
  private readonly pending: Array<Change<S | P>> = [];
  private segment = 0;

  /** A Parse went upstream. */
  parse(name: string, statement: S): PendingChange {
    return this.push('S', name, statement);
  }

  /** A Bind went upstream. */
  bind(name: string, portal: P): PendingChange {
    return this.push('P', name, portal);
  }

  /** A Close went upstream. */
  close(target: Target, name: string): PendingChange {
    return this.push(target, name, undefined);
  }

  /** SQL that creates or drops names (PREPARE, DEALLOCATE, DECLARE, CLOSE, DISCARD) went upstream. */
  dropBySql(target: Target, names: readonly string[] | 'all'): PendingChange[] {
    if (names === 'all') return [this.push(target, '*', undefined)];
    return names.map((n) => this.push(target, n, undefined));
  }

  /** A Sync went upstream: what follows is a new segment. */
  sync(): void {
    this.segment++;
  }

  statement(name: string): Lookup<S> {
    return this.lookup('S', name) as Lookup<S>;
  }

  portal(name: string): Lookup<P> {
    return this.lookup('P', name) as Lookup<P>;
  }

  /** The server did what the change asked. */
  confirm(change: PendingChange): void {
    const c = this.take(change);
    if (!c) return;
    const map = (c.target === 'S' ? this.statements : this.portals) as Map<string, S | P>;
    if (c.name === '*') map.clear();
    else if (c.value === undefined) map.delete(c.name);
    else map.set(c.name, c.value);
  }

  /**
   * The server refused the change. A failed Parse or Bind of the unnamed statement or portal
   * has already dropped the previous one; a named one keeps its old value.
   */
  fail(change: PendingChange): void {
    const c = this.take(change);
    if (!c) return;
    if (c.name === '' && c.target === 'S') this.statements.delete('');
    if (c.name === '' && c.target === 'P') this.portals.delete('');
  }

  /** The server skipped the message (an earlier error of its segment): nothing changed. */
  skip(change: PendingChange): void {
    this.take(change);
  }

  /** The transaction ended: the server dropped every portal. */
  transactionEnded(): void {
    this.portals.clear();
  }

  /** Pending changes: for tests and diagnostics. */
  get pendingCount(): number {
    return this.pending.length;
  }

  private push(target: Target, name: string, value: S | P | undefined): PendingChange {
    const c: Change<S | P> = { target, name, value, segment: this.segment };
    this.pending.push(c);
    return c;
  }

  private settledOf(c: Change<S | P>): Promise<void> {
    c.settled ??= new Promise<void>((resolve) => (c.settle = resolve));
    return c.settled;
  }

  private take(change: PendingChange): Change<S | P> | undefined {
    const i = this.pending.indexOf(change as Change<S | P>);
    if (i === -1) return undefined;
    const [c] = this.pending.splice(i, 1);
    c.settle?.();
    return c;
  }

  private lookup(target: Target, name: string): Lookup<S | P> {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const c = this.pending[i];
      if (c.target !== target || (c.name !== name && c.name !== '*')) continue;
      if (c.segment !== this.segment) return { wait: this.settledOf(c) };
      return c.value === undefined ? { known: false } : { known: true, value: c.value };
    }
    const map = (target === 'S' ? this.statements : this.portals) as Map<string, S | P>;
    const value = map.get(name);
    return value === undefined ? { known: false } : { known: true, value };
  }
}

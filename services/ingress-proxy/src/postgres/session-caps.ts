import type { Principal } from '@airlock/contracts';

export type CapTaken = { ok: true; release: () => void } | { ok: false; message: string };

/**
 * Sessions at once per principal and per connection in this gateway process, counted from the
 * moment policy admits a start-up until its session ends, so that one agent (or many on one
 * connection) cannot take every upstream slot the database has.
 */
export class SessionCaps {
  private readonly byPrincipal = new Map<string, number>();
  private readonly byConnection = new Map<string, number>();

  constructor(private readonly limits: { perPrincipal: number; perConnection: number }) {}

  take(principal: Principal, connection: string): CapTaken {
    const who = `${principal.issuer}\u0000${principal.subject}`;
    if ((this.byPrincipal.get(who) ?? 0) >= this.limits.perPrincipal) {
      return {
        ok: false,
        message: `too many sessions for ${principal.subject.slice(0, 63)}: at most ${this.limits.perPrincipal} at once through this gateway`,
      };
    }
    if ((this.byConnection.get(connection) ?? 0) >= this.limits.perConnection) {
      return {
        ok: false,
        message: `too many sessions on connection "${connection}": at most ${this.limits.perConnection} at once through this gateway`,
      };
    }
    add(this.byPrincipal, who, 1);
    add(this.byConnection, connection, 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        add(this.byPrincipal, who, -1);
        add(this.byConnection, connection, -1);
      },
    };
  }

  get size(): { principals: number; connections: number } {
    return { principals: this.byPrincipal.size, connections: this.byConnection.size };
  }
}

function add(counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

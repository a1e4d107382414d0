/** Epoch milliseconds. Injected wherever time decides something, so tests can fix it. */
export type Clock = () => number;

export const CLOCK = Symbol('CLOCK');

import { PassThrough, Readable } from 'node:stream';
import { BodyTooLargeError, HeldBudget, readBodyWithin } from './held-body';

describe('readBodyWithin', () => {
  it('reads a body up to the limit, the limit included', async () => {
    await expect(readBodyWithin(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4)).resolves.toEqual(
      Buffer.from('abcd'),
    );
    await expect(readBodyWithin(Readable.from([]), 0)).resolves.toEqual(Buffer.alloc(0));
  });

  it('refuses a declared length over the limit without reading', async () => {
    const body = new PassThrough();
    await expect(readBodyWithin(body, 10, '11')).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(body.listenerCount('data')).toBe(0);
  });

  it('refuses a body that grows past the limit, and lets the rest drain', async () => {
    const body = new PassThrough();
    const reading = readBodyWithin(body, 5);
    body.write('abc');
    body.write('def');
    await expect(reading).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(body.readableFlowing).toBe(true);
    expect(body.destroyed).toBe(false);
    body.end('more');
  });

  it('fails when the body breaks off', async () => {
    const body = new PassThrough();
    const reading = readBodyWithin(body, 100);
    body.write('abc');
    body.destroy();
    await expect(reading).rejects.toThrow();
  });
});

describe('the budget of held requests', () => {
  it('bounds how many wait at once and their bodies together, and gets both back', () => {
    const b = new HeldBudget(2, 10);
    expect(b.enter()).toBe(true);
    expect(b.keep(6)).toBe(true);
    expect(b.enter()).toBe(true);
    expect(b.enter()).toBe(false);
    expect(b.keep(5)).toBe(false);
    expect(b.keep(4)).toBe(true);
    expect(b.held).toEqual({ requests: 2, bytes: 10 });
    b.leave(6);
    expect(b.held).toEqual({ requests: 1, bytes: 4 });
    expect(b.enter()).toBe(true);
    expect(b.keep(6)).toBe(true);
  });
});

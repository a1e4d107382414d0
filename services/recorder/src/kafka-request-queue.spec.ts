import { stopIdleRequestQueueTimers } from './kafka-request-queue';

/* eslint-disable @typescript-eslint/no-require-imports */
interface Queue {
  push(r: { entry: Entry; expectResponse: boolean; sendRequest(): void }): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  pending: unknown[];
}
interface Entry {
  correlationId: number;
  apiName: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}
type QueueClass = new (options: Record<string, unknown>) => Queue;

const silent = { debug: () => undefined, warn: () => undefined, info: () => undefined, error: () => undefined };

/** A fresh copy of kafkajs's RequestQueue module, so patching one copy leaves the other as shipped. */
function freshQueueClass(): QueueClass {
  let cls: QueueClass | undefined;
  jest.isolateModules(() => {
    cls = require('kafkajs/src/network/requestQueue') as QueueClass;
  });
  return cls!;
}

function queueOf(cls: QueueClass, maxInFlightRequests?: number): Queue {
  return new cls({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: silent,
  });
}

function request(
  correlationId: number,
  sent: number[],
): { entry: Entry; expectResponse: boolean; sendRequest(): void } {
  return {
    entry: { correlationId, apiName: 'Fetch', resolve: () => undefined, reject: () => undefined },
    expectResponse: true,
    sendRequest: () => void sent.push(correlationId),
  };
}

describe('stopIdleRequestQueueTimers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('as shipped, kafkajs re-arms a timer every millisecond after an answer, with nothing to send', () => {
    const queue = queueOf(freshQueueClass());
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(50);
    // Still armed after 50 ms: the loop that this module stops.
    expect(jest.getTimerCount()).toBe(1);
  });

  it('leaves no timer once an answer arrives and nothing waits', () => {
    const cls = freshQueueClass();
    expect(stopIdleRequestQueueTimers(cls)).toBe(true);
    const queue = queueOf(cls);
    const sent: number[] = [];
    queue.push(request(1, sent));
    expect(sent).toEqual([1]);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends a request held back by the in-flight limit when the answer before it arrives', () => {
    const cls = freshQueueClass();
    stopIdleRequestQueueTimers(cls);
    const queue = queueOf(cls, 1);
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.push(request(2, sent));
    expect(sent).toEqual([1]);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2]);
    queue.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    // The check armed while request 2 waited runs once and does not re-arm.
    jest.advanceTimersByTime(20);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends a request held back by broker throttling when the throttle ends, and only then', () => {
    const cls = freshQueueClass();
    stopIdleRequestQueueTimers(cls);
    const queue = queueOf(cls);
    const sent: number[] = [];
    queue.maybeThrottle(200);
    queue.push(request(1, sent));
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(150);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(100);
    expect(sent).toEqual([1]);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('changes nothing on a class of another shape', () => {
    class Other {
      send(): void {}
    }
    expect(stopIdleRequestQueueTimers(Other)).toBe(false);
    expect(stopIdleRequestQueueTimers(null)).toBe(false);
  });
});

import { quietRequestQueues } from './request-queue-timer';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
  checkPendingRequests(): void;
  canSendSocketRequestImmediately(): boolean;
  sendSocketRequest(request: unknown): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (opts: object) => Queue;

function queue(): Queue {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  return new RequestQueue({
    maxInFlightRequests: null,
    requestTimeout: 30000,
    enforceRequestTimeout: true,
    clientId: 'test',
    broker: 'localhost:1',
    logger: quiet,
  });
}

describe('kafkajs request queue timers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  it('as shipped, an idle queue re-arms a 1 ms timer for ever', () => {
    const q = queue();
    q.checkPendingRequests();
    jest.advanceTimersByTime(100);
    // Still armed after a hundred checks with nothing to do.
    expect(jest.getTimerCount()).toBe(1);
    expect(q.pending).toHaveLength(0);
  });

  describe('once quieted', () => {
    beforeAll(() => quietRequestQueues());

    it('arms nothing while nothing is pending', () => {
      const q = queue();
      q.checkPendingRequests();
      expect(jest.getTimerCount()).toBe(0);
      expect(q.throttleCheckTimeoutId).toBeNull();
    });

    it('sends a request that waits for a throttle when the throttle ends, then arms nothing', () => {
      const q = queue();
      const sent: unknown[] = [];
      q.sendSocketRequest = (r) => void sent.push(r);
      q.canSendSocketRequestImmediately = () => Date.now() >= q.throttledUntil;
      q.throttledUntil = Date.now() + 250;
      q.pending.push({ waiting: true });
      q.checkPendingRequests();
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(249);
      expect(sent).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(sent).toEqual([{ waiting: true }]);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('re-checks a request waiting for an in-flight slot every 10 ms until it is gone', () => {
      const q = queue();
      const check = jest.spyOn(q, 'checkPendingRequests');
      q.canSendSocketRequestImmediately = () => false;
      q.pending.push({ waiting: true });
      q.checkPendingRequests();
      jest.advanceTimersByTime(30);
      expect(check).toHaveBeenCalledTimes(4);
      q.pending.length = 0;
      jest.advanceTimersByTime(10);
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});

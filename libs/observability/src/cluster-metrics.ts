import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { metricsRegistry } from './metrics';

/*
 * A service started with several worker processes (INGRESS_WORKERS) shares one listening port:
 * a scrape reaches whichever worker the kernel picks. That worker asks the primary, which
 * gathers every worker's registry (prom-client's cluster aggregation: counters and histograms
 * summed, process gauges by their own rule) and hands the whole back, so one scrape is the pod.
 */

const ASK = 'airlock:metrics-ask';
const ANSWER = 'airlock:metrics-answer';
const ANSWER_TIMEOUT_MS = 5000;

interface Ask {
  type: typeof ASK;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** In the primary of a multi-worker service: answers a worker's ask with every worker's series. */
export function serveWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<Ask>(message, ASK)) return;
    const answer = (a: Omit<Answer, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...a } satisfies Answer);
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      (err: Error) => answer({ error: err.message }),
    );
  });
}

let joined = false;
let nextAsk = 0;
const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();

/** In a worker: its registry answers the primary, and scrapes ask the primary for the whole. */
export function joinWorkerMetrics(): void {
  if (joined || !cluster.isWorker) return;
  joined = true;
  AggregatorRegistry.setRegistries([metricsRegistry]);
  new AggregatorRegistry(); // registers the worker's answer to the primary's gathering
  process.on('message', (message: unknown) => {
    if (!isMessage<Answer>(message, ANSWER)) return;
    const w = waiting.get(message.id);
    if (!w) return;
    waiting.delete(message.id);
    if (message.text !== undefined) w.resolve(message.text);
    else w.reject(new Error(`metrics of the other workers unavailable: ${message.error ?? 'no answer'}`));
  });
}

/** The series of a registry this process holds apart from its own (a worker thread's), as JSON. */
export type MetricsSource = () => Promise<Awaited<ReturnType<Registry['getMetricsAsJSON']>>>;

const sources = new Set<MetricsSource>();

/**
 * Adds registries to what this process's scrape returns (summed with its own series by the same
 * rules as the workers'); returns the function that takes them out again.
 */
export function addMetricsSource(source: MetricsSource): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

/** This process's series and its sources', summed. */
async function processMetrics(): Promise<string> {
  if (sources.size === 0) return metricsRegistry.metrics();
  const all = await Promise.all([metricsRegistry.getMetricsAsJSON(), ...[...sources].map((source) => source())]);
  return AggregatorRegistry.aggregate(all).metrics();
}

/** The text a scrape returns: this process's series, or every worker's when it is one of several. */
export function scrapeMetrics(): Promise<string> {
  if (!joined) return processMetrics();
  const id = nextAsk++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('metrics of the other workers unavailable: the primary did not answer'));
    }, ANSWER_TIMEOUT_MS);
    waiting.set(id, {
      resolve: (text) => {
        clearTimeout(timer);
        resolve(text);
      },
      reject: (err) => {
        clearTimeout(timer);
        reject(err);
      },
    });
    process.send?.({ type: ASK, id } satisfies Ask);
  });
}

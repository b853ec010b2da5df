// The metrics of the runtime itself, registered once per manager: API requests (the write
// counter integration tests assert on), reconciles, work queues, informers, events, leadership.
import { WRITE_VERBS } from './api-requests.ts';
import type { EventMetrics } from './events.ts';
import type { InformerMetrics } from './informer.ts';
import type { Counter, Registry } from './metrics.ts';
import type { WorkQueueMetrics } from './workqueue.ts';

export type RuntimeMetrics = ReturnType<typeof createRuntimeMetrics>;

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createRuntimeMetrics(registry: Registry) {
  const started = Date.now() / 1000 - process.uptime();
  registry.gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, in seconds.' }).set({}, started);
  const residentGauge = registry.gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.' });
  residentGauge.onCollect(() => residentGauge.set({}, process.memoryUsage.rss()));
  return {
    apiRequests: registry.counter({
      name: 'zcsp_api_requests_total',
      help: 'Requests to the Kubernetes API server by verb (get, list, watch, create, update, patch, apply, delete), resource and HTTP code.',
      labelNames: ['verb', 'resource', 'code'],
    }),
    apiRequestDuration: registry.histogram({
      name: 'zcsp_api_request_duration_seconds', help: 'Latency of requests to the Kubernetes API server (watches: until the answer began).',
      labelNames: ['verb'], buckets: LATENCY_BUCKETS,
    }),
    reconciles: registry.counter({
      name: 'zcsp_reconcile_total', help: 'Reconciles by controller and result (success, requeue, requeue_after, error, terminal, skipped_terminal).',
      labelNames: ['controller', 'result'],
    }),
    reconcileErrors: registry.counter({ name: 'zcsp_reconcile_errors_total', help: 'Reconciles that failed and will be retried, by controller.', labelNames: ['controller'] }),
    reconcileDuration: registry.histogram({
      name: 'zcsp_reconcile_duration_seconds', help: 'Duration of reconciles by controller.', labelNames: ['controller'], buckets: LATENCY_BUCKETS,
    }),
    activeWorkers: registry.gauge({ name: 'zcsp_controller_active_workers', help: 'Workers reconciling right now, by controller.', labelNames: ['controller'] }),
    queueDepth: registry.gauge({ name: 'zcsp_workqueue_depth', help: 'Keys waiting in the work queue, by queue (controller).', labelNames: ['name'] }),
    queueAdds: registry.counter({ name: 'zcsp_workqueue_adds_total', help: 'Adds to the work queue, by queue.', labelNames: ['name'] }),
    queueRetries: registry.counter({ name: 'zcsp_workqueue_retries_total', help: 'Rate-limited re-adds (retries after errors), by queue.', labelNames: ['name'] }),
    queueLatency: registry.histogram({
      name: 'zcsp_workqueue_queue_duration_seconds', help: 'Time a key waited in the queue before a worker took it.', labelNames: ['name'], buckets: LATENCY_BUCKETS,
    }),
    queueWorkDuration: registry.histogram({
      name: 'zcsp_workqueue_work_duration_seconds', help: 'Time a worker spent on a key.', labelNames: ['name'], buckets: LATENCY_BUCKETS,
    }),
    informerSynced: registry.gauge({ name: 'zcsp_informer_synced', help: '1 once the informer listed its objects, by resource and scope.', labelNames: ['informer'] }),
    informerObjects: registry.gauge({ name: 'zcsp_informer_objects', help: 'Objects in the informer cache.', labelNames: ['informer'] }),
    informerLists: registry.counter({ name: 'zcsp_informer_lists_total', help: 'Full lists by the informer (start and after 410 Gone).', labelNames: ['informer'] }),
    informerWatchEnds: registry.counter({
      name: 'zcsp_informer_watch_ends_total', help: 'Watches that ended, by reason (closed, gone, silent, error, requested).', labelNames: ['informer', 'reason'],
    }),
    events: registry.counter({ name: 'zcsp_events_recorded_total', help: 'Kubernetes events recorded (before aggregation), by type.', labelNames: ['type'] }),
    eventsDropped: registry.counter({ name: 'zcsp_events_dropped_total', help: 'New events dropped by the per-object rate limit.' }),
    leader: registry.gauge({ name: 'zcsp_leader_election_status', help: '1 while this manager leads, else 0, by lease.', labelNames: ['lease'] }),
  };
}

export function queueMetrics(m: RuntimeMetrics, name: string): WorkQueueMetrics {
  const labels = { name };
  return {
    depth: (d) => m.queueDepth.set(labels, d),
    add: () => m.queueAdds.inc(labels),
    retry: () => m.queueRetries.inc(labels),
    queueLatency: (s) => m.queueLatency.observe(labels, s),
    processingDuration: (s) => m.queueWorkDuration.observe(labels, s),
  };
}

export function informerMetrics(m: RuntimeMetrics, informer: string): InformerMetrics {
  const labels = { informer };
  m.informerSynced.set(labels, 0);
  return {
    list: () => m.informerLists.inc(labels),
    watchEnded: (reason) => m.informerWatchEnds.inc({ informer, reason }),
    synced: (s) => m.informerSynced.set(labels, s ? 1 : 0),
  };
}

export function eventMetrics(m: RuntimeMetrics): EventMetrics {
  return { recorded: (type) => m.events.inc({ type }), dropped: () => m.eventsDropped.inc({}) };
}

/**
 * Write requests counted so far (create, update, patch, apply, delete, deletecollection),
 * optionally only of some resources or without some ("leases.coordination.k8s.io": renewals are
 * writes by design; "events.events.k8s.io"). Resource names as in the metric: "configmaps",
 * "vpgs.zcsp.io/status".
 */
export function countWrites(counter: Counter<'verb' | 'resource' | 'code'>, filter: { resources?: readonly string[]; excludeResources?: readonly string[] } = {}): number {
  const base = (r: string): string => r.split('/')[0] ?? r;
  return counter.series()
    .filter(({ labels }) => WRITE_VERBS.has(labels['verb'] ?? ''))
    .filter(({ labels }) => filter.resources === undefined || filter.resources.some((r) => r === labels['resource'] || r === base(labels['resource'] ?? '')))
    .filter(({ labels }) => !(filter.excludeResources ?? []).some((r) => r === labels['resource'] || r === base(labels['resource'] ?? '')))
    .reduce((sum, { value }) => sum + value, 0);
}

// Prometheus metrics of the HTTP layer: requests by route and status, their duration, and live requests held open.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface HttpMetrics {
  readonly requests: Counter<'route' | 'status'>;
  readonly duration: Histogram<'route'>;
  /** Long polls held and SSE streams open. */
  readonly longPolls: Gauge;
}

function metric<T>(registry: Registry, name: string, make: () => T): T {
  // A registry shared by two servers (tests) must not register the same name twice.
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function makeHttpMetrics(registry: Registry): HttpMetrics {
  const registers = [registry];
  return {
    requests: metric(
      registry,
      'switchyard_http_requests_total',
      () =>
        new Counter({
          name: 'switchyard_http_requests_total',
          help: 'HTTP requests by route and status',
          labelNames: ['route', 'status'] as const,
          registers,
        }),
    ),
    duration: metric(
      registry,
      'switchyard_http_request_duration_seconds',
      () =>
        new Histogram({
          name: 'switchyard_http_request_duration_seconds',
          help: 'HTTP request duration (long polls and SSE streams included)',
          labelNames: ['route'] as const,
          buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 30, 60],
          registers,
        }),
    ),
    longPolls: metric(
      registry,
      'switchyard_http_long_polls_active',
      () =>
        new Gauge({
          name: 'switchyard_http_long_polls_active',
          help: 'Live requests currently held (long polls and SSE streams)',
          registers,
        }),
    ),
  };
}

/** The route label: known paths by name, everything else as `other` (no unbounded label values). */
export function routeOf(path: string): string {
  return path === '/v1/shape' || path === '/v1/health' || path === '/' || path === '/metrics' ? path : 'other';
}

import { INestApplication } from '@nestjs/common';

export interface Route {
  service: 'config' | 'approval';
  /** `*` for a catch-all route: any method */
  method: string;
  /** Express path, e.g. /v2/webhooks/:id */
  path: string;
}

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

/**
 * Every route the app's Express router serves (controllers, /health, /metrics, the docs), read
 * from the router itself so a new route is fuzzed without anyone listing it.
 */
export async function appRoutes(app: INestApplication, service: Route['service']): Promise<Route[]> {
  const express = app.getHttpAdapter().getInstance();
  const stack: Layer[] = (express.router ?? express._router).stack;
  const routes: Route[] = [];
  for (const layer of stack) {
    if (!layer.route || typeof layer.route.path !== 'string') continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') routes.push({ service, method: method.toUpperCase(), path: layer.route.path });
    }
  }
  // A catch-all registered for every method (Nest's not-found handling) is fuzzed once, with any method.
  const seen = new Set<string>();
  return routes.map((r) => (r.path.includes('{*') ? { ...r, method: '*' } : r)).filter((r) => !seen.has(`${r.method} ${r.path}`) && !!seen.add(`${r.method} ${r.path}`));
}

// The inference port's routes, one table: which path and method reach which answer, and the route label the
// request is counted under in /metrics (server-metrics.ts). Pure: app.ts maps each action to its handler.
//
// A request is taken by the first route whose path and method match (HEAD goes with GET). A path some route
// knows, asked with another method, is answered 405 and counted under that route's label; any other path is a
// 404 counted as `other`. The predict routes count only requests that can be predictions: another method on a
// predict path is refused under `metadata`, so the canary's error-rate and latency gates never see it.
import { serverRoutes, type ServerRoute } from '../shared/server-metrics.js';

export type RouteAction =
  | 'metrics' | 'alive' | 'live' | 'ready' | 'server' | 'feedbackElsewhere'
  | 'v2Infer' | 'v2ModelReady' | 'v2ModelMetadata' | 'v2Statistics' | 'v2RepositoryIndex' | 'v2RepositoryChange'
  | 'v1Predict' | 'v1Model' | 'notAllowed';

export interface Route {
  readonly label: ServerRoute;
  /** Methods taken; undefined: any. */
  readonly methods: readonly string[] | undefined;
  /** Captures, where there are: the model name and the version, still percent-encoded. */
  readonly path: RegExp;
  readonly action: RouteAction;
}

const get = ['GET', 'HEAD'];
const post = ['POST'];
const v2Model = String.raw`/v2/models/([^/]+)(?:/versions/([^/]+))?`;
const v2Infer = new RegExp(`^${v2Model}/infer$`);
const v1Predict = /^\/v1\/models\/([^/:]+):predict$/;

export const routes: readonly Route[] = [
  { label: serverRoutes.metrics, methods: get, path: /^\/metrics$/, action: 'metrics' },
  { label: serverRoutes.health, methods: get, path: /^\/$/, action: 'alive' },
  { label: serverRoutes.health, methods: get, path: /^\/v2\/health\/live$/, action: 'live' },
  { label: serverRoutes.health, methods: get, path: /^\/v2\/health\/ready$/, action: 'ready' },
  { label: serverRoutes.metadata, methods: get, path: /^\/v2$/, action: 'server' },
  { label: serverRoutes.feedback, methods: undefined, path: /^\/v1\/feedback$/, action: 'feedbackElsewhere' },
  { label: serverRoutes.v2Infer, methods: post, path: v2Infer, action: 'v2Infer' },
  { label: serverRoutes.metadata, methods: undefined, path: v2Infer, action: 'notAllowed' },
  { label: serverRoutes.health, methods: get, path: new RegExp(`^${v2Model}/ready$`), action: 'v2ModelReady' },
  // Before the model's metadata: /v2/models/stats is every model's statistics (as in Triton), not a model's metadata.
  { label: serverRoutes.metadata, methods: get, path: /^\/v2\/models\/stats$/, action: 'v2Statistics' },
  { label: serverRoutes.metadata, methods: get, path: new RegExp(`^${v2Model}/stats$`), action: 'v2Statistics' },
  { label: serverRoutes.metadata, methods: get, path: new RegExp(`^${v2Model}$`), action: 'v2ModelMetadata' },
  { label: serverRoutes.metadata, methods: post, path: /^\/v2\/repository\/index$/, action: 'v2RepositoryIndex' },
  { label: serverRoutes.metadata, methods: post, path: /^\/v2\/repository\/models\/([^/]+)\/(?:load|unload)$/, action: 'v2RepositoryChange' },
  { label: serverRoutes.v1Predict, methods: post, path: v1Predict, action: 'v1Predict' },
  { label: serverRoutes.metadata, methods: undefined, path: v1Predict, action: 'notAllowed' },
  { label: serverRoutes.metadata, methods: get, path: /^\/v1\/models\/([^/:]+)$/, action: 'v1Model' },
];

export interface RouteMatch {
  readonly label: ServerRoute;
  /** The action to run; notAllowed when the path is known but not with this method. */
  readonly action: RouteAction | 'notFound';
  readonly params: readonly (string | undefined)[];
}

/** The last match: under load nearly every request asks the same predict path, 15 routes down the table. */
let last: { readonly method: string; readonly path: string; readonly match: RouteMatch } | undefined;

export function matchRoute(method: string, path: string): RouteMatch {
  if (last !== undefined && last.method === method && last.path === path) return last.match;
  const match = firstMatch(method, path);
  last = { method, path, match };
  return match;
}

function firstMatch(method: string, path: string): RouteMatch {
  let known: Route | undefined;
  for (const route of routes) {
    const m = route.path.exec(path);
    if (!m) continue;
    if (route.methods === undefined || route.methods.includes(method)) return { label: route.label, action: route.action, params: m.slice(1) };
    known ??= route;
  }
  if (known) return { label: known.label, action: 'notAllowed', params: [] };
  return { label: serverRoutes.other, action: 'notFound', params: [] };
}

/** The label a request is counted under in /metrics. */
export function routeOf(method: string, path: string): ServerRoute {
  return matchRoute(method, path).label;
}

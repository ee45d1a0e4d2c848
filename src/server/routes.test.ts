import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute, routes } from './routes.js';

describe('route table', () => {
  const table: [string, string, string, string, (string | undefined)[]][] = [
    ['GET', '/metrics', 'metrics', 'metrics', []],
    ['HEAD', '/', 'alive', 'health', []],
    ['POST', '/v2/models/weather/versions/v%201/infer', 'v2Infer', 'v2_infer', ['weather', 'v%201']],
    ['POST', '/v2/models/weather/infer', 'v2Infer', 'v2_infer', ['weather', undefined]],
    ['PUT', '/v2/models/weather/infer', 'notAllowed', 'metadata', ['weather', undefined]],
    ['GET', '/v2/models/weather/ready', 'v2ModelReady', 'health', ['weather', undefined]],
    ['GET', '/v2/models/weather/versions/v1', 'v2ModelMetadata', 'metadata', ['weather', 'v1']],
    ['DELETE', '/v2/models/weather', 'notAllowed', 'metadata', []],
    ['POST', '/v1/models/weather:predict', 'v1Predict', 'v1_predict', ['weather']],
    ['GET', '/v1/models/weather', 'v1Model', 'metadata', ['weather']],
    ['PATCH', '/v1/feedback', 'feedbackElsewhere', 'feedback', []],
    ['POST', '/v2/health/ready', 'notAllowed', 'health', []],
    ['GET', '/v2/health/other', 'notFound', 'other', []],
    ['GET', '/v2/models/a/b/c', 'notFound', 'other', []],
    ['GET', '/v2/models/stats', 'v2Statistics', 'metadata', []],
    ['GET', '/v2/models/weather/versions/v1/stats', 'v2Statistics', 'metadata', ['weather', 'v1']],
    ['POST', '/v2/repository/index', 'v2RepositoryIndex', 'metadata', []],
    ['POST', '/v2/repository/models/weather/unload', 'v2RepositoryChange', 'metadata', ['weather']],
    ['GET', '/v2/repository/index', 'notAllowed', 'metadata', []],
  ];
  for (const [method, path, action, label, params] of table) {
    it(`${method} ${path} → ${action} (${label})`, () => assert.deepEqual(matchRoute(method, path), { label, action, params }));
  }

  it('every route is reachable: no earlier route takes all of its requests', () => {
    const samples: Record<string, string> = {
      metrics: '/metrics', alive: '/', live: '/v2/health/live', ready: '/v2/health/ready', server: '/v2', feedbackElsewhere: '/v1/feedback',
      v2Infer: '/v2/models/m/infer', v2ModelReady: '/v2/models/m/ready', v2ModelMetadata: '/v2/models/m', v1Predict: '/v1/models/m:predict', v1Model: '/v1/models/m',
      v2Statistics: '/v2/models/m/stats', v2RepositoryIndex: '/v2/repository/index', v2RepositoryChange: '/v2/repository/models/m/load',
    };
    for (const r of routes.filter((x) => x.action !== 'notAllowed')) {
      const path = samples[r.action] ?? '';
      assert.equal(matchRoute(r.methods?.[0] ?? 'GET', path).action, r.action, r.action);
    }
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorForResponse } from './errors.js';
import { KubeEventRecorder } from './events.js';
import type { HttpMethod, KubeHttp, RequestOptions } from './kube-http.js';
import { createLogger } from './log.js';
import { FakeClock } from './testing/fake-clock.js';

class RecordingHttp implements KubeHttp {
  readonly calls: Array<{ method: HttpMethod; path: string; body: unknown }> = [];
  failWith: Error | undefined;
  request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    this.calls.push({ method, path, body: options.body });
    if (this.failWith !== undefined) {
      const e = this.failWith;
      this.failWith = undefined;
      return Promise.reject(e);
    }
    return Promise.resolve({} as T);
  }
}

const obj = { apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { namespace: 'ml', name: 'p', uid: 'u1' } };

describe('KubeEventRecorder', () => {
  it('tells its listeners every event, also one the API server refused; a listener that throws breaks nothing', async () => {
    const http = new RecordingHttp();
    const rec = new KubeEventRecorder(http, new FakeClock(), createLogger({ silent: true }), 'pod-1');
    const heard: string[] = [];
    rec.listen(() => {
      throw new Error('listener bug');
    });
    rec.listen((o, type, reason, note) => heard.push(`${o.metadata?.name ?? ''} ${type} ${reason}: ${note}`));
    http.failWith = errorForResponse(500, {}, {});
    await rec.event(obj, 'Normal', 'Blessed', 'run 1 blessed');
    await rec.event(obj, 'Warning', 'RunFailed', 'run 2 failed');
    assert.deepEqual(heard, ['p Normal Blessed: run 1 blessed', 'p Warning RunFailed: run 2 failed']);
    assert.deepEqual(http.calls.map((c) => c.method), ['POST', 'POST'], 'the events are still recorded');
  });

  it('creates one Event, then aggregates identical repeats into its series', async () => {
    const http = new RecordingHttp();
    const clock = new FakeClock();
    const rec = new KubeEventRecorder(http, clock, createLogger({ silent: true }), 'pod-1');
    await rec.event(obj, 'Normal', 'RunStarted', 'run 1 started');
    clock.advance(1000);
    await rec.event(obj, 'Normal', 'RunStarted', 'run 1 started');
    await rec.event(obj, 'Normal', 'RunStarted', 'run 1 started');
    await rec.event(obj, 'Warning', 'RunFailed', 'run 1 failed');
    assert.deepEqual(http.calls.map((c) => c.method), ['POST', 'PATCH', 'PATCH', 'POST']);
    const created = http.calls[0]?.body as Record<string, unknown>;
    assert.equal(created['reportingController'], 'perennial.dev/operator');
    assert.equal(created['reportingInstance'], 'pod-1');
    assert.equal(created['type'], 'Normal');
    assert.match(String(created['eventTime']), /\.\d{6}Z$/);
    assert.deepEqual((created['regarding'] as Record<string, unknown>)['uid'], 'u1');
    assert.equal(http.calls[1]?.path, `/apis/events.k8s.io/v1/namespaces/ml/events/${String((created['metadata'] as { name: string }).name)}`);
    assert.deepEqual((http.calls[2]?.body as { series: { count: number } }).series.count, 3);
  });

  it('starts a new Event when the aggregated one is gone, and never throws', async () => {
    const http = new RecordingHttp();
    const rec = new KubeEventRecorder(http, new FakeClock(), createLogger({ silent: true }), 'pod-1');
    await rec.event(obj, 'Normal', 'R', 'n');
    http.failWith = errorForResponse(404, JSON.stringify({ reason: 'NotFound' }), {});
    await rec.event(obj, 'Normal', 'R', 'n');
    assert.deepEqual(http.calls.map((c) => c.method), ['POST', 'PATCH', 'POST']);
    http.failWith = errorForResponse(403, JSON.stringify({ reason: 'Forbidden' }), {});
    await rec.event(obj, 'Warning', 'Other', 'n'); // logged, not thrown
  });
});

// The webhook sink against a real HTTP receiver on localhost; the formats, redaction and destinations as tables.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import winston from 'winston';
import { headline, notificationBody } from './body.js';
import { destination, installDestination, secretDestination } from './destinations.js';
import type { LoopEvent } from './loop-events.js';
import { redactUrl } from './redact.js';
import { judgeStatus, WebhookSink } from './webhook-sink.js';

const promoted: LoopEvent = {
  type: 'rollout.promoted', time: '2026-01-02T03:04:05.000Z', kind: 'ModelDeployment', namespace: 'ml', name: 'weather',
  version: 'v3', reason: 'RolloutComplete', message: 'v3 promoted to stable (was v2).',
};

describe('notification bodies', () => {
  it('json: CloudEvents attributes and the event\'s fields', () => {
    assert.deepEqual(notificationBody(promoted, 'json', 'id-1'), {
      specversion: '1.0', id: 'id-1', source: 'perennial.dev/modeldeployments/ml/weather', type: 'dev.perennial.rollout.promoted',
      time: '2026-01-02T03:04:05.000Z', subject: 'v3', datacontenttype: 'application/json',
      kind: 'ModelDeployment', namespace: 'ml', name: 'weather', version: 'v3', reason: 'RolloutComplete', message: 'v3 promoted to stable (was v2).',
      data: { kind: 'ModelDeployment', namespace: 'ml', name: 'weather', version: 'v3', reason: 'RolloutComplete', message: 'v3 promoted to stable (was v2).' },
    });
  });
  it('slack: one text line', () => {
    assert.deepEqual(notificationBody(promoted, 'slack', 'id-1'), { text: 'ModelDeployment ml/weather promoted a new version to stable (v3): v3 promoted to stable (was v2).' });
    assert.equal(headline({ ...promoted, version: '' }).includes('()'), false);
  });
});

describe('redactUrl: a destination as logs may name it', () => {
  const table: Array<[string, string]> = [
    ['https://hooks.slack.com/services/T000/B000/XXXXSECRET', 'https://hooks.slack.com/…'],
    ['https://user:pass@example.com:8443/hook?token=abc#x', 'https://example.com:8443/…'],
    ['http://receiver.ml.svc:8080/', 'http://receiver.ml.svc:8080/'],
    ['not a url', '(invalid URL)'],
  ];
  for (const [url, want] of table) it(want, () => assert.equal(redactUrl(url), want));
});

describe('destinations', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  it('a namespace Secret with url and format', () => {
    assert.deepEqual(secretDestination({ url: b64('https://hooks.example/x'), format: b64('slack') }, 'ml'), { ok: true, destination: { url: 'https://hooks.example/x', format: 'slack', scope: 'ml' } });
  });
  it('format defaults to json; no url: no destination', () => {
    assert.equal((secretDestination({ url: b64('http://r/') }, 'ml') as { destination: { format: string } }).destination.format, 'json');
    assert.equal(secretDestination({ format: b64('slack') }, 'ml'), undefined);
    assert.equal(secretDestination(undefined, 'ml'), undefined);
  });
  it('problems never quote the URL', () => {
    assert.deepEqual(destination('ftp://secret-host/secret-path', undefined, 'ml'), { ok: false, problem: 'url must be http or https' });
    assert.deepEqual(destination('http://r/', 'xml', 'ml'), { ok: false, problem: 'format must be one of json, slack' });
    assert.throws(() => installDestination({ PERENNIAL_NOTIFICATIONS_URL: 'nope/secret' }), (e: Error) => !e.message.includes('secret'));
  });
  it('install-time: from the environment, none without a URL', () => {
    assert.equal(installDestination({}), undefined);
    assert.deepEqual(installDestination({ PERENNIAL_NOTIFICATIONS_URL: 'https://h/x', PERENNIAL_NOTIFICATIONS_FORMAT: 'Slack' }), { url: 'https://h/x', format: 'slack', scope: 'install' });
  });
});

describe('judgeStatus', () => {
  const table: Array<[number, string]> = [[200, 'delivered'], [204, 'delivered'], [400, 'refused'], [404, 'refused'], [408, 'retry'], [429, 'retry'], [500, 'retry'], [503, 'retry']];
  for (const [status, want] of table) it(String(status), () => assert.equal(judgeStatus(status), want));
});

/** A receiver that answers each request with the next status of `answers` (then 200) and keeps what it accepted. */
async function receiver(answers: number[]): Promise<{ url: string; accepted: unknown[]; attempts: () => number; server: Server }> {
  const accepted: unknown[] = [];
  let attempts = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      const status = answers.shift() ?? 200;
      if (status === 200) accepted.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/TOPSECRET?token=ALSOSECRET`, accepted, attempts: () => attempts, server };
}

function capturingLogger(): { logger: winston.Logger; lines: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return { logger: winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] }), lines: () => chunks.join('') };
}

describe('WebhookSink against a real HTTP receiver', () => {
  it('a receiver that fails twice then succeeds gets the notification exactly once; no secret in the logs', async () => {
    const r = await receiver([500, 503]);
    const registry = new Registry();
    const log = capturingLogger();
    const sink = new WebhookSink({ registry, logger: log.logger, backoff: { baseMs: 20, capMs: 50 } });
    try {
      sink.send({ url: r.url, format: 'json', scope: 'ml' }, notificationBody(promoted, 'json', 'n-1'), 'n-1');
      await sink.idle();
      assert.equal(r.attempts(), 3);
      assert.equal(r.accepted.length, 1);
      assert.equal((r.accepted[0] as { id: string; type: string }).type, 'dev.perennial.rollout.promoted');
      const text = await registry.metrics();
      assert.match(text, /perennial_notifications_total\{result="retried"\} 2/);
      assert.match(text, /perennial_notifications_total\{result="delivered"\} 1/);
      await new Promise((resolve) => setImmediate(resolve));
      const logs = log.lines();
      assert.match(logs, /notification delivered/);
      assert.match(logs, /http:\/\/127\.0\.0\.1:\d+\/…/);
      assert.doesNotMatch(logs, /TOPSECRET|ALSOSECRET|services\/T0/);
    } finally {
      sink.stop();
      r.server.close();
    }
  });

  it('a 4xx is the receiver refusing the body: not retried; retries used up: failed', async () => {
    const r = await receiver([400, 500, 500, 500]);
    const registry = new Registry();
    const sink = new WebhookSink({ registry, logger: capturingLogger().logger, backoff: { baseMs: 5, capMs: 10 }, attempts: 3 });
    try {
      sink.send({ url: r.url, format: 'json', scope: 'ml' }, { n: 1 }, 'a');
      await sink.idle();
      sink.send({ url: r.url, format: 'json', scope: 'ml' }, { n: 2 }, 'b');
      await sink.idle();
      assert.equal(r.attempts(), 4);
      assert.equal(r.accepted.length, 0);
      const text = await registry.metrics();
      assert.match(text, /result="refused"\} 1/);
      assert.match(text, /result="failed"\} 1/);
    } finally {
      sink.stop();
      r.server.close();
    }
  });

  it('a receiver that is down delays nothing but its own notifications, and a full queue drops (counted)', async () => {
    const registry = new Registry();
    const sink = new WebhookSink({ registry, logger: capturingLogger().logger, capacity: 2, concurrency: 1, backoff: { baseMs: 60_000, capMs: 60_000 } });
    const started = Date.now();
    // Port 9 on localhost: nothing listens, the connection is refused.
    for (let i = 0; i < 5; i++) sink.send({ url: 'http://127.0.0.1:9/hook', format: 'json', scope: 'ml' }, { i }, String(i));
    assert.ok(Date.now() - started < 1000, 'send only queues');
    assert.match(await registry.metrics(), /result="dropped"\} 2/);
    sink.stop();
    await sink.idle();
  });
});

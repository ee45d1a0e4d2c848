// The endpoint a store's bucket notifications are sent to (MinIO's notify_webhook target): POST with the event
// document as JSON and `Authorization: Bearer <token>` (MinIO adds "Bearer " to its auth_token). The token comes
// from a Secret (PERENNIAL_STORE_NOTIFY_TOKEN); a request without it is refused with 401 and does nothing. The
// body is bounded; what is not an event document is a 400 naming why. A valid notification is answered 204 once
// the pipelines it concerns are enqueued: it only says "look again", so a lost one costs a poll interval, never data.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { closeHttp, listenHttp } from '../runtime/http-listener.js';
import { type Logger, errorFields } from '../runtime/log.js';
import { NotificationFormatError, type ObjectChange, parseEvent } from './events.js';

export const storeEventsPath = '/store-events';
const maxBodyBytes = 1 << 20;

export interface WebhookServerOptions {
  readonly token: string;
  readonly logger: Logger;
  /** Told every valid notification's objects; returns how many pipelines were enqueued (for the log). */
  readonly onChanges: (changes: readonly ObjectChange[]) => number;
  /** Counts requests by result (accepted, unauthorized, invalid). */
  readonly onRequest?: (result: 'accepted' | 'unauthorized' | 'invalid') => void;
}

/** Constant-time comparison of the Authorization header with "Bearer <token>". */
export function authorized(header: string | undefined, token: string): boolean {
  if (header === undefined || token === '') return false;
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBodyBytes) {
        reject(new BodyTooLargeError());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class StoreWebhookServer {
  private server: Server | undefined;

  constructor(private readonly options: WebhookServerOptions) {}

  async listen(port: number, host?: string): Promise<number> {
    const { server, port: bound } = await listenHttp((req, res) => void this.handle(req, res), port, host, { requestTimeoutMs: 10_000, headersTimeoutMs: 5_000 });
    this.server = server;
    return bound;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeHttp(server);
  }

  private reply(res: ServerResponse, status: number, message?: string): void {
    res.writeHead(status, message === undefined ? {} : { 'content-type': 'text/plain; charset=utf-8' });
    res.end(message === undefined ? undefined : `${message}\n`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { options } = this;
    const path = (req.url ?? '').split('?')[0];
    if (path !== storeEventsPath) return this.reply(res, 404, `not found: notifications go to POST ${storeEventsPath}`);
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return this.reply(res, 405, 'method not allowed: use POST');
    }
    if (!authorized(req.headers.authorization, options.token)) {
      options.onRequest?.('unauthorized');
      res.setHeader('www-authenticate', 'Bearer');
      return this.reply(res, 401, 'unauthorized: send the notification token as Authorization: Bearer <token>');
    }
    let changes: ObjectChange[];
    try {
      const body = await readBody(req);
      changes = parseEvent(JSON.parse(body.toString('utf8')) as unknown);
    } catch (e: unknown) {
      options.onRequest?.('invalid');
      if (e instanceof BodyTooLargeError) return this.reply(res, 413, `the body is larger than ${maxBodyBytes} bytes`);
      if (e instanceof NotificationFormatError) return this.reply(res, 400, e.message);
      if (e instanceof SyntaxError) return this.reply(res, 400, 'the body is not JSON');
      options.logger.warn('store notification unreadable', errorFields(e));
      return this.reply(res, 400, 'the body could not be read');
    }
    const enqueued = options.onChanges(changes);
    options.onRequest?.('accepted');
    options.logger.debug('store notification', { objects: changes.length, enqueued });
    return this.reply(res, 204);
  }
}

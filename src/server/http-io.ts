// The HTTP plumbing both of the server's listeners share (the inference API and the feedback API): JSON answers,
// bounded JSON bodies, and the error an HTTP status stands for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError } from './requests.js';

/** An answer other than 200 decided by the server (404, 405, 413, 503, ...): the message goes to the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function send(res: ServerResponse, status: number, body: unknown, modelVersion?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(modelVersion !== undefined ? { 'x-model-version': modelVersion } : {}),
  });
  res.end(text);
}

/**
 * Reads a JSON body of at most `limit` bytes: 413 past it, 400 for bad JSON. An oversized body is not buffered:
 * the rest is discarded and the connection closed after the answer (the stream is not destroyed, or the client
 * would never see the 413).
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const text = await new Promise<string>((resolve, reject) => {
    const tooLarge = (what: string): void => {
      req.removeAllListeners('data');
      req.on('data', () => undefined);
      reject(new HttpError(413, `body too large: ${what}, at most ${limit} bytes`));
    };
    if (Number.isFinite(declared) && declared > limit) return tooLarge(`${declared} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return tooLarge(`more than ${limit} bytes`);
      chunks.push(chunk);
      return undefined;
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
  if (text.trim() === '') throw new BadRequestError('empty body: expected JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch (e: unknown) {
    throw new BadRequestError(`malformed JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

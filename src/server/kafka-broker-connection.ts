// One connection of the sink's producer to one Kafka broker (node:net, or node:tls when the config says tls): the
// size-prefixed framing, correlation ids, a timeout per request, and the handshake every connection starts with:
// ApiVersions (the versions kafka-protocol.ts speaks must be among the broker's), then SASL when configured
// (SaslHandshake naming the mechanism, SaslAuthenticate rounds with kafka-sasl.ts's messages). Anything that goes
// wrong (refused, reset, closed, timed out, an error code) fails the request, and every later one: the connection is
// done, and the sender starts over with a new producer (kafka-sender.ts).
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { KafkaSinkConfig } from './kafka-producer.js';
import {
  apiKeys, chooseVersions, decodeApiVersions, decodeSaslAuthenticate, decodeSaslHandshake, encodeSaslAuthenticate, encodeSaslHandshake,
  frameRequest, type ApiKey,
} from './kafka-protocol.js';
import { plainMessage, scramCheckServerFinal, scramClientFinal, scramClientFirst, scramNonce } from './kafka-sasl.js';

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly sasl: KafkaSinkConfig['sasl'];
  readonly clientId: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** `host:port` (a bracketed IPv6 address too) as host and port. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address.trim());
  if (m === null) throw new Error(`not a host:port Kafka address: "${address}"`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/**
 * Splits a stream of size-prefixed frames: `push` each chunk read, get back the frames it completed (each without
 * its size). A frame split over chunks waits for the rest.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let at = 0;
    while (this.pending.length - at >= 4) {
      const size = this.pending.readInt32BE(at);
      if (this.pending.length - at - 4 < size) break;
      frames.push(this.pending.subarray(at + 4, at + 4 + size));
      at += 4 + size;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }
}

export class BrokerConnection {
  private nextCorrelationId = 0;
  private readonly waiting = new Map<number, { resolve: (body: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private failure: Error | undefined;
  private versions = new Map<ApiKey, number>();

  private constructor(private readonly socket: Socket, private readonly o: ConnectionOptions) {
    const frames = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of frames.push(chunk)) {
        const id = frame.readInt32BE(0);
        const w = this.waiting.get(id);
        if (w === undefined) continue; // the answer to a request that timed out: the connection is failing anyway
        this.waiting.delete(id);
        clearTimeout(w.timer);
        w.resolve(frame.subarray(4));
      }
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error(`the connection to the Kafka broker ${o.host}:${o.port} closed`)));
  }

  /** Connects, checks the broker's API versions and authenticates: ready for requests. */
  static async open(o: ConnectionOptions): Promise<BrokerConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket = o.tls
        ? tlsConnect({ host: o.host, port: o.port, ...(isIP(o.host) === 0 ? { servername: o.host } : {}) })
        : netConnect({ host: o.host, port: o.port });
      const timer = setTimeout(() => s.destroy(new Error(`connecting to the Kafka broker ${o.host}:${o.port} timed out after ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
      s.once(o.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    socket.setNoDelay(true);
    const c = new BrokerConnection(socket, o);
    try {
      c.versions = chooseVersions(decodeApiVersions(await c.request(apiKeys.apiVersions, Buffer.alloc(0), 2)));
      if (o.sasl !== undefined) await c.authenticate(o.sasl);
    } catch (e: unknown) {
      c.close();
      throw e;
    }
    return c;
  }

  /** The version this connection speaks of `key` (chosen from the broker's ApiVersions). */
  version(key: ApiKey): number {
    const v = this.versions.get(key);
    if (v === undefined) throw new Error(`no version chosen for API ${key}`);
    return v;
  }

  /** A correlation id for a request framed by the caller (Produce: kafka-produce-request.ts). */
  correlationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) | 0;
    return id;
  }

  /** Sends a request with `body`, in this connection's version of it (or `version`); the response's body. */
  request(key: ApiKey, body: Buffer, version = this.version(key)): Promise<Buffer> {
    const id = this.correlationId();
    return this.send(frameRequest(key, version, id, this.o.clientId, body), id);
  }

  /** Sends a whole framed request whose correlation id is `id`; the response's body. */
  send(framed: Buffer, id: number): Promise<Buffer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`the Kafka broker ${this.o.host}:${this.o.port} did not answer within ${this.o.requestTimeoutMs} ms`)), this.o.requestTimeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.socket.write(framed);
    });
  }

  close(): void {
    this.fail(new Error('the connection to the Kafka broker was closed'));
  }

  /** The connection is done: every waiting request fails with `e`, and every later one. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(this.failure);
      this.waiting.delete(id);
    }
    this.socket.destroy();
  }

  private async authenticate(sasl: NonNullable<KafkaSinkConfig['sasl']>): Promise<void> {
    const mechanism = sasl.mechanism.toUpperCase();
    decodeSaslHandshake(await this.request(apiKeys.saslHandshake, encodeSaslHandshake(mechanism)), mechanism);
    const round = async (message: Buffer): Promise<Buffer> => decodeSaslAuthenticate(await this.request(apiKeys.saslAuthenticate, encodeSaslAuthenticate(message)));
    if (sasl.mechanism === 'plain') {
      await round(plainMessage(sasl.username, sasl.password));
      return;
    }
    const nonce = scramNonce();
    const first = scramClientFirst(sasl.username, nonce);
    const serverFirst = (await round(Buffer.from(first.message, 'utf8'))).toString('utf8');
    const final = scramClientFinal(sasl.mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', sasl.password, first.bare, nonce, serverFirst);
    scramCheckServerFinal((await round(Buffer.from(final.message, 'utf8'))).toString('utf8'), final.serverSignature);
  }
}

// Prediction ids that cannot be forged. The server answers every prediction with an id that carries what a label
// needs to be scored anywhere (the model version, the track, the time and the prediction itself) and an HMAC over
// it with the deployment's signing key, bound to the deployment's name. Any replica of the deployment — whichever
// version it serves — can verify an id and score its label without having seen the prediction; an id made up by a
// client, edited, or minted by another deployment fails verification. Version 1:
//
//   p1.<base64url(JSON [nonce, version, track, timeMs, prediction(, probabilities)])>.<base64url(first 16 bytes of HMAC-SHA256)>
//
// probabilities (classification, at most maxIdClasses classes): the class probabilities in the model's class
// order as integers in millionths, so a label scores the live log loss wherever it lands. An id without them (more
// classes, or a regression) scores accuracy or squared error only.
//
// The HMAC input is `<namespace>/<deployment>\n` followed by the id up to the last dot. Language-neutral: another
// server implementation signs and verifies the same way. An id is ASCII: its signature is the one canonical
// base64url text of the MAC (22 characters, no padding), compared as text: the other spellings a lenient base64
// decoder accepts for the same bytes (other low bits in the last character, `=` padding) are refused, so one
// prediction cannot be labelled twice on a replica under two spellings of its id (labelled-ids.ts keys by the text).
import * as crypto from 'node:crypto';
import { createHash, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';

export const predictionIdVersion = 'p1';
/** Longer ids are refused before any work is spent on them. */
export const maxPredictionIdLength = 1024;
const macBytes = 16;

export interface PredictionClaim {
  /** 16 random bytes, base64url: makes every id unique. */
  readonly nonce: string;
  readonly version: string;
  readonly track: string;
  /** Prediction time, epoch milliseconds. */
  readonly timeMs: number;
  /** The predicted class (classification) or value (regression). */
  readonly prediction: string | number;
  /** Class probabilities in the model's class order, rounded to millionths (classification only). */
  readonly probabilities?: readonly number[];
}

/** Ids carry probabilities only up to this many classes (an id stays well under maxPredictionIdLength). */
export const maxIdClasses = 32;
const millionths = 1_000_000;

export type VerifyResult =
  | { readonly ok: true; readonly claim: PredictionClaim }
  | { readonly ok: false; readonly reason: string };

// HMAC-SHA256 (RFC 2104) is H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ message)). Computed here from the padded key blocks with
// two one-shot hashes (crypto.hash, Node ≥ 20.12) into buffers kept per key and deployment: createHmac's object and
// three calls cost the server 2.4 µs per id, this 1.0 (bench/server-profile.ts). Same bytes as createHmac (tested).
const shaBlock = 64;
const oneShot: ((algorithm: string, data: Buffer, encoding: 'binary') => string) | undefined =
  typeof (crypto as { hash?: unknown }).hash === 'function' ? crypto.hash : undefined;

class IdMac {
  /** (K ⊕ ipad) ‖ `<deployment>\n`, then room for the signed part of an id. */
  private readonly inner: Buffer;
  private readonly prefixBytes: number;
  /** (K ⊕ opad) ‖ the inner digest. */
  private readonly outer = Buffer.alloc(shaBlock + 32);

  constructor(private readonly key: Buffer, private readonly deployment: string) {
    const k = key.length > shaBlock ? createHash('sha256').update(key).digest() : key;
    const prefix = Buffer.from(`${deployment}\n`, 'utf8');
    this.prefixBytes = shaBlock + prefix.length;
    this.inner = Buffer.alloc(this.prefixBytes + maxPredictionIdLength);
    for (let i = 0; i < shaBlock; i++) {
      this.inner[i] = (k[i] ?? 0) ^ 0x36;
      this.outer[i] = (k[i] ?? 0) ^ 0x5c;
    }
    prefix.copy(this.inner, shaBlock);
  }

  /** The first macBytes of the HMAC of `<deployment>\n<signed>`, base64url; `signed` is ASCII (checked by the callers). */
  tag(signed: string): string {
    if (oneShot === undefined || signed.length > maxPredictionIdLength) {
      return createHmac('sha256', this.key).update(`${this.deployment}\n${signed}`).digest().toString('base64url', 0, macBytes);
    }
    const n = this.inner.write(signed, this.prefixBytes, 'latin1');
    this.outer.write(oneShot('sha256', this.inner.subarray(0, this.prefixBytes + n), 'binary'), shaBlock, 'latin1');
    return base64urlOfFirst16(oneShot('sha256', this.outer, 'binary'));
  }
}

const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url (no padding) of the first 16 bytes of a binary string: 22 characters. */
function base64urlOfFirst16(s: string): string {
  let out = '';
  for (let i = 0; i < 15; i += 3) {
    const n = (s.charCodeAt(i) << 16) | (s.charCodeAt(i + 1) << 8) | s.charCodeAt(i + 2);
    out += base64url.charAt(n >>> 18) + base64url.charAt((n >>> 12) & 63) + base64url.charAt((n >>> 6) & 63) + base64url.charAt(n & 63);
  }
  const last = s.charCodeAt(15);
  return out + base64url.charAt(last >>> 2) + base64url.charAt((last & 3) << 4);
}

const macs = new WeakMap<Buffer, Map<string, IdMac>>();

function macOf(key: Buffer, deployment: string): IdMac {
  let byDeployment = macs.get(key);
  if (byDeployment === undefined) macs.set(key, (byDeployment = new Map<string, IdMac>()));
  let m = byDeployment.get(deployment);
  if (m === undefined) byDeployment.set(deployment, (m = new IdMac(key, deployment)));
  return m;
}

/** The whole form of an id: the version, a base64url payload and a canonical 22-character base64url signature. */
const idForm = /^p1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{21}[AQgw]$/;

// Nonces are cut from a pool of random bytes refilled 256 nonces at a time: one call into the CSPRNG per nonce cost
// the server more than the HMAC (bench/server-profile.ts). Each byte is used once.
const nonceBytes = 16;
const noncePool = Buffer.alloc(nonceBytes * 256);
let nonceAt = noncePool.length;

export function newNonce(): string {
  if (nonceAt === noncePool.length) {
    randomFillSync(noncePool);
    nonceAt = 0;
  }
  nonceAt += nonceBytes;
  return noncePool.toString('base64url', nonceAt - nonceBytes, nonceAt);
}

const payloadScratch = Buffer.alloc(4096);

/** The id of one prediction; `deployment` is `<namespace>/<name>`. */
export function signPredictionId(key: Buffer, deployment: string, claim: PredictionClaim): string {
  const fields: unknown[] = [claim.nonce, claim.version, claim.track, claim.timeMs, claim.prediction];
  const p = claim.probabilities;
  if (p !== undefined && p.length > 0 && p.length <= maxIdClasses) fields.push(p.map((x) => Math.round(Math.min(1, Math.max(0, x)) * millionths)));
  const json = JSON.stringify(fields);
  // Encoded through a reused buffer when it surely fits (UTF-8 takes at most 3 bytes per UTF-16 unit): no Buffer per id.
  const payload = json.length * 3 <= payloadScratch.length
    ? payloadScratch.toString('base64url', 0, payloadScratch.write(json, 0, 'utf8'))
    : Buffer.from(json, 'utf8').toString('base64url');
  const signed = `${predictionIdVersion}.${payload}`;
  return `${signed}.${macOf(key, deployment).tag(signed)}`;
}

/** Checks an id's form and signature; the reason of a refusal is safe to show the client. */
export function verifyPredictionId(key: Buffer, deployment: string, id: string): VerifyResult {
  if (id.length > maxPredictionIdLength) return { ok: false, reason: `id longer than ${maxPredictionIdLength} characters` };
  const parts = id.split('.');
  if (parts.length !== 3 || parts[0] !== predictionIdVersion) return { ok: false, reason: 'not a prediction id of this server' };
  const [, payload = '', sig = ''] = parts;
  if (!idForm.test(id)) return { ok: false, reason: 'not a prediction id of this deployment (signature does not match)' };
  const given = Buffer.from(sig, 'latin1');
  const expected = Buffer.from(macOf(key, deployment).tag(`${predictionIdVersion}.${payload}`), 'latin1');
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: 'not a prediction id of this deployment (signature does not match)' };
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'prediction id payload is not readable' };
  }
  if (!Array.isArray(fields) || (fields.length !== 5 && fields.length !== 6)) return { ok: false, reason: 'prediction id payload is not readable' };
  const [nonce, version, track, timeMs, prediction, probs] = fields as unknown[];
  if (typeof nonce !== 'string' || typeof version !== 'string' || typeof track !== 'string' || typeof timeMs !== 'number' ||
    (typeof prediction !== 'string' && typeof prediction !== 'number')) {
    return { ok: false, reason: 'prediction id payload is not readable' };
  }
  if (probs === undefined) return { ok: true, claim: { nonce, version, track, timeMs, prediction } };
  if (!Array.isArray(probs) || probs.length === 0 || probs.length > maxIdClasses || !probs.every((x) => Number.isInteger(x) && x >= 0 && x <= millionths)) {
    return { ok: false, reason: 'prediction id payload is not readable' };
  }
  return { ok: true, claim: { nonce, version, track, timeMs, prediction, probabilities: (probs as number[]).map((x) => x / millionths) } };
}

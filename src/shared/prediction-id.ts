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
// server implementation signs and verifies the same way.
import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';

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

function mac(key: Buffer, deployment: string, signed: string): Buffer {
  return createHmac('sha256', key).update(`${deployment}\n${signed}`).digest().subarray(0, macBytes);
}

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

/** The id of one prediction; `deployment` is `<namespace>/<name>`. */
export function signPredictionId(key: Buffer, deployment: string, claim: PredictionClaim): string {
  const fields: unknown[] = [claim.nonce, claim.version, claim.track, claim.timeMs, claim.prediction];
  const p = claim.probabilities;
  if (p !== undefined && p.length > 0 && p.length <= maxIdClasses) fields.push(p.map((x) => Math.round(Math.min(1, Math.max(0, x)) * millionths)));
  const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
  const signed = `${predictionIdVersion}.${payload}`;
  return `${signed}.${mac(key, deployment, signed).toString('base64url')}`;
}

/** Checks an id's form and signature; the reason of a refusal is safe to show the client. */
export function verifyPredictionId(key: Buffer, deployment: string, id: string): VerifyResult {
  if (id.length > maxPredictionIdLength) return { ok: false, reason: `id longer than ${maxPredictionIdLength} characters` };
  const parts = id.split('.');
  if (parts.length !== 3 || parts[0] !== predictionIdVersion) return { ok: false, reason: 'not a prediction id of this server' };
  const [, payload = '', sig = ''] = parts;
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(key, deployment, `${predictionIdVersion}.${payload}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'not a prediction id of this deployment (signature does not match)' };
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

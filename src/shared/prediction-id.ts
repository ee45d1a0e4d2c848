// Prediction ids that cannot be forged. The server answers every prediction with an id that carries what a label
// needs to be scored anywhere (the model version, the track, the time and the prediction itself) and an HMAC over
// it with the deployment's signing key, bound to the deployment's name. Any replica of the deployment — whichever
// version it serves — can verify an id and score its label without having seen the prediction; an id made up by a
// client, edited, or minted by another deployment fails verification. Version 1:
//
//   p1.<base64url(JSON [nonce, version, track, timeMs, prediction])>.<base64url(first 16 bytes of HMAC-SHA256)>
//
// The HMAC input is `<namespace>/<deployment>\n` followed by the id up to the last dot. Language-neutral: another
// server implementation signs and verifies the same way.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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
}

export type VerifyResult =
  | { readonly ok: true; readonly claim: PredictionClaim }
  | { readonly ok: false; readonly reason: string };

function mac(key: Buffer, deployment: string, signed: string): Buffer {
  return createHmac('sha256', key).update(`${deployment}\n${signed}`).digest().subarray(0, macBytes);
}

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The id of one prediction; `deployment` is `<namespace>/<name>`. */
export function signPredictionId(key: Buffer, deployment: string, claim: PredictionClaim): string {
  const payload = Buffer.from(JSON.stringify([claim.nonce, claim.version, claim.track, claim.timeMs, claim.prediction])).toString('base64url');
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
  if (!Array.isArray(fields) || fields.length !== 5) return { ok: false, reason: 'prediction id payload is not readable' };
  const [nonce, version, track, timeMs, prediction] = fields as unknown[];
  if (typeof nonce !== 'string' || typeof version !== 'string' || typeof track !== 'string' || typeof timeMs !== 'number' ||
    (typeof prediction !== 'string' && typeof prediction !== 'number')) {
    return { ok: false, reason: 'prediction id payload is not readable' };
  }
  return { ok: true, claim: { nonce, version, track, timeMs, prediction } };
}

// The SASL messages of the sink's producer, as pure functions (kafka-broker-connection.ts sends them in
// SaslAuthenticate requests after a SaslHandshake naming the mechanism):
//   PLAIN (RFC 4616)            one message: authorization id (empty), user name and password, NUL-separated
//   SCRAM-SHA-256/512 (RFC 5802, RFC 7677)
//     client-first  "n,,n=<user>,r=<client nonce>"
//     server-first  "r=<client nonce + server nonce>,s=<salt, base64>,i=<iterations>"
//     client-final  "c=biws,r=<nonce>,p=<proof>": proof = ClientKey XOR HMAC(H(ClientKey), AuthMessage), where
//                   ClientKey = HMAC(SaltedPassword, "Client Key"), SaltedPassword = PBKDF2(password, salt, i)
//     server-final  "v=<server signature>": checked, so a broker that does not know the password is not trusted
// The password is not normalized with SASLprep (kafkajs did not either): an ASCII password is the same either way.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramHash = 'sha256' | 'sha512';

/** The PLAIN mechanism's one message. */
export function plainMessage(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`, 'utf8');
}

/** A SCRAM user name as the protocol writes it: '=' and ',' escaped. */
export function scramName(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** A client nonce: 24 random bytes in base64 (printable, no comma). */
export function scramNonce(): string {
  return randomBytes(24).toString('base64');
}

/** The client-first message, and its bare part (without the GS2 header), which the proof covers. */
export function scramClientFirst(username: string, nonce: string): { message: string; bare: string } {
  const bare = `n=${scramName(username)},r=${nonce}`;
  return { message: `n,,${bare}`, bare };
}

/** The fields of a SCRAM message ("k=v,k=v"). */
function fields(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/**
 * The client-final message for the server-first message, and the server signature the server-final must carry.
 * Throws on a server-first that does not continue the client's nonce, or has no salt or a low iteration count.
 */
export function scramClientFinal(hash: ScramHash, password: string, clientFirstBare: string, clientNonce: string, serverFirst: string): { message: string; serverSignature: string } {
  const f = fields(serverFirst);
  const nonce = f.get('r') ?? '';
  const salt = Buffer.from(f.get('s') ?? '', 'base64');
  const iterations = Number(f.get('i'));
  if (f.has('e')) throw new Error(`SCRAM: the broker refused: ${f.get('e') ?? ''}`);
  if (!nonce.startsWith(clientNonce) || nonce.length <= clientNonce.length) throw new Error('SCRAM: the broker\'s nonce does not continue ours');
  if (salt.length === 0 || !Number.isInteger(iterations) || iterations < 4096) throw new Error(`SCRAM: unusable salt or iteration count in "${serverFirst}"`);
  const keyLength = hash === 'sha256' ? 32 : 64;
  const saltedPassword = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyLength, hash);
  const hmac = (key: Buffer, text: string): Buffer => createHmac(hash, key).update(text, 'utf8').digest();
  const clientKey = hmac(saltedPassword, 'Client Key');
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=biws,r=${nonce}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const clientSignature = hmac(storedKey, authMessage);
  const proof = Buffer.alloc(clientKey.length);
  for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] ?? 0) ^ (clientSignature[i] ?? 0);
  const serverSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage).toString('base64');
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature };
}

/** Throws unless the server-final message carries the expected server signature. */
export function scramCheckServerFinal(serverFinal: string, serverSignature: string): void {
  const f = fields(serverFinal);
  if (f.has('e')) throw new Error(`SCRAM: the broker refused: ${f.get('e') ?? ''}`);
  const got = Buffer.from(f.get('v') ?? '', 'base64');
  const want = Buffer.from(serverSignature, 'base64');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error('SCRAM: the broker\'s signature is wrong (it does not know the password)');
}

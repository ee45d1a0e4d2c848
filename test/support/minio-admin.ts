// MinIO's admin API, the three calls `mc admin user add`, `mc admin policy create` and `mc admin policy attach`
// make: for tests that need store credentials narrower than the root user's (a user whose policy allows one bucket).
// Requests are signed with AWS Signature V4 as any S3 request; the new user's secret travels encrypted as madmin
// does it (PBKDF2-SHA256 key from the caller's secret key, AES-256-GCM in sio's stream format, one fragment).
import { createCipheriv, createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { request } from 'node:http';

export interface MinioRoot {
  /** http://host:port of the MinIO server. */
  readonly url: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** madmin.EncryptData with the PBKDF2/AES-GCM algorithm (id 0x02), which every MinIO server decrypts. */
export function madminEncrypt(password: string, data: Buffer): Buffer {
  if (data.length >= 1 << 14) throw new Error('one sio fragment holds less than 16 KiB');
  const salt = randomBytes(32);
  const key = pbkdf2Sync(password, salt, 8192, 32, 'sha256');
  const nonce = randomBytes(8);
  const iv = (sequence: number): Buffer => {
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(sequence);
    return Buffer.concat([nonce, seq]);
  };
  // sio binds every fragment to the stream: its associated data is a flag byte (0x80 on the final fragment) and the
  // tag of an empty message under sequence number 0; the fragments then count from 1.
  const binding = createCipheriv('aes-256-gcm', key, iv(0));
  binding.final();
  const associated = Buffer.concat([Buffer.from([0x80]), binding.getAuthTag()]);
  const cipher = createCipheriv('aes-256-gcm', key, iv(1));
  cipher.setAAD(associated);
  const sealed = Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([salt, Buffer.from([0x02]), nonce, sealed]);
}

async function adminCall(root: MinioRoot, path: string, query: Readonly<Record<string, string>>, body: Buffer): Promise<void> {
  const url = new URL(`/minio/admin/v3/${path}`, root.url);
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const payload = sha256(body);
  const canonicalQuery = Object.entries(query).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
  const signed = 'host;x-amz-content-sha256;x-amz-date';
  const canonical = ['PUT', url.pathname, canonicalQuery, `host:${url.host}\nx-amz-content-sha256:${payload}\nx-amz-date:${amzDate}\n`, signed, payload].join('\n');
  const scope = `${day}/${root.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const signingKey = ['s3', 'aws4_request'].reduce((k, part) => hmac(k, part), hmac(hmac(`AWS4${root.secretKey}`, day), root.region));
  const authorization = `AWS4-HMAC-SHA256 Credential=${root.accessKey}/${scope}, SignedHeaders=${signed}, Signature=${hmac(signingKey, toSign).toString('hex')}`;
  await new Promise<void>((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, method: 'PUT', path: `${url.pathname}?${canonicalQuery}`,
      headers: { host: url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payload, authorization, 'content-length': body.length },
    }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`MinIO admin ${path}: ${res.statusCode ?? '?'} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A MinIO user (access key and secret) allowed only what the policy document says. */
export async function addUserWithPolicy(root: MinioRoot, accessKey: string, secretKey: string, policy: object): Promise<void> {
  await adminCall(root, 'add-user', { accessKey }, madminEncrypt(root.secretKey, Buffer.from(JSON.stringify({ secretKey, status: 'enabled' }))));
  const name = `${accessKey}-policy`;
  await adminCall(root, 'add-canned-policy', { name }, Buffer.from(JSON.stringify(policy)));
  await adminCall(root, 'set-user-or-group-policy', { policyName: name, userOrGroup: accessKey, isGroup: 'false' }, Buffer.alloc(0));
}

/** The IAM policy of a user who may list, read, write and delete in one bucket and nowhere else. */
export function oneBucketPolicy(bucket: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      // Streams of unknown size go up in parts: the multipart calls too.
      { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'], Resource: [`arn:aws:s3:::${bucket}`] },
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: [`arn:aws:s3:::${bucket}/*`] },
    ],
  };
}

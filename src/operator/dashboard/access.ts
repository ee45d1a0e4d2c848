// Who may see what on the dashboard: the same RBAC as the resources. Each request carries the user's bearer token
// (an Authorization header, or the cookie the login form sets); the API server says whose it is (TokenReview) and
// whether that user may get and list TrainingPipelines and ModelDeployments in a namespace (SubjectAccessReview).
// The operator reads with its own credentials only what these reviews allowed. Answers are kept for 30 s per
// token (by its SHA-256, never the token itself) so a page's requests do not each ask the API server.
import { createHash } from 'node:crypto';
import type { KubeHttp } from '../runtime/kube-http.js';

export interface User {
  readonly username: string;
  readonly uid?: string | undefined;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>> | undefined;
}

/** The checks a namespace must pass: get and list of both resources (what `kubectl get` of them needs). */
export const requiredAccess: readonly { readonly verb: string; readonly resource: string }[] = [
  { verb: 'list', resource: 'trainingpipelines' }, { verb: 'get', resource: 'trainingpipelines' },
  { verb: 'list', resource: 'modeldeployments' }, { verb: 'get', resource: 'modeldeployments' },
];

/** The token of a request: Authorization: Bearer <token>, else the perennial_token cookie. */
export function requestToken(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const auth = headers['authorization'];
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const cookie = headers['cookie'];
  if (typeof cookie === 'string') {
    for (const part of cookie.split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === tokenCookie && v.length > 0) {
        const value = decodeURIComponent(v.join('='));
        if (value !== '') return value;
      }
    }
  }
  return undefined;
}

export const tokenCookie = 'perennial_token';

interface TokenReviewStatus { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> }; error?: string }
interface AccessReviewStatus { allowed?: boolean }

interface Kept<T> { readonly value: T; readonly until: number }

export class Access {
  private readonly users = new Map<string, Kept<User | undefined>>();
  private readonly grants = new Map<string, Kept<boolean>>();

  constructor(
    private readonly http: KubeHttp,
    private readonly now: () => number = Date.now,
    private readonly keepMs = 30_000,
    /** Most answers kept; the oldest go first. */
    private readonly limit = 10_000,
  ) {}

  /** The user the token belongs to, or undefined when the API server does not accept it. */
  async user(token: string): Promise<User | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const kept = this.kept(this.users, key);
    if (kept) return kept.value;
    const review = await this.http.request<{ status?: TokenReviewStatus }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const s = review.status;
    const user = s?.authenticated === true && s.user?.username
      ? { username: s.user.username, uid: s.user.uid, groups: s.user.groups ?? [], extra: s.user.extra }
      : undefined;
    this.keep(this.users, key, user);
    return user;
  }

  /** Whether the user may get and list both resources in the namespace (every check of requiredAccess). */
  async mayRead(user: User, namespace: string): Promise<boolean> {
    const key = `${JSON.stringify([user.username, user.uid, user.groups])}\u0000${namespace}`;
    const kept = this.kept(this.grants, key);
    if (kept) return kept.value;
    const answers = await Promise.all(requiredAccess.map((a) => this.http.request<{ status?: AccessReviewStatus }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: {
          user: user.username, uid: user.uid, groups: user.groups, extra: user.extra,
          resourceAttributes: { namespace, verb: a.verb, group: 'perennial.dev', resource: a.resource },
        },
      },
    })));
    const allowed = answers.every((r) => r.status?.allowed === true);
    this.keep(this.grants, key, allowed);
    return allowed;
  }

  private kept<T>(map: Map<string, Kept<T>>, key: string): Kept<T> | undefined {
    const k = map.get(key);
    if (k && k.until > this.now()) return k;
    if (k) map.delete(key);
    return undefined;
  }

  private keep<T>(map: Map<string, Kept<T>>, key: string, value: T): void {
    map.set(key, { value, until: this.now() + this.keepMs });
    if (map.size > this.limit) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
}

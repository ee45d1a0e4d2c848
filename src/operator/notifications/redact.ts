// A webhook URL is a secret (a Slack incoming webhook's path is its credential; others carry tokens in the query or
// user info): logs name a destination by its scheme and host only. Pure.

/** scheme://host[:port]/… — never the user info, path, query or fragment; "(invalid URL)" for anything unparsable. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '';
    return `${u.protocol}//${u.host}${hidden ? '/…' : '/'}`;
  } catch {
    return '(invalid URL)';
  }
}

// HTML building blocks of the dashboard. Every value that can come from a user or a model (object names, run
// messages, feature names, versions) is written through escapeHtml; attributes are always double-quoted.

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A path segment (a namespace or object name) for an href. */
export const seg = (s: string): string => encodeURIComponent(s);

export function table(header: readonly string[], rows: readonly (readonly string[])[], rawColumns: readonly number[] = []): string {
  if (rows.length === 0) return '<p class="empty">None.</p>';
  const cell = (c: string, i: number): string => `<td>${rawColumns.includes(i) ? c : escapeHtml(c)}</td>`;
  return `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>`
    + rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('') + '</tbody></table>';
}

/** A link; href is built from seg() parts, text is escaped. */
export const link = (href: string, text: string): string => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;

export function page(title: string, body: string, user: string | undefined): string {
  const who = user === undefined ? '' : `<span class="user">${escapeHtml(user)} · <a href="/logout">log out</a></span>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Perennial</title>`
    + '<link rel="stylesheet" href="/static/style.css"><link rel="icon" href="data:,"></head>'
    + `<body><header><a href="/" class="brand">Perennial</a>${who}</header><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

export const stylesheet = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
header { background: #1b4332; color: #fff; padding: 8px 16px; display: flex; justify-content: space-between; }
header a { color: #fff; }
.brand { font-weight: bold; text-decoration: none; }
main { padding: 8px 16px 32px; max-width: 1100px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.empty { color: #777; font-style: italic; }
.Passed, .Blessed, .True { color: #2b7a2b; } .Failed, .Rejected, .False { color: #b22; } .Inconclusive, .Running { color: #b36b00; }
.current { font-weight: bold; background: #fff6d5; }
svg text { font: 11px system-ui, sans-serif; }
svg text:not([fill]) { fill: #333; }
figure { margin: 8px 0 16px; } figcaption { font-weight: bold; }
.better { color: #2b7a2b; } .worse { color: #b22; }
`;

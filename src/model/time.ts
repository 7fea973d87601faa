let lastSecond = NaN;
let lastText = '';

/** RFC 3339 in whole seconds, as Kubernetes writes timestamps (e.g. in annotations and status conditions). */
export function rfc3339(d: Date): string {
  // Asked for once per reconcile: the text of the current second is kept.
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastSecond) {
    lastText = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastSecond = second;
  }
  return lastText;
}

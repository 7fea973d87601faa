/** RFC 3339 in whole seconds, as Kubernetes writes timestamps (e.g. in annotations and status conditions). */
export const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

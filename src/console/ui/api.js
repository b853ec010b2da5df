// The console's API from the browser: JSON in and out, the CSRF header on every change, and the
// server's {code, message} as an ApiError.

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-Zcsp-Csrf'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined && { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError(0, 'Unreachable', 'the console does not answer; check your connection and try again');
  }
  if (res.status === 204) return undefined;
  /** @type {any} */
  let data;
  try {
    data = await res.json();
  } catch {
    data = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, data?.code ?? 'Error', data?.message ?? `${res.status} ${res.statusText}`);
  return data;
}

/** @param {string} namespace @param {string} name */
export const vpgPath = (namespace, name) => `/api/vpgs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

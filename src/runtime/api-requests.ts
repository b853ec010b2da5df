// What a request to the API server is, in the words of the API server's own RequestInfo: a verb
// (get, list, watch, create, update, patch, apply, delete, deletecollection) and a resource
// ("configmaps", "vpgs.zcsp.io/status"). The client counts every request it sends by these, so a
// test can assert that an operator at steady state writes nothing.

export interface RequestInfo {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
}

export const WRITE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'apply', 'delete', 'deletecollection']);

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Classifies a request from its method, URL and content type (apply patches are `apply`). */
export function classifyRequest(method: string, url: string, contentType?: string): RequestInfo {
  const u = new URL(url, 'https://api.invalid');
  const parts = u.pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  let rest: string[];
  let group = '';
  if (parts[0] === 'api' && parts.length >= 2) {
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else {
    return { verb: method.toLowerCase(), resource: u.pathname };
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] ?? '')) rest = rest.slice(2);
  }
  const [plural = '', name, subresource] = rest;
  const resource = `${plural}${group === '' ? '' : `.${group}`}${subresource === undefined ? '' : `/${subresource}`}`;
  const info: RequestInfo = { verb: verbOf(method, name !== undefined, u.searchParams.get('watch') === 'true', contentType), resource };
  if (namespace !== undefined) info.namespace = namespace;
  if (name !== undefined) info.name = name;
  return info;
}

function verbOf(method: string, named: boolean, watch: boolean, contentType: string | undefined): string {
  switch (method.toUpperCase()) {
    case 'GET':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return contentType?.startsWith('application/apply-patch') === true ? 'apply' : 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

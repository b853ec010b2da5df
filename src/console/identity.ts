// Who a token belongs to (TokenReview) and what that user may do (SubjectAccessReview), both
// asked by the console with its own identity, and an API client that acts as the user: the
// console's cluster endpoint and CA with the user's token and nothing of the console's own
// credentials.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../runtime/index.ts';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface ResourceAttributes {
  group: string;
  resource: string;
  verb: string;
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

interface TokenReviewAnswer {
  status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
}

interface AccessReviewAnswer {
  status?: { allowed?: boolean };
}

export class Identity {
  readonly #client: KubeClient;
  readonly #kubeConfig: KubeConfig;

  /** `client`: the console's own; its kubeconfig's cluster is where users' clients go. */
  constructor(client: KubeClient) {
    this.#client = client;
    this.#kubeConfig = client.kubeConfig;
  }

  /** The user the token authenticates as; undefined when the API server does not accept it. */
  async authenticate(token: string): Promise<UserInfo | undefined> {
    if (token === '' || token.length > 16_384 || /\s/.test(token)) return undefined;
    const review = await this.#client.request<TokenReviewAnswer>({
      method: 'POST', path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const user = review.status?.user;
    if (review.status?.authenticated !== true || user?.username === undefined) return undefined;
    return {
      username: user.username, groups: user.groups ?? [],
      ...(user.uid !== undefined && { uid: user.uid }), ...(user.extra !== undefined && { extra: user.extra }),
    };
  }

  /** Whether `user` may do this, as the API server's authorizer answers (RBAC, and any other). */
  async can(user: UserInfo, attributes: ResourceAttributes): Promise<boolean> {
    const resourceAttributes = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== undefined));
    const review = await this.#client.request<AccessReviewAnswer>({
      method: 'POST', path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: {
          user: user.username, groups: user.groups, resourceAttributes,
          ...(user.uid !== undefined && { uid: user.uid }), ...(user.extra !== undefined && { extra: user.extra }),
        },
      },
    });
    return review.status?.allowed === true;
  }

  /** A client that acts as the holder of `token`. */
  clientFor(token: string): KubeClient {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('the console\'s kubeconfig has no current cluster');
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster], users: [{ name: 'console-user', token }],
      contexts: [{ name: 'console-user', cluster: cluster.name, user: 'console-user' }], currentContext: 'console-user',
    });
    return new KubeClient(kc, { userAgent: 'zcsp-console' });
  }
}

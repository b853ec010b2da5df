// Pod IPs of one simulated node. Every pod gets its own loopback address in the node's /24
// (Linux routes all of 127.0.0.0/8 to `lo`, so no interface needs configuring): the node itself
// is <subnet>.1, pods get .2–.254. Addresses are handed out round-robin rather than lowest-free,
// like host-local IPAM, so an address that was just freed is not reused at once and stray traffic
// for a deleted pod does not reach its successor.

const FIRST_POD_HOST = 2;
const LAST_POD_HOST = 254;

export class IpPool {
  readonly subnet: string;
  readonly nodeIp: string;
  readonly #byOwner = new Map<string, number>();
  readonly #owners = new Map<number, string>();
  #next = FIRST_POD_HOST;

  /** @param subnet the first three octets, e.g. "127.0.41". */
  constructor(subnet: string) {
    const octets = subnet.split('.');
    if (octets.length !== 3 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) {
      throw new Error(`pod subnet must be three octets such as "127.0.41", got "${subnet}"`);
    }
    this.subnet = octets.map(Number).join('.');
    this.nodeIp = `${this.subnet}.1`;
  }

  /**
   * The address of `owner` (a pod uid), allocating one if it has none. `preferred` (e.g. the
   * podIP an earlier kubelet reported) is taken when it is in this subnet and free, so a kubelet
   * that restarts keeps pods on their addresses.
   */
  allocate(owner: string, preferred?: string): string {
    const existing = this.#byOwner.get(owner);
    if (existing !== undefined) return this.#format(existing);
    const wanted = preferred === undefined ? undefined : this.#hostPart(preferred);
    if (wanted !== undefined && !this.#owners.has(wanted)) return this.#take(owner, wanted);
    const size = LAST_POD_HOST - FIRST_POD_HOST + 1;
    for (let i = 0; i < size; i++) {
      const host = FIRST_POD_HOST + ((this.#next - FIRST_POD_HOST + i) % size);
      if (!this.#owners.has(host)) {
        this.#next = host === LAST_POD_HOST ? FIRST_POD_HOST : host + 1;
        return this.#take(owner, host);
      }
    }
    throw new Error(`no free pod IP left in ${this.subnet}.0/24 (${size} pods)`);
  }

  /** Frees the owner's address; a no-op when it has none. */
  release(owner: string): void {
    const host = this.#byOwner.get(owner);
    if (host === undefined) return;
    this.#byOwner.delete(owner);
    this.#owners.delete(host);
  }

  ipOf(owner: string): string | undefined {
    const host = this.#byOwner.get(owner);
    return host === undefined ? undefined : this.#format(host);
  }

  get size(): number {
    return this.#byOwner.size;
  }

  #take(owner: string, host: number): string {
    this.#byOwner.set(owner, host);
    this.#owners.set(host, owner);
    return this.#format(host);
  }

  #format(host: number): string {
    return `${this.subnet}.${host}`;
  }

  #hostPart(ip: string): number | undefined {
    const prefix = this.subnet + '.';
    if (!ip.startsWith(prefix)) return undefined;
    const rest = ip.slice(prefix.length);
    if (!/^\d{1,3}$/.test(rest)) return undefined;
    const host = Number(rest);
    return host >= FIRST_POD_HOST && host <= LAST_POD_HOST ? host : undefined;
  }
}

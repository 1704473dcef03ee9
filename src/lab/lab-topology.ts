import { randomBytes } from 'node:crypto';
import { realClock, type Clock, type Exec, type Fs } from '../lib/index.js';
import { parseIp } from '../model/index.js';
import { LabInputError, LabPrefixInUseError } from './errors.js';
import { hostRecord, plumbHost } from './host-plumbing.js';
import { isLabName, isLabPrefix } from './lab-names.js';
import { destroyAllLabs, destroyLabByPrefix, labLeaseDir } from './lab-teardown.js';
import {
  labStatePath,
  readLabIndex,
  readLabState,
  updateLabIndex,
  writeLabState,
  type LabBorderState,
  type LabCloudState,
  type LabHostState,
  type LabState,
  type LabVmState,
} from './lab-state.js';
import { createNetns, deleteNetns, listNetns, Netns } from './netns.js';
import { tapName, VIF } from './vif.js';
import { borderRecord, plumbBorder } from './border-plumbing.js';
import { killNetnsProcesses } from './lab-processes.js';
import { checkVmSpec, type AddVmSpec } from './vm-spec.js';
import { readLease } from './dhcp-client.js';
import { configureVm, connectVmTap, vmRecord } from './vm-plumbing.js';

/** What the lab needs from the world; `clock` defaults to the real one. */
export interface LabDeps {
  readonly exec: Exec;
  readonly fs: Fs;
  readonly clock?: Clock;
}

export interface LabOptions extends LabDeps {
  /** Where the state file lives (`lab-<prefix>.json`, listed in `labs.json`). */
  readonly stateDir: string;
  /** 2–6 characters: a letter, up to four letters or digits, and a final `-` (e.g. `bl1a2-`). */
  readonly prefix: string;
}

export type { AddVmSpec, VmIp } from './vm-spec.js';

export type LabHost = Readonly<LabHostState>;
export type LabVm = Readonly<LabVmState>;
export type LabBorder = Readonly<LabBorderState>;
export type LabCloud = Readonly<LabCloudState>;

/**
 * A virtual data center in network namespaces: a fabric (`<prefix>fab`, a bridge with the
 * fabric router's addresses), compute hosts on it (`<prefix>h<n>`, `eth0` = 198.19.0.<n>/24 and
 * 2001:db8:ffff::<n>/64, forwarding on) and VMs (`<prefix>v<n>`) plugged into a host the way
 * Nova plugs a Calico port. Everything it makes is recorded in a state file so that another
 * process can remove it (`Lab.destroyByPrefix`, `Lab.destroyAll`).
 *
 * The lab only builds the plumbing. Routes to taps, proxy ARP and policy are the agent's job, so
 * a freshly plugged VM reaches nothing until `brindle node` (or a test by hand) programs its host.
 */
export class Lab {
  readonly prefix: string;
  readonly stateDir: string;
  readonly #deps: { exec: Exec; fs: Fs; clock: Clock };
  #state: LabState;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: LabOptions, state: LabState) {
    this.prefix = options.prefix;
    this.stateDir = options.stateDir;
    this.#deps = { exec: options.exec, fs: options.fs, clock: options.clock ?? realClock() };
    this.#state = state;
  }

  /** A fresh random prefix such as `bl3f9-`. */
  static randomPrefix(): string {
    return `bl${randomBytes(2).toString('hex').slice(0, 3)}-`;
  }

  /**
   * Makes the fabric and records the lab. Refuses a prefix that any namespace or state file
   * already uses; if building fails, whatever was made is removed before the error is thrown.
   */
  static async create(options: LabOptions): Promise<Lab> {
    const { exec, fs, stateDir, prefix } = options;
    if (!isLabPrefix(prefix)) throw new LabInputError(`Invalid lab prefix: ${JSON.stringify(prefix)}: want a letter, up to four letters or digits, then "-"`);
    const existing = await listNetns(exec, prefix);
    if (existing.length > 0) throw new LabPrefixInUseError(prefix, `namespaces ${existing.join(', ')} exist`);
    if (fs.exists(labStatePath(stateDir, prefix))) throw new LabPrefixInUseError(prefix, `state file ${labStatePath(stateDir, prefix)} exists`);
    const state: LabState = { version: 1, prefix, fabric: `${prefix}fab`, nextHost: 1, nextVm: 1, hosts: [], vms: [], processes: [] };
    await fs.ensureDir(stateDir);
    await writeLabState(fs, stateDir, state);
    await updateLabIndex(fs, stateDir, { add: prefix });
    const lab = new Lab(options, state);
    try {
      const fab = await createNetns(options, state.fabric);
      await fab.ip('link', 'add', 'br0', 'type', 'bridge');
      await fab.ip('link', 'set', 'br0', 'up');
      await fab.ip('addr', 'add', `${VIF.fabricRouter4}/24`, 'dev', 'br0');
      await fab.ip('-6', 'addr', 'add', `${VIF.fabricRouter6}/64`, 'dev', 'br0', 'nodad');
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** The lab recorded under `prefix` in `stateDir` (made by this or another process). */
  static async open(options: LabOptions): Promise<Lab> {
    return new Lab(options, await readLabState(options.fs, options.stateDir, options.prefix));
  }

  /** The prefixes of the labs recorded in `stateDir`. */
  static list(deps: { fs: Fs; stateDir: string }): Promise<string[]> {
    return readLabIndex(deps.fs, deps.stateDir);
  }

  /** See `destroyLabByPrefix`: every namespace with the prefix, its processes, state and leases. */
  static destroyByPrefix(deps: LabDeps & { stateDir: string }, prefix: string): Promise<string[]> {
    return destroyLabByPrefix(deps, prefix);
  }

  /** `destroyByPrefix` for every lab recorded in `stateDir` (what `brindle lab down` does). */
  static destroyAll(deps: LabDeps & { stateDir: string }): Promise<string[]> {
    return destroyAllLabs(deps);
  }

  /** The process runner the lab was made with (probes and responders use it too). */
  get exec(): Exec {
    return this.#deps.exec;
  }

  /** The path of this lab's state file. */
  get stateFile(): string {
    return labStatePath(this.stateDir, this.prefix);
  }

  /** Records a Brindle process serving the lab, so `destroy` (or `brindle lab down`) stops it. */
  recordProcess(role: string, name: string, pid: number): Promise<void> {
    return this.#serial(async () => {
      this.#state.processes = [...this.#state.processes.filter((p) => !(p.role === role && p.name === name)), { role, name, pid }];
      await writeLabState(this.#deps.fs, this.stateDir, this.#state);
    });
  }

  /** Forgets a process the caller stopped itself. */
  forgetProcess(pid: number): Promise<void> {
    return this.#serial(async () => {
      this.#state.processes = this.#state.processes.filter((p) => p.pid !== pid);
      await writeLabState(this.#deps.fs, this.stateDir, this.#state);
    });
  }

  /** Where VMs' DHCP clients record their leases (`<vm netns>.<event>`: udhcpc's environment). */
  get leaseDir(): string {
    return labLeaseDir(this.stateDir, this.prefix);
  }

  /** What a DHCP VM's client last received (`bound` or `renew`), as udhcpc's variables. */
  async lease(name: string, event: 'bound' | 'renew' = 'bound'): Promise<Record<string, string> | undefined> {
    return readLease(this.#deps.fs, this.leaseDir, this.vmInfo(name).netns, event);
  }

  /** The fabric namespace (the bridge all hosts' `eth0` are on). */
  get fabric(): Netns {
    return new Netns(this.#state.fabric, this.#deps.exec);
  }

  /**
   * Adds a host on the fabric; `name` is the host as Neutron and the agent know it
   * (binding:host_id). A `reflector` is a host that runs only BGP (a dedicated route reflector).
   */
  addHost(name: string, role: 'compute' | 'reflector' = 'compute'): Promise<Netns> {
    return this.#serial(async () => {
      this.#checkNewName(name);
      const index = this.#state.nextHost;
      const host = hostRecord(this.prefix, index, name, role);
      this.#state = { ...this.#state, nextHost: index + 1, hosts: [...this.#state.hosts, host] };
      await this.#save();
      return plumbHost(this.#deps, this.fabric, host);
    });
  }

  /** Records where the host's BIRD control socket is (for `brindle lab status`). */
  setHostBirdSocket(name: string, socket: string): Promise<void> {
    return this.#serial(async () => {
      this.hostInfo(name);
      this.#state = { ...this.#state, hosts: this.#state.hosts.map((h) => (h.name === name ? { ...h, birdSocket: socket } : h)) };
      await this.#save();
    });
  }

  /** Records what `brindle lab up` serves (API, datastore, default network). */
  setCloud(cloud: LabCloud): Promise<void> {
    return this.#serial(async () => {
      this.#state = { ...this.#state, cloud: { ...cloud, subnetIds: [...cloud.subnetIds] } };
      await this.#save();
    });
  }

  get cloud(): LabCloud | undefined {
    return this.#state.cloud;
  }

  /**
   * Adds the border router: namespace `<prefix>bd` on the fabric (198.19.0.250,
   * 2001:db8:ffff::fa), forwarding, with the outside network behind it (198.18.200.0/24,
   * 2001:db8:200::/64) holding one more host, `<prefix>out` (.10). Routes between the data
   * center and the outside are the border's BGP's business: nothing here adds one.
   */
  addBorder(o: { asNumber: number; birdSocket: string }): Promise<LabBorder> {
    return this.#serial(async () => {
      if (this.#state.border !== undefined) throw new LabInputError('The lab has a border router already');
      const border = borderRecord(this.prefix, o);
      this.#state = { ...this.#state, border };
      await this.#save();
      await plumbBorder(this.#deps, this.fabric, border);
      return border;
    });
  }

  get borderInfo(): LabBorder | undefined {
    return this.#state.border;
  }

  /** The border router's namespace; throws LabInputError when the lab has none. */
  get border(): Netns {
    if (this.#state.border === undefined) throw new LabInputError('The lab has no border router');
    return new Netns(this.#state.border.netns, this.#deps.exec);
  }

  /** The outside host's namespace (behind the border). */
  get outside(): Netns {
    if (this.#state.border === undefined) throw new LabInputError('The lab has no border router');
    return new Netns(this.#state.border.outside.netns, this.#deps.exec);
  }

  /**
   * Adds a VM in its own namespace and plugs it into `spec.host` as Nova does: a veth whose
   * host end is the port's tap (MAC `00:61:fe:ed:ca:fe`, up, no address) and whose VM end is
   * `eth0` with the port's MAC and IPs. IPv4: `ip/prefixLen` with the first gateway as default
   * route (on-link, so it is set before the host answers ARP). IPv6: `ip/prefixLen` without DAD
   * and without the on-link prefix route, default via the tap's link-local address — what
   * Calico's router advertisements (prefix off-link) give a VM.
   */
  addVm(spec: AddVmSpec): Promise<Netns> {
    return this.#serial(async () => {
      this.hostInfo(spec.host);
      this.#checkNewName(spec.name);
      checkVmSpec(spec);
      const tap = tapName(spec.portId);
      if (this.#state.vms.some((v) => v.host === spec.host && v.tap === tap)) throw new LabInputError(`Tap already on host ${spec.host}: ${tap}`);
      const index = this.#state.nextVm;
      const vm = vmRecord(this.prefix, index, spec);
      this.#state = { ...this.#state, nextVm: index + 1, vms: [...this.#state.vms, vm] };
      await this.#save();
      const ns = await createNetns(this.#deps, vm.netns);
      await this.#plug(vm, spec.dhcpTimeoutMs);
      return ns;
    });
  }

  /** Removes the VM's tap (and with it the VM's `eth0`), as Nova does when it unplugs a VIF. */
  unplugVm(name: string): Promise<void> {
    return this.#serial(async () => {
      const vm = this.vmInfo(name);
      if (!vm.plugged) return;
      await this.host(vm.host).ip('link', 'delete', vm.tap);
      await this.#setVm({ ...vm, plugged: false });
    });
  }

  /** Records the floating IPs the VM's port holds (for `lab status` and `lab fip rm`). */
  setVmFloatingIps(name: string, floatingIps: readonly { id: string; address: string }[]): Promise<void> {
    return this.#serial(async () => {
      await this.#setVm({ ...this.vmInfo(name), floatingIps: floatingIps.map((f) => ({ ...f })) });
    });
  }

  /** Plugs an unplugged VM back in (same tap, MAC and addresses). */
  plugVm(name: string): Promise<void> {
    return this.#serial(async () => {
      const vm = this.vmInfo(name);
      if (!vm.plugged) await this.#plug(vm);
    });
  }

  /** Unplugs the VM, stops what runs inside it and removes its namespace. */
  removeVm(name: string): Promise<void> {
    return this.#serial(async () => {
      const vm = this.vmInfo(name);
      if (vm.plugged) await this.host(vm.host).run('ip', ['link', 'delete', vm.tap]);
      await killNetnsProcesses(this.#deps, vm.netns);
      await deleteNetns(this.#deps, vm.netns);
      this.#state = { ...this.#state, vms: this.#state.vms.filter((v) => v.name !== name) };
      await this.#save();
    });
  }

  /** The host's namespace; throws LabInputError for an unknown host. */
  host(name: string): Netns {
    return new Netns(this.hostInfo(name).netns, this.#deps.exec);
  }

  /**
   * The namespace of any lab machine by its lab name: a host, a VM, `border` or `outside` (the
   * host behind the border). `machine` is true for the ones that are not VMs.
   */
  netnsOf(name: string): { netns: Netns; machine: boolean; addresses?: readonly string[] } {
    if (this.#state.hosts.some((h) => h.name === name)) return { netns: this.host(name), machine: true };
    const b = this.#state.border;
    if (name === 'border' && b !== undefined) return { netns: this.border, machine: true, addresses: [b.ip4, b.ip6] };
    if (name === 'outside' && b !== undefined) return { netns: this.outside, machine: true, addresses: [b.outside.ip4, b.outside.ip6] };
    return { netns: this.vm(name), machine: false };
  }

  /** The VM's namespace; throws LabInputError for an unknown VM. */
  vm(name: string): Netns {
    return new Netns(this.vmInfo(name).netns, this.#deps.exec);
  }

  hostInfo(name: string): LabHost {
    const h = this.#state.hosts.find((x) => x.name === name);
    if (h === undefined) throw new LabInputError(`No such lab host: ${name}`);
    return h;
  }

  vmInfo(name: string): LabVm {
    const v = this.#state.vms.find((x) => x.name === name);
    if (v === undefined) throw new LabInputError(`No such lab VM: ${name}`);
    return v;
  }

  hosts(): readonly LabHost[] {
    return this.#state.hosts;
  }

  vms(): readonly LabVm[] {
    return this.#state.vms;
  }

  /** The first address of a VM (its fixed IP) or host (on the fabric) in the family asked for. */
  addressOf(name: string, family: 4 | 6 = 4): string {
    const h = this.#state.hosts.find((x) => x.name === name);
    if (h !== undefined) return family === 4 ? h.ip4 : h.ip6;
    const ip = this.vmInfo(name).ips.find((i) => parseIp(i.ip)?.family === family);
    if (ip === undefined) throw new LabInputError(`Lab VM has no IPv${family} address: ${name}`);
    return ip.ip;
  }

  /** Removes everything with this lab's prefix (see `destroyByPrefix`), even a partial build. */
  async destroy(): Promise<string[]> {
    const result = this.#queue.then(
      () => Lab.destroyByPrefix({ ...this.#deps, stateDir: this.stateDir }, this.prefix),
      () => Lab.destroyByPrefix({ ...this.#deps, stateDir: this.stateDir }, this.prefix),
    );
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #plug(vm: LabVmState, dhcpTimeoutMs?: number): Promise<void> {
    await connectVmTap(this.#deps, this.host(vm.host), vm);
    await this.#setVm({ ...vm, plugged: true });
    await configureVm(this.#deps, vm, { leaseDir: this.leaseDir, dhcpTimeoutMs });
  }

  #checkNewName(name: string): void {
    if (!isLabName(name)) throw new LabInputError(`Invalid lab name: ${JSON.stringify(name)}`);
    if (this.#state.hosts.some((h) => h.name === name) || this.#state.vms.some((v) => v.name === name)) {
      throw new LabInputError(`Lab name already used: ${name}`);
    }
  }

  async #setVm(vm: LabVmState): Promise<void> {
    this.#state = { ...this.#state, vms: this.#state.vms.map((v) => (v.name === vm.name ? vm : v)) };
    await this.#save();
  }

  #save(): Promise<void> {
    return writeLabState(this.#deps.fs, this.stateDir, this.#state);
  }

  /** Runs lab changes one at a time (state and counters are read-modify-write). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(fn, fn);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

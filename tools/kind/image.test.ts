// The image, without Docker: the Dockerfile and .dockerignore are checked against what the chart
// and the operator expect of the image, then the image's file tree is built from them as Docker
// would (tools/kind/image-build.ts: the build context filtered by .dockerignore, each COPY, the
// RUN commands, `npm ci` from npm's cache) and run with the Node of the same version, as the
// image's user: every module the roles load is there, and every role starts.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { configFromEnv } from '../../src/controllers/config.ts';
import { desiredDeployment } from '../../src/controllers/zcc/objects.ts';
import { execForm, finalStage, parseDockerfile, type Dockerfile } from './dockerfile.ts';
import { parseDockerignore, type IgnoreRule } from './dockerignore.ts';
import { contextFiles, emulateBuild, type BuiltImage } from './image-build.ts';
import { moduleGraph, packageOf, type ModuleGraph } from './module-graph.ts';
import { copyPackages, installedPackages, productionPackages } from './packages.ts';
import { exampleDocs, helmTemplate, podSpecs, ROOT } from './repo.ts';

interface PackageJson {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Parameters<typeof productionPackages>[0];
/** The roles the product documents; the image must start each. */
const ROLES = ['manager', 'vra', 'zcc', 'restore', 'console'];

/** npm's CLI from PATH, run with this Node (the image's npm is the one of its Node). */
function npmCommand(): string[] {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm');
    if (dir !== '' && existsSync(candidate)) {
      const real = realpathSync(candidate);
      return real.endsWith('.js') ? [process.execPath, real] : [real];
    }
  }
  throw new Error('npm is not on PATH: the image test installs the production dependencies with it');
}

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function exec(argv: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs?: number }): Promise<Result> {
  const [command = '', ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined && { uid: options.uid }), ...(options.gid !== undefined && { gid: options.gid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const show = (r: Result): string => `exit ${String(r.code)}${r.signal === null ? '' : ` (${r.signal})`}\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`;

describe('the image: Dockerfile and .dockerignore', () => {
  let dockerfile: Dockerfile;
  let ignore: IgnoreRule[];
  let nodeVersion: string;

  before(() => {
    dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    ignore = parseDockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
    nodeVersion = dockerfile.globalArgs.get('NODE_VERSION') ?? '';
  });

  it('builds every stage on the slim image of the Node the tests run on (package.json\'s pinned node)', () => {
    assert.equal(nodeVersion, pkg.devDependencies['node'], 'Dockerfile: ARG NODE_VERSION must be package.json\'s devDependencies.node');
    assert.match(nodeVersion, /^24\.\d+\.\d+$/, 'Dockerfile: ARG NODE_VERSION must be a Node 24 release');
    assert.equal(process.versions.node, nodeVersion, 'the tests run on another Node than the image\'s (run them with node_modules/.bin/node)');
    const names = new Set(dockerfile.stages.map((s) => s.name));
    for (const stage of dockerfile.stages.filter((s) => !names.has(s.from))) {
      assert.equal(stage.fromRaw, 'node:${NODE_VERSION}-slim', `Dockerfile line ${stage.line}: FROM must be node:\${NODE_VERSION}-slim`);
    }
    assert.ok(dockerfile.stages.length >= 2, 'Dockerfile: multi-stage (dependencies installed apart from the runtime stage)');
  });

  it('runs `zcsp` as the numeric non-root user the chart\'s pods run as', async () => {
    const last = finalStage(dockerfile);
    const users = last.instructions.filter((i) => i.keyword === 'USER');
    const user = users.at(-1)?.args.trim() ?? '';
    assert.match(user, /^[1-9]\d*:\d+$/, `Dockerfile line ${users.at(-1)?.line ?? last.line}: USER must be numeric uid:gid, not root (got "${user}")`);
    const [uid, gid] = user.split(':').map(Number);
    const entrypoints = last.instructions.filter((i) => i.keyword === 'ENTRYPOINT');
    assert.deepEqual(execForm(entrypoints.at(-1)?.args ?? ''), ['zcsp'], 'Dockerfile: the final stage\'s ENTRYPOINT must be ["zcsp"]');
    for (const { source, spec } of podSpecs(await helmTemplate())) {
      assert.equal(spec.securityContext?.runAsUser, uid, `helm template: ${source}: securityContext.runAsUser must be the image's USER`);
      assert.equal(spec.securityContext?.runAsGroup, gid, `helm template: ${source}: securityContext.runAsGroup must be the image's USER group`);
    }
    const config = configFromEnv({ POD_NAMESPACE: 'zcsp-system', ZCSP_IMAGE: 'zcsp' });
    const zcc = desiredDeployment(config, { name: 'zcc', zorg: 'zorg' }, { replicas: 1, secretName: 's', credentialsHash: '' }).spec?.template.spec?.securityContext;
    assert.deepEqual([zcc?.runAsUser, zcc?.runAsGroup], [uid, gid], 'the ZCC pods the operator makes (src/controllers/zcc/objects.ts) run as the image\'s USER');
  });

  it('.dockerignore lets into the build context package.json, package-lock.json and src/ without tests, test helpers or docs', async () => {
    const files = await contextFiles(ROOT, ignore);
    const allowed = (f: string): boolean => f === 'package.json' || f === 'package-lock.json' || (f.startsWith('src/') && !/\.(test|test-support)\.ts$|\.md$/.test(f));
    assert.deepEqual(files.filter((f) => !allowed(f)), [], '.dockerignore lets these into the build context');
    for (const needed of ['package.json', 'package-lock.json', 'src/main.ts']) assert.ok(files.includes(needed), `.dockerignore leaves out ${needed}`);
  });

  describe('its file tree, built without Docker', () => {
    let tmp = '';
    let image: BuiltImage;
    let graph: ModuleGraph;
    let entry: string;
    let workers: string[];
    let fromCache = true;
    /** The image's user, when this process may run things as another user (is root). */
    let user: { uid: number; gid: number } | undefined;

    /** The image's environment: its PATH with the host's Node standing for the base image's. */
    const env = (): NodeJS.ProcessEnv => ({
      ...image.env,
      PATH: [join(image.rootfs, 'usr/local/bin'), dirname(process.execPath), '/usr/local/sbin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(delimiter),
    });
    const inImage = (argv: readonly string[], options: { asRoot?: boolean; timeoutMs?: number } = {}): Promise<Result> =>
      exec(argv, {
        cwd: join(image.rootfs, image.workdir), env: env(),
        ...(options.asRoot !== true && user),
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      });
    const entrypoint = (): string[] => image.entrypoint ?? [];

    before(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'zcsp-image-'));
      // The image's user must reach the tree, as it reaches / in a container.
      await chmod(tmp, 0o755);
      const npm = npmCommand();
      image = await emulateBuild({
        dockerfile, context: ROOT, ignore, into: tmp,
        npmCi: async (cwd, args) => {
          const r = await exec([...npm, 'ci', ...args, '--offline'], {
            cwd, env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`, npm_config_update_notifier: 'false' }, timeoutMs: 300_000,
          });
          if (r.code === 0) return;
          if (!r.stderr.includes('ENOTCACHED')) throw new Error(`npm ci ${args.join(' ')} failed:\n${show(r)}`);
          // npm's cache lacks a package: production's packages, copied from this checkout.
          fromCache = false;
          await copyPackages(ROOT, cwd, productionPackages(lock));
        },
      });
      const [uidText, gidText] = (image.user ?? '').split(':');
      if (process.getuid?.() === 0) user = { uid: Number(uidText), gid: Number(gidText) };
      const zcsp = join(image.rootfs, 'usr/local/bin', entrypoint()[0] ?? '');
      assert.ok(existsSync(zcsp), `the image has no ${entrypoint()[0] ?? '(no ENTRYPOINT)'} in /usr/local/bin`);
      entry = realpathSync(zcsp);
      graph = moduleGraph([entry]);
      workers = graph.resources.map((r) => r.path).filter((p) => p !== entry && graph.modules.includes(p));
    });
    after(async () => {
      if (tmp !== '') await rm(tmp, { recursive: true, force: true });
    });

    it('has exactly the production packages of package-lock.json', async (t: TestContext) => {
      if (!fromCache) t.diagnostic('npm ci --offline could not install from npm\'s cache: production\'s packages were copied from node_modules instead');
      const app = join(image.rootfs, image.workdir);
      assert.deepEqual(await installedPackages(app), productionPackages(lock), 'node_modules of the image vs package-lock.json\'s packages without dev: true');
      // Said outright for the dev-only ones (a devDependency production also needs is in it).
      const devOnly = Object.keys(pkg.devDependencies).filter((d) => lock.packages?.[`node_modules/${d}`]?.dev === true);
      for (const dev of devOnly) assert.ok(!existsSync(join(app, 'node_modules', dev)), `the image holds devDependency ${dev}`);
    });

    it('holds every module and file the roles load, and they import only package.json\'s dependencies', () => {
      const rel = (p: string): string => relative(image.rootfs, p);
      assert.ok(graph.modules.length > 1, `${rel(entry)} imports nothing`);
      assert.deepEqual(graph.missing.map((m) => `${rel(m.from)} imports ${m.specifier}`), [], 'imports of files the image lacks');
      const app = join(image.rootfs, image.workdir);
      for (const r of graph.resources) {
        // What the checkout has next to the module, the image must have next to it too.
        const inCheckout = join(ROOT, relative(app, r.path));
        if (existsSync(inCheckout)) assert.ok(existsSync(r.path), `${rel(r.from)} loads ${relative(app, r.path)} (new URL(…, import.meta.url)), which the image lacks`);
      }
      for (const [specifier, from] of graph.bare) {
        const name = packageOf(specifier);
        if (name !== undefined) assert.ok(name in pkg.dependencies, `${rel(from)} imports ${specifier}, but ${name} is not in package.json's dependencies (the image has only those)`);
      }
      const strays = graph.modules.filter((m) => /\.(test|test-support)\.ts$/.test(m)).map(rel);
      assert.deepEqual(strays, [], 'modules the roles load that are tests or test helpers');
      for (const gone of ['test', 'tools', 'bench', 'docs', 'bin', 'examples', 'deploy', '.git']) {
        assert.ok(!existsSync(join(app, gone)), `the image holds ${gone}/`);
      }
    });

    it('loads every module the roles load, as the image\'s user', async () => {
      // Not the entry (it runs the CLI) nor worker modules (they run only in a worker thread).
      const modules = graph.modules.filter((m) => m !== entry && !workers.includes(m));
      const r = await inImage(['node', '--input-type=module', '-e', 'for (const f of JSON.parse(process.argv[1])) await import(f);', JSON.stringify(modules)]);
      assert.equal(r.code, 0, `importing the ${modules.length} modules in the image failed: ${show(r)}`);
    });

    it('starts every role through its ENTRYPOINT, and `zcsp` from a shell, as the image\'s user and as root', async () => {
      const usage = await inImage([...entrypoint(), '--help']);
      assert.equal(usage.code, 0, `zcsp --help: ${show(usage)}`);
      const roles = [...usage.stdout.matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1] ?? '');
      for (const role of ROLES) assert.ok(roles.includes(role), `zcsp --help lists no ${role} command:\n${usage.stdout}`);
      const helps = await Promise.all(roles.map(async (role) => ({ role, r: await inImage([...entrypoint(), role, '--help']) })));
      for (const { role, r } of helps) {
        assert.equal(r.code, 0, `zcsp ${role} --help: ${show(r)}`);
        if (ROLES.includes(role)) assert.match(r.stdout, new RegExp(`^usage: zcsp ${role}\\b`), `zcsp ${role} --help`);
      }
      const version = `zcsp ${pkg.version} (node v${nodeVersion})`;
      const shell = await inImage(['sh', '-c', 'zcsp version']);
      assert.equal(shell.stdout.trim(), version, `sh -c "zcsp version": ${show(shell)}`);
      // VRA and restore pods run as root (their own securityContext).
      const root = await inImage([...entrypoint(), 'version'], { asRoot: true });
      assert.equal(root.stdout.trim(), version, `zcsp version as root: ${show(root)}`);
    });

    it('runs the examples\' tenant app as the image\'s user, writing its stamp to the volume', async (t: TestContext) => {
      // examples/05: the workload on this image, its args with a free port and its volume here.
      const workload = podSpecs(exampleDocs()).flatMap((p) => p.spec.containers).find((c) => (c.args ?? [])[0] === 'diag');
      assert.ok(workload !== undefined, 'examples/ run no `zcsp diag` workload');
      const volume = join(tmp, 'volume');
      // As kind's local-path provisioner makes a volume's folder: mode 0777.
      await mkdir(volume, { mode: 0o777 });
      await chmod(volume, 0o777);
      const mount = workload.volumeMounts?.[0]?.mountPath ?? '/data';
      const args = (workload.args ?? []).map((a, i, all) => (all[i - 1] === '--port' ? '0' : a.startsWith(`${mount}/`) ? join(volume, a.slice(mount.length + 1)) : a));
      const child = spawn(entrypoint()[0] ?? '', [...entrypoint().slice(1), ...args], {
        cwd: join(image.rootfs, image.workdir), env: env(), stdio: ['ignore', 'pipe', 'pipe'], ...user,
      });
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      try {
        const port = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: string) => {
            out += d;
            const m = /listening on \S+:(\d+)/.exec(out);
            if (m !== null) resolve(m[1] ?? '');
          });
          void exited.then(() => reject(new Error(`zcsp ${args.join(' ')} exited: ${out}`)));
        });
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        assert.equal(res.status, 200, 'GET /healthz');
        const stamp = args[args.indexOf('--stamp') + 1] ?? '';
        assert.ok(existsSync(stamp), `no stamp at ${stamp}: ${out}`);
        if (user !== undefined) assert.equal(statSync(stamp).uid, user.uid, 'the stamp\'s owner: the image\'s user');
        else t.diagnostic('not root: ran as this user, not as the image\'s');
        JSON.parse(await readFile(stamp, 'utf8'));
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, `zcsp diag stops cleanly on SIGTERM: ${out}`);
      assert.deepEqual((await readdir(volume)).filter((f) => !f.startsWith('stamp.json')), [], 'only the stamp on the volume');
    });
  });
});

/**
 * A real OpenLDAP `slapd` for tests: a minimal slapd.conf with the mdb backend in a temporary
 * directory, loaded with `slapadd`, listening on 127.0.0.1 on a free port, stopped when the test
 * ends. The system's own slapd (if the package started one) is neither needed nor touched.
 *
 * Missing binaries fail the test with a message naming them: the LDAP connector must be tested
 * against a real server, so its tests never skip.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Change, Client } from 'ldapts';

const run = promisify(execFile);

export interface Slapd {
  url: string;
  suffix: string;
  rootDn: string;
  rootPassword: string;
  /** A client bound as the directory's root DN, for changing the directory between pulls. */
  admin(): Promise<Client>;
  stop(): Promise<void>;
}

function findBinary(name: string): string {
  for (const dir of [
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/libexec',
    '/usr/bin',
    '/usr/local/bin',
    ...(process.env.PATH ?? '').split(':'),
  ]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(
    `the OpenLDAP server binary "${name}" is not installed: the LDAP connector tests start a real slapd ` +
      '(Debian/Ubuntu: apt-get install -y slapd ldap-utils; .ci/run installs them)',
  );
}

function firstExisting(paths: string[], what: string): string {
  for (const path of paths) if (existsSync(path)) return path;
  throw new Error(`cannot find ${what} (looked in ${paths.join(', ')}); is OpenLDAP (slapd) installed?`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited with code ${child.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`slapd did not listen on 127.0.0.1:${port} within 15 s: ${log()}`);
}

export interface SlapdOptions {
  suffix: string;
  /** Entries loaded before the server starts (the suffix entry included). */
  ldif: string;
  /** Extra schema text (attribute types, object classes) loaded after the standard schemas. */
  extraSchema?: string;
  /** slapd.conf lines for the global section (e.g. a size limit). */
  globalConfig?: string[];
  /** slapd.conf lines for the database section (e.g. access rules). */
  databaseConfig?: string[];
}

export async function startSlapd(
  t: { after: (fn: () => Promise<void>) => void },
  options: SlapdOptions,
): Promise<Slapd> {
  const slapd = findBinary('slapd');
  const slapadd = findBinary('slapadd');
  const schemaDir = firstExisting(
    ['/etc/ldap/schema', '/etc/openldap/schema', '/usr/local/etc/openldap/schema'],
    'the OpenLDAP schema directory',
  );
  const moduleDir = [
    '/usr/lib/ldap',
    '/usr/lib64/openldap',
    '/usr/lib/openldap',
    '/usr/local/libexec/openldap',
  ].find((dir) => existsSync(join(dir, 'back_mdb.la')) || existsSync(join(dir, 'back_mdb.so')));
  const hasPpolicy =
    moduleDir !== undefined &&
    (existsSync(join(moduleDir, 'ppolicy.la')) || existsSync(join(moduleDir, 'ppolicy.so')));

  const dir = mkdtempSync(join(tmpdir(), 'assay-slapd-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const rootDn = `cn=admin,${options.suffix}`;
  const rootPassword = 'test-root-secret';
  const schemas = ['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include ${schemaDir}/${s}.schema`);
  if (options.extraSchema) {
    writeFileSync(join(dir, 'extra.schema'), options.extraSchema);
    schemas.push(`include ${join(dir, 'extra.schema')}`);
  }
  const conf = [
    ...schemas,
    ...(moduleDir
      ? [`modulepath ${moduleDir}`, 'moduleload back_mdb', ...(hasPpolicy ? ['moduleload ppolicy'] : [])]
      : []),
    `pidfile ${join(dir, 'slapd.pid')}`,
    ...(options.globalConfig ?? []),
    'database mdb',
    'maxsize 104857600',
    `suffix "${options.suffix}"`,
    `rootdn "${rootDn}"`,
    `rootpw ${rootPassword}`,
    `directory ${dataDir}`,
    // ppolicy defines pwdAccountLockedTime (an administrator lock, or a lockout after failures).
    ...(hasPpolicy ? ['overlay ppolicy'] : []),
    ...(options.databaseConfig ?? []),
  ].join('\n');
  const confPath = join(dir, 'slapd.conf');
  writeFileSync(confPath, `${conf}\n`);
  writeFileSync(join(dir, 'data.ldif'), options.ldif);
  try {
    await run(slapadd, ['-f', confPath, '-l', join(dir, 'data.ldif')]);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`slapadd could not load the test directory: ${e.stderr || e.message}`);
  }

  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  // `-d 0` keeps slapd in the foreground (a child this process can stop) without debug output.
  const child = spawn(slapd, ['-f', confPath, '-h', `${url}/`, '-d', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const clients: Client[] = [];
  const stop = async () => {
    for (const client of clients) await client.unbind().catch(() => {});
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  t.after(stop);
  await waitForPort(port, child, () => stderr);
  return {
    url,
    suffix: options.suffix,
    rootDn,
    rootPassword,
    async admin() {
      const client = new Client({ url, timeout: 10_000 });
      await client.bind(rootDn, rootPassword);
      clients.push(client);
      return client;
    },
    stop,
  };
}

export { Change };

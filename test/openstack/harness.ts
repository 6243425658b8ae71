import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GlanceClient } from "./glance";
import { UwsgiServer, freePort, runCommand } from "./processes";

/**
 * Debian's programs that the harness runs (bookworm: Nova 26 and Glance 25,
 * from the nova-api and glance-api packages). Debian's Python modules are
 * installed for /usr/bin/python3 only, whatever `python3` is on PATH.
 */
const PROGRAMS = {
  python: "/usr/bin/python3",
  uwsgi: "/usr/bin/uwsgi_python3",
  novaManage: "/usr/bin/nova-manage",
  novaApi: "/usr/bin/nova-api-wsgi",
  glanceManage: "/usr/bin/glance-manage",
  glanceApi: "/usr/bin/glance-wsgi-api",
} as const;

/**
 * Debian's paste pipelines as the packages ship them (the install copies
 * them to /etc), copied into the temporary configuration.
 */
const DEBIAN_NOVA_PASTE = "/usr/share/nova-common/api-paste.ini";
const DEBIAN_GLANCE_PASTE = "/usr/share/glance-common/glance-api-paste.ini";

/** Directory of the paste filter that `nova_token_context.py` defines. */
const PYTHON_DIR = join(__dirname, "python");

/**
 * Environment variable that makes the OpenStack tests mandatory: with
 * `OPENSTACK_TESTS=required` a missing package fails them instead of
 * skipping them. `.ci/run` sets it.
 */
export const REQUIRED_VARIABLE = "OPENSTACK_TESTS";

/**
 * Environment variable that keeps the temporary directory, with the logs of
 * Nova, Glance and the database commands, when set to 1.
 */
export const KEEP_DIR_VARIABLE = "OPENSTACK_KEEP_DIR";

/** The project (tenant) id of the URLs and of the token. */
export const PROJECT_ID = "010101";

/**
 * A noauth2 token: `user:project`. The user is not `admin`, so Nova treats
 * it as an ordinary member of the project.
 */
export const NOVA_TOKEN = `tester:${PROJECT_ID}`;

export type Availability =
  { available: true } | { available: false; reason: string };

/** Checks that every program and file the harness needs is installed. */
export function checkAvailability(): Availability {
  const needed = [
    ...Object.values(PROGRAMS),
    DEBIAN_NOVA_PASTE,
    DEBIAN_GLANCE_PASTE,
  ];
  const missing = needed.filter((path) => !existsSync(path));
  if (missing.length === 0) return { available: true };
  const more = missing.length > 1 ? ` and ${missing.length - 1} more` : "";
  return { available: false, reason: `missing ${missing[0]}${more}` };
}

/**
 * Returns `describe` when Nova and Glance are installed. Otherwise it prints
 * one line and returns `describe.skip`, unless `OPENSTACK_TESTS=required`:
 * then it throws, which fails the test file.
 */
export function describeWithOpenStack(): jest.Describe {
  const availability = checkAvailability();
  if (availability.available) return describe;

  const required = process.env[REQUIRED_VARIABLE] === "required";
  const message = `OpenStack tests ${required ? "cannot run" : "skipped"}: nova-api and glance-api are not installed (${availability.reason}); install them with 'bash .ci/install-openstack'.`;
  if (required) throw new Error(message);
  process.stderr.write(`${message}\n`);
  return describe.skip;
}

/** How Nova's uwsgi ends each connection after a response. */
export type ConnectionClose =
  /** uwsgi's default for `--http-socket`: it closes without a header. */
  | "silent"
  /** With `Connection: close`, as Debian's uwsgi configuration of Glance adds. */
  | "announced"
  /**
   * Without `Content-Length`, so that the close ends the body, as Debian's
   * uwsgi configuration of Nova (`rem-header = Content-Length`) does.
   */
  | "unframed";

export interface OpenStackOptions {
  /** How Nova ends connections; default "silent". */
  connectionClose?: ConnectionClose;
}

/** A running Glance and Nova on loopback, each in its own process group. */
export interface OpenStack {
  /** Nova's origin, `http://127.0.0.1:PORT`. */
  novaOrigin: string;
  /** Glance's origin, which Nova's `alternate` image links point to. */
  glanceOrigin: string;
  /** A client of Glance's v2 API, for seeding images. */
  glance: GlanceClient;
  /** The tenant-scoped images endpoint, as `IMAGES_API_URL` takes it. */
  imagesApiUrl(version: "v2" | "v2.1"): string;
  /**
   * Starts one more Nova on the same databases and Glance, which closes
   * connections as `connectionClose` specifies, and returns its origin.
   */
  startNova(connectionClose: ConnectionClose): Promise<string>;
  /** Stops both servers and removes the temporary directory. */
  stop(): Promise<void>;
}

interface Layout {
  root: string;
  novaConfigDir: string;
  glanceConfigDir: string;
  log(name: string): string;
}

async function createLayout(): Promise<Layout> {
  const root = mkdtempSync(join(tmpdir(), "images-openstack-"));
  const layout: Layout = {
    root,
    novaConfigDir: join(root, "nova"),
    glanceConfigDir: join(root, "glance"),
    log: (name) => join(root, `${name}.log`),
  };
  for (const dir of ["nova", "glance", "images", "staging", "tasks", "lock"]) {
    await mkdir(join(root, dir));
  }
  await mkdir(join(root, "nova", "policy.d"));
  await mkdir(join(root, "glance", "policy.d"));
  return layout;
}

/** Builds the environment of every OpenStack process, with nothing of the caller's. */
function processEnv(layout: Layout): NodeJS.ProcessEnv {
  return {
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: layout.root,
    LANG: "C.UTF-8",
    OS_NOVA_CONFIG_DIR: layout.novaConfigDir,
    OS_GLANCE_CONFIG_DIR: layout.glanceConfigDir,
  };
}

/**
 * Writes Glance's configuration: no authentication (an empty paste flavor
 * selects the `glance-api` pipeline with an unauthenticated context), a
 * sqlite database and a filesystem store in the temporary directory.
 */
async function writeGlanceConfig(layout: Layout): Promise<void> {
  const { root, glanceConfigDir } = layout;
  const conf = `[DEFAULT]
enabled_backends = fs:file

[database]
connection = sqlite:///${root}/glance.sqlite

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = ${root}/images

[os_glance_staging_store]
filesystem_store_datadir = ${root}/staging

[os_glance_tasks_store]
filesystem_store_datadir = ${root}/tasks

[paste_deploy]
flavor =
config_file = ${glanceConfigDir}/glance-api-paste.ini

[oslo_policy]
policy_file = ${glanceConfigDir}/policy.yaml
policy_dirs = ${glanceConfigDir}/policy.d

[oslo_concurrency]
lock_path = ${root}/lock
`;
  // The unauthenticated context has no roles, and Glance 25's defaults
  // allow public images and deactivation to admins only.
  const policy = `"publicize_image": ""
"deactivate": ""
`;
  await writeFile(join(glanceConfigDir, "glance-api.conf"), conf);
  await writeFile(join(glanceConfigDir, "policy.yaml"), policy);
  await writeFile(
    join(glanceConfigDir, "glance-api-paste.ini"),
    readFileSync(DEBIAN_GLANCE_PASTE),
  );
}

/**
 * Returns Debian's Nova paste configuration with the `token_context` filter
 * after `noauth2` in both noauth2 pipelines (v2.1 and legacy v2).
 */
function novaPasteConfig(): string {
  const debian = readFileSync(DEBIAN_NOVA_PASTE, "utf8");
  let inserted = 0;
  const patched = debian.replace(
    /^(noauth2\s*=.*\snoauth2)(\s)/gm,
    (_match, head: string, space: string) => {
      inserted += 1;
      return `${head} token_context${space}`;
    },
  );
  if (inserted !== 2) {
    throw new Error(
      `Expected two noauth2 pipelines in ${DEBIAN_NOVA_PASTE}, found ${inserted}.`,
    );
  }
  return `${patched}
[filter:token_context]
paste.filter_factory = nova_token_context:filter_factory
`;
}

/**
 * Writes Nova's configuration: noauth2, a fake message bus, no
 * notifications, sqlite for both databases and Glance at `glanceOrigin`.
 */
async function writeNovaConfig(
  layout: Layout,
  glanceOrigin: string,
): Promise<void> {
  const { root, novaConfigDir } = layout;
  const conf = `[DEFAULT]
host = images-test
my_ip = 127.0.0.1
state_path = ${root}/nova-state
transport_url = fake://

[api]
auth_strategy = noauth2

[api_database]
connection = sqlite:///${root}/nova_api.sqlite

[database]
connection = sqlite:///${root}/nova.sqlite

[glance]
endpoint_override = ${glanceOrigin}

[oslo_messaging_notifications]
driver = noop

[oslo_concurrency]
lock_path = ${root}/lock

[oslo_policy]
policy_file = ${novaConfigDir}/policy.yaml
policy_dirs = ${novaConfigDir}/policy.d

[wsgi]
api_paste_config = ${novaConfigDir}/api-paste.ini
`;
  await writeFile(join(novaConfigDir, "nova.conf"), conf);
  await writeFile(join(novaConfigDir, "policy.yaml"), "# Nova's defaults\n");
  await writeFile(join(novaConfigDir, "api-paste.ini"), novaPasteConfig());
}

/** uwsgi options shared by both servers. */
const UWSGI_COMMON = [
  "--master",
  "--need-app",
  "--lazy-apps",
  "--die-on-term",
  "--no-orphans",
  "--enable-threads",
  "--buffer-size=65535",
];

async function startGlance(
  layout: Layout,
  port: number,
  servers: UwsgiServer[],
): Promise<void> {
  const env = processEnv(layout);
  const conf = join(layout.glanceConfigDir, "glance-api.conf");
  await runCommand(
    PROGRAMS.python,
    [PROGRAMS.glanceManage, `--config-file=${conf}`, "db_sync"],
    env,
    layout.log("glance-manage"),
  );

  const glance = UwsgiServer.start({
    name: "Glance",
    port,
    args: [
      ...UWSGI_COMMON,
      `--wsgi-file=${PROGRAMS.glanceApi}`,
      "--processes=1",
      "--threads=8",
      "--add-header=Connection: close",
    ],
    env,
    logPath: layout.log("glance"),
  });
  servers.push(glance);
  await glance.waitUntilReady("/versions");
}

async function syncNovaDatabases(layout: Layout): Promise<void> {
  const env = processEnv(layout);
  const conf = join(layout.novaConfigDir, "nova.conf");
  for (const command of [
    ["api_db", "sync"],
    ["db", "sync"],
  ]) {
    await runCommand(
      PROGRAMS.python,
      [PROGRAMS.novaManage, `--config-file=${conf}`, ...command],
      env,
      layout.log("nova-manage"),
    );
  }
}

function startNova(
  layout: Layout,
  port: number,
  connectionClose: ConnectionClose,
): UwsgiServer {
  const closeHeader = {
    silent: [],
    announced: ["--add-header=Connection: close"],
    unframed: ["--rem-header=Content-Length"],
  }[connectionClose];
  return UwsgiServer.start({
    name: "Nova",
    port,
    args: [
      ...UWSGI_COMMON,
      `--wsgi-file=${PROGRAMS.novaApi}`,
      `--pythonpath=${PYTHON_DIR}`,
      // One thread per process, as Debian runs Nova: its eventlet-patched
      // code is not meant for uwsgi's threads.
      "--processes=2",
      "--threads=1",
      ...closeHeader,
    ],
    env: processEnv(layout),
    logPath: layout.log("nova"),
  });
}

/**
 * Starts Glance and Nova on free ports of 127.0.0.1 with their configuration
 * and sqlite databases in a new temporary directory, and nothing in /etc. On
 * failure it stops whatever it started and removes the directory.
 */
export async function startOpenStack(
  options: OpenStackOptions = {},
): Promise<OpenStack> {
  const layout = await createLayout();
  const servers: UwsgiServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    if (process.env[KEEP_DIR_VARIABLE] === "1") {
      process.stderr.write(`OpenStack logs kept in ${layout.root}\n`);
    } else {
      rmSync(layout.root, { recursive: true, force: true });
    }
  };

  try {
    const glancePort = await freePort();
    const glanceOrigin = `http://127.0.0.1:${glancePort}`;
    await writeGlanceConfig(layout);
    await writeNovaConfig(layout, glanceOrigin);

    // Glance starts while Nova's databases are created.
    const results = await Promise.allSettled([
      startGlance(layout, glancePort, servers),
      syncNovaDatabases(layout),
    ]);
    for (const result of results) {
      if (result.status === "rejected") throw result.reason;
    }

    const startAnotherNova = async (connectionClose: ConnectionClose) => {
      const nova = startNova(layout, await freePort(), connectionClose);
      servers.push(nova);
      await nova.waitUntilReady("/");
      return nova.origin;
    };
    const novaOrigin = await startAnotherNova(
      options.connectionClose ?? "silent",
    );

    return {
      novaOrigin,
      glanceOrigin,
      glance: new GlanceClient(glanceOrigin),
      imagesApiUrl: (version) => `${novaOrigin}/${version}/${PROJECT_ID}`,
      startNova: startAnotherNova,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

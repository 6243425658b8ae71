// Runs the service as its own Node process, as `npm start` does, for tests
// of signals, exit codes and process-wide resource use.
//
// The sources are compiled file by file with TypeScript's transpileModule
// into a temp directory named by a hash of the inputs. Test files and jest
// workers so share one build, and a stale `dist/` never runs. Type errors
// are left to `npm run typecheck`.

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import ts from "typescript";
import { request } from "undici";

const REPO_ROOT = join(__dirname, "..", "..");
/** Files at the package root that the compiled service reads at run time. */
const PACKAGE_FILES = ["package.json", "schema.graphql"];

function listSources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return listSources(path);
      return entry.name.endsWith(".ts") ? [path] : [];
    })
    .sort();
}

/**
 * Compiles `src/` into a package directory with `dist/src/main.js`, the
 * package files and a link to `node_modules`, and returns the directory.
 */
export function buildService(): string {
  const sources = listSources(join(REPO_ROOT, "src"));
  const hash = createHash("sha256");
  hash.update(ts.version);
  for (const path of [
    ...sources,
    ...PACKAGE_FILES.map((name) => join(REPO_ROOT, name)),
  ]) {
    hash.update(relative(REPO_ROOT, path));
    hash.update(readFileSync(path));
  }
  const target = join(
    tmpdir(),
    `cloud-images-subgraph-build-${hash.digest("hex").slice(0, 16)}`,
  );
  if (existsSync(join(target, "dist", "src", "main.js"))) return target;

  // Builds next to the target and renames it into place, so that a
  // concurrent build by another jest worker never reads a partial directory.
  const staging = `${target}.${randomUUID()}`;
  for (const path of sources) {
    const output = ts.transpileModule(readFileSync(path, "utf8"), {
      fileName: path,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    });
    const outPath = join(
      staging,
      "dist",
      relative(REPO_ROOT, path).replace(/\.ts$/, ".js"),
    );
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, output.outputText);
  }
  for (const name of PACKAGE_FILES) {
    copyFileSync(join(REPO_ROOT, name), join(staging, name));
  }
  symlinkSync(join(REPO_ROOT, "node_modules"), join(staging, "node_modules"));

  try {
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(target, "dist", "src", "main.js"))) throw error;
  }
  return target;
}

/** One JSON log line of the service. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT`, without a path. */
  origin: string;
  /** Parsed stdout lines so far. */
  logs: LogLine[];
  /** Raw stdout and stderr so far, for failure messages. */
  output(): string;
  /** Resolves with the first log line (present or future) that matches. */
  waitForLog(predicate: (line: LogLine) => boolean): Promise<LogLine>;
  /** Resolves with the exit code, or the signal name if a signal killed it. */
  exited: Promise<number | string>;
  /** Kills the process with SIGKILL unless it has exited. */
  kill(): void;
}

/** Maximum time from spawning the process to its first 200 response on `/livez`. */
const START_TIMEOUT_MS = 60_000;

/** Returns a TCP port that is free on loopback at the time of the call. */
async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `/livez` until it returns 200, or until `stopped()` is true. */
async function waitForLivez(
  origin: string,
  stopped: () => boolean,
): Promise<void> {
  while (!stopped()) {
    try {
      const response = await request(`${origin}/livez`);
      await response.body.dump();
      if (response.statusCode === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts the compiled service on a free loopback port with `env` on top of
 * a minimal environment, and resolves once `/livez` returns 200.
 */
export async function startServiceProcess(
  packageDir: string,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const port = await findFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [join(packageDir, "dist", "src", "main.js")],
    {
      cwd: packageDir,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: String(port),
        LOG_LEVEL: "info",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );

  const logs: LogLine[] = [];
  const raw: string[] = [];
  const waiters: {
    predicate: (line: LogLine) => boolean;
    resolve: (line: LogLine) => void;
  }[] = [];
  createInterface({ input: child.stdout! }).on("line", (text) => {
    raw.push(text);
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    logs.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  createInterface({ input: child.stderr! }).on("line", (text) =>
    raw.push(`stderr: ${text}`),
  );

  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const output = () => raw.join("\n");
  const waitForLog = (predicate: (line: LogLine) => boolean) => {
    const found = logs.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<LogLine>((resolve) =>
      waiters.push({ predicate, resolve }),
    );
  };
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  await Promise.race([
    waitForLivez(origin, () => settled),
    exited.then((code) => {
      throw new Error(
        `The service exited with ${code} before it started:\n${output()}`,
      );
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        kill();
        reject(
          new Error(
            `The service did not return 200 on /livez within ${START_TIMEOUT_MS} ms:\n${output()}`,
          ),
        );
      }, START_TIMEOUT_MS);
    }),
  ]).finally(() => {
    settled = true;
    clearTimeout(timer);
  });

  return { child, origin, logs, output, waitForLog, exited, kill };
}

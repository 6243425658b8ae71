import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { request } from "undici";

const execFileAsync = promisify(execFile);

/** Maximum time that one `*-manage` database command may take. */
const MANAGE_TIMEOUT_MS = 180_000;

/** Maximum time from starting uwsgi to the first 200 of its health URL. */
const READY_TIMEOUT_MS = 180_000;

/** Time that a process group gets to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** Process groups that are still running, killed at exit as a last resort. */
const liveGroups = new Set<number>();

process.once("exit", () => {
  for (const group of liveGroups) {
    signalGroup(group, "SIGKILL");
  }
});

/** Sends `signal` to a process group; false when the group no longer exists. */
function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") {
    throw new Error("Could not read the port of a loopback listener.");
  }
  return address.port;
}

/** Returns the last `lines` lines of a log file, or "" when it is missing. */
export function logTail(path: string, lines = 40): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Runs a command to completion, such as `nova-manage db sync`, and appends
 * its output to `logPath`. Throws with the output when it fails.
 */
export async function runCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logPath: string,
): Promise<void> {
  const commandLine = [command, ...args].join(" ");
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      env,
      timeout: MANAGE_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    appendFileSync(logPath, `$ ${commandLine}\n${stdout}${stderr}`);
  } catch (error) {
    const { stdout = "", stderr = "" } = error as {
      stdout?: string;
      stderr?: string;
    };
    appendFileSync(logPath, `$ ${commandLine}\n${stdout}${stderr}`);
    const output = `${stdout}${stderr}`.slice(-4000);
    throw new Error(
      `${commandLine} failed: ${(error as Error).message}\n${output}`,
    );
  }
}

/** A uwsgi server that this module started, in its own process group. */
export class UwsgiServer {
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly origin: string,
    readonly logPath: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitCode = code ?? (signal === null ? null : -1);
        resolve();
      });
    });
  }

  /**
   * Starts uwsgi on `127.0.0.1:{port}` with its output in `logPath`, as the
   * leader of a new process group, so that `stop()` reaches its workers too.
   */
  static start(options: {
    name: string;
    port: number;
    args: string[];
    env: NodeJS.ProcessEnv;
    logPath: string;
  }): UwsgiServer {
    const log = openSync(options.logPath, "a");
    const child = spawn(
      "/usr/bin/uwsgi_python3",
      [`--http-socket=127.0.0.1:${options.port}`, ...options.args],
      { detached: true, stdio: ["ignore", log, log], env: options.env },
    );
    closeSync(log);
    if (child.pid === undefined) {
      throw new Error(`Could not start uwsgi for ${options.name}.`);
    }

    liveGroups.add(child.pid);
    const origin = `http://127.0.0.1:${options.port}`;
    return new UwsgiServer(options.name, origin, options.logPath, child);
  }

  /** True after the uwsgi master process has exited. */
  get hasExited(): boolean {
    return this.exitCode !== undefined;
  }

  /**
   * Resolves once `GET {origin}{path}` returns 200. Rejects with the log's
   * tail when uwsgi exits first or the time runs out.
   */
  async waitUntilReady(path: string): Promise<void> {
    const started = Date.now();
    while (Date.now() - started < READY_TIMEOUT_MS) {
      if (this.hasExited) {
        throw new Error(
          `${this.name} exited with code ${String(this.exitCode)} before it was ready. Log ${this.logPath}:\n${logTail(this.logPath)}`,
        );
      }
      if (await this.answers(path)) return;
      await delay(200);
    }
    throw new Error(
      `${this.name} was not ready within ${READY_TIMEOUT_MS} ms. Log ${this.logPath}:\n${logTail(this.logPath)}`,
    );
  }

  private async answers(path: string): Promise<boolean> {
    try {
      const response = await request(`${this.origin}${path}`, {
        headersTimeout: 5000,
        bodyTimeout: 5000,
      });
      await response.body.dump();
      return response.statusCode === 200;
    } catch {
      return false;
    }
  }

  /**
   * Stops the process group: SIGTERM, then SIGKILL for whatever is still
   * alive after {@link STOP_GRACE_MS}. Resolves when no process is left,
   * or after another grace period: a killed worker whose parent is gone
   * stays in the group as a zombie until init reaps it.
   */
  async stop(): Promise<void> {
    const group = this.child.pid!;
    if (!liveGroups.has(group)) return;

    signalGroup(group, "SIGTERM");
    if (!(await this.waitForGroupExit(group))) {
      signalGroup(group, "SIGKILL");
      if (!(await this.waitForGroupExit(group))) {
        process.stderr.write(
          `${this.name}: process group ${group} still exists after SIGKILL.\n`,
        );
      }
    }
    liveGroups.delete(group);
  }

  /** Returns true once the master and every process of its group are gone. */
  private async waitForGroupExit(group: number): Promise<boolean> {
    const deadline = Date.now() + STOP_GRACE_MS;
    while (Date.now() < deadline) {
      if (this.hasExited && !signalGroup(group, 0)) return true;
      await delay(100);
    }
    return false;
  }
}

import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import type {
  ChildReply,
  ProcessUsage,
  ReadyMessage,
  RunnerRequest,
} from "./child";

/** A process of the benchmark, started by {@link startProcess}. */
export interface BenchProcess {
  name: string;
  /** The URL that the process serves. */
  url: string;
  pid: number;
  request<T>(command: string, argument?: unknown): Promise<T>;
  usage(): Promise<ProcessUsage>;
  stop(): Promise<void>;
}

/** Time that a process gets to start, which covers Mesh's composition. */
const START_TIMEOUT_MS = 60_000;

/**
 * Forks `script` (a path relative to this file's folder, without `.js`)
 * with `env` on top of this process's environment and NODE_ENV=production,
 * and `nodeOptions` for `node`, and waits until it reports its URL. Its stdout is dropped, so log lines cost the contender
 * what they cost in production without flooding the report. Its stderr is
 * kept for start-up failures.
 */
export async function startProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeOptions: string[] = [],
): Promise<BenchProcess> {
  const child = fork(path.join(__dirname, `${script}.js`), [], {
    execArgv: [...process.execArgv, ...nodeOptions],
    // Every process runs as it would in production, where graphql-js, for
    // one, skips its development checks.
    env: { ...process.env, NODE_ENV: "production", ...env },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const url = await waitForReady(name, child);

  let nextId = 1;
  const pending = new Map<number, (reply: ChildReply) => void>();
  child.on("message", (message: ChildReply) => {
    if (message.type !== "reply") return;
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });

  const request = <T>(command: string, argument?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => {
        if (reply.error !== undefined) {
          reject(new Error(`${name} failed ${command}: ${reply.error}`));
        } else {
          resolve(reply.result as T);
        }
      });
      child.send({ id, command, argument } satisfies RunnerRequest);
    });

  return {
    name,
    url,
    pid: child.pid ?? 0,
    request,
    usage: () => request<ProcessUsage>("usage"),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) =>
        child.once("exit", () => resolve()),
      );
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.send({ id: 0, command: "stop" } satisfies RunnerRequest);
      await exited;
      clearTimeout(timer);
    },
  };
}

function waitForReady(name: string, child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms.`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(
        new Error(`${name} exited with code ${code} before it was ready.`),
      );
    };
    child.once("exit", onExit);
    child.on("message", (message: ReadyMessage) => {
      if (message.type !== "ready") return;
      clearTimeout(timer);
      child.off("exit", onExit);
      resolve(message.url);
    });
  });
}

// Runs the Dockerfile's stages outside Docker, because no Docker engine runs
// on the development and CI machines. Each stage gets its own temporary
// directory as its file system root: COPY, WORKDIR, ENV and RUN are carried
// out there in order, and the runtime stage's CMD and HEALTHCHECK then run
// against a local simulator of the images API.
//
// NOTE: this checks the files, commands and settings of the image, not the
// base image itself. Commands run with this machine's Node, npm and /bin/sh
// (Node 24 in the CI run that puts it first on PATH), as the current user,
// and `--chown`, platform flags and image layers are not reproduced.

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, posix, relative, sep } from "node:path";
import { createInterface } from "node:readline";
import { DEMO_TOKEN, startSimulator } from "../../simulator";

const REPO_ROOT = join(__dirname, "..", "..");
const UBUNTU_IMAGE_ID = "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001";

/** Maximum time of one RUN command, such as `npm ci` with a cold npm cache. */
const RUN_TIMEOUT_MS = 8 * 60_000;
/** Maximum time from starting CMD to its "service started" log line. */
const START_TIMEOUT_MS = 30_000;
/** Docker's default grace period between SIGTERM and SIGKILL on `docker stop`. */
const STOP_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------
// Dockerfile parsing

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

interface Healthcheck {
  argv: string[];
  timeoutMs: number;
}

/**
 * Splits a Dockerfile into instructions. Joins lines that end in a
 * backslash and drops comments, parser directives and blank lines, as
 * Docker's parser does with the default escape character.
 */
function splitInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let buffer = "";
  let startLine = 0;

  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith("#") || trimmed === "") return;
    if (buffer === "") startLine = index + 1;

    if (/\\\s*$/.test(raw)) {
      buffer += raw.replace(/\\\s*$/, "") + " ";
      return;
    }
    buffer += raw;

    const match = /^\s*(\S+)\s*(.*)$/s.exec(buffer);
    if (match === null)
      throw new Error(`Dockerfile line ${startLine}: empty instruction.`);
    instructions.push({
      keyword: match[1]!.toUpperCase(),
      args: match[2]!.trim(),
      line: startLine,
    });
    buffer = "";
  });

  if (buffer !== "") {
    throw new Error(
      `Dockerfile line ${startLine}: the file ends inside a line continuation.`,
    );
  }
  return instructions;
}

function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of splitInstructions(text)) {
    if (instruction.keyword === "FROM") {
      const { rest } = takeFlags(instruction, ["platform"]);
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (match === null) {
        throw new Error(
          `Dockerfile line ${instruction.line}: invalid FROM ${JSON.stringify(instruction.args)}. Expected "FROM image [AS name]".`,
        );
      }
      stages.push({
        image: match[1]!,
        name: match[2] ?? null,
        instructions: [],
      });
      continue;
    }

    const stage = stages.at(-1);
    if (stage === undefined) {
      throw new Error(
        `Dockerfile line ${instruction.line}: ${instruction.keyword} comes before the first FROM.`,
      );
    }
    stage.instructions.push(instruction);
  }
  return stages;
}

/**
 * Removes the leading `--name=value` flags of an instruction.
 *
 * @throws Error for a flag not in `allowed`, so that a new flag in the
 *   Dockerfile fails here instead of being skipped.
 */
function takeFlags(
  instruction: Instruction,
  allowed: readonly string[],
): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = instruction.args;
  for (;;) {
    const match = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (match === null) break;

    const name = match[1]!;
    if (!allowed.includes(name)) {
      throw new Error(
        `Dockerfile line ${instruction.line}: ${instruction.keyword} --${name} is not supported by this test; extend takeFlags in ${relative(REPO_ROOT, __filename)}.`,
      );
    }
    flags.set(name, match[2] ?? "");
    rest = rest.slice(match[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** Parses the exec form (a JSON array) or the shell form of RUN and CMD. */
function parseCommand(text: string): string[] {
  if (text.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (
        Array.isArray(parsed) &&
        parsed.length > 0 &&
        parsed.every((item) => typeof item === "string")
      ) {
        return parsed as string[];
      }
    } catch {
      // Docker runs a line that is not a JSON array of strings in a shell.
    }
  }
  return ["/bin/sh", "-c", text];
}

/**
 * Splits shell-like words with single quotes, double quotes and backslash
 * escapes, as ENV values are written.
 */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: string | null = null;

  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quote !== null) {
      if (char === quote) quote = null;
      else if (char === "\\" && quote === '"' && index + 1 < text.length)
        current += text[++index];
      else current += char;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === "\\" && index + 1 < text.length) {
      current += text[++index];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }

  if (quote !== null)
    throw new Error(`ENV value ${text} has an unterminated quote.`);
  if (inWord) words.push(current);
  return words;
}

function parseEnv(instruction: Instruction): Record<string, string> {
  if (instruction.args.includes("$")) {
    throw new Error(
      `Dockerfile line ${instruction.line}: variable substitution in ENV is not supported by this test.`,
    );
  }

  const words = splitWords(instruction.args);
  const first = words[0];
  if (first === undefined) {
    throw new Error(
      `Dockerfile line ${instruction.line}: ENV without a value.`,
    );
  }
  if (!first.includes("=")) {
    // The legacy form `ENV KEY value with spaces` sets a single variable.
    return { [first]: words.slice(1).join(" ") };
  }

  const env: Record<string, string> = {};
  for (const word of words) {
    const separator = word.indexOf("=");
    if (separator <= 0) {
      throw new Error(
        `Dockerfile line ${instruction.line}: invalid ENV item ${JSON.stringify(word)}. Expected KEY=value.`,
      );
    }
    env[word.slice(0, separator)] = word.slice(separator + 1);
  }
  return env;
}

/** Converts a Go duration such as `5s`, `1m30s` or `500ms` to milliseconds. */
function parseDuration(text: string): number {
  const units: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  let rest = text;
  while (rest !== "") {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (match === null)
      throw new Error(
        `Invalid HEALTHCHECK duration ${text}: expected a Go duration such as 30s or 1m30s.`,
      );
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}

function parseHealthcheck(instruction: Instruction): Healthcheck | null {
  if (/^NONE$/i.test(instruction.args)) return null;

  const { flags, rest } = takeFlags(instruction, [
    "interval",
    "timeout",
    "start-period",
    "start-interval",
    "retries",
  ]);
  const match = /^CMD\s+(.*)$/is.exec(rest);
  if (match === null) {
    throw new Error(
      `Dockerfile line ${instruction.line}: invalid HEALTHCHECK. Expected "HEALTHCHECK [options] CMD command".`,
    );
  }
  // The Dockerfile reference gives 30 seconds as the default --timeout.
  const timeout = flags.get("timeout");
  return {
    argv: parseCommand(match[1]!.trim()),
    timeoutMs: timeout === undefined ? 30_000 : parseDuration(timeout),
  };
}

// ---------------------------------------------------------------------------
// .dockerignore

interface IgnoreRule {
  pattern: RegExp;
  exclusion: boolean;
}

/**
 * Converts a .dockerignore pattern to a regular expression: `**` matches any
 * number of directories, `*` any run of characters but `/`, `?` one such
 * character. Patterns are anchored at the context root.
 */
function patternToRegExp(pattern: string): RegExp {
  let source = "^";
  let index = 0;
  while (index < pattern.length) {
    if (pattern.startsWith("**/", index)) {
      source += "(?:.*/)?";
      index += 3;
    } else if (pattern.startsWith("**", index)) {
      source += ".*";
      index += 2;
    } else {
      const char = pattern[index]!;
      if (char === "[" || char === "\\") {
        throw new Error(
          `.dockerignore pattern ${JSON.stringify(pattern)}: character classes and escapes are not supported by this test.`,
        );
      }
      if (char === "*") source += "[^/]*";
      else if (char === "?") source += "[^/]";
      else source += char.replace(/[.+^${}()|\]]/g, "\\$&");
      index += 1;
    }
  }
  return new RegExp(source + "$");
}

function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;

    const exclusion = trimmed.startsWith("!");
    const pattern = posix
      .normalize(exclusion ? trimmed.slice(1).trim() : trimmed)
      .replace(/^\/+/, "");
    rules.push({ pattern: patternToRegExp(pattern), exclusion });
  }
  return rules;
}

/**
 * Checks whether Docker leaves a context path out of the build. As in
 * Docker, a pattern that matches a parent directory matches the path too,
 * and the last matching rule decides, so `!pattern` can re-include a path.
 */
function isIgnored(rules: readonly IgnoreRule[], path: string): boolean {
  const parts = path.split("/");
  const candidates = parts.map((_, index) =>
    parts.slice(0, index + 1).join("/"),
  );

  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.pattern.test(candidate)))
      ignored = !rule.exclusion;
  }
  return ignored;
}

// ---------------------------------------------------------------------------
// Running stages

/** The state of a stage after its instructions ran, like an image's config. */
interface BuiltStage {
  name: string | null;
  image: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | null;
  cmd: string[] | null;
  healthcheck: Healthcheck | null;
  exposedPorts: string[];
}

interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Returns this process's environment without what npm and jest add to it
 * (npm_* variables, INIT_CWD, NODE_ENV=test), so that a stage gets only
 * the machine's settings plus its own ENV.
 */
function baseEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^npm_/i.test(name)) continue;
    if (
      ["INIT_CWD", "NODE_ENV", "NODE_OPTIONS", "JEST_WORKER_ID"].includes(name)
    )
      continue;
    env[name] = value;
  }
  return env;
}

/** Maps an absolute path inside a stage to the stage's directory on disk. */
function hostPath(root: string, containerPath: string): string {
  const normalized = posix.normalize(containerPath);
  if (!posix.isAbsolute(normalized)) {
    throw new Error(
      `Invalid stage path ${containerPath}: expected an absolute path.`,
    );
  }
  return join(root, ...normalized.split("/").filter((part) => part !== ""));
}

/** Replaces `node` by this process's Node binary, like the image's PATH would. */
function resolveNode(argv: readonly string[]): string[] {
  const [program, ...args] = argv;
  if (program === undefined)
    throw new Error("Invalid command: the argument list is empty.");
  return [program === "node" ? process.execPath : program, ...args];
}

function runCommand(
  argv: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<CommandResult> {
  const [program, ...args] = argv;
  if (program === undefined)
    throw new Error("Invalid command: the argument list is empty.");

  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));

    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${argv.join(" ")} timed out after ${options.timeoutMs} ms. Output:\n${output.slice(-4000)}`,
        ),
      );
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

function copyFromContext(
  context: string,
  rules: readonly IgnoreRule[],
  source: string,
): string {
  const normalized = posix.normalize(source).replace(/^\/+/, "");
  if (normalized.startsWith("..")) {
    throw new Error(`COPY source ${source} is outside the build context.`);
  }
  if (/[*?[]/.test(normalized)) {
    throw new Error(
      `COPY source ${source}: wildcards are not supported by this test.`,
    );
  }

  const path = join(context, normalized);
  if (
    !existsSync(path) ||
    (normalized !== "." && isIgnored(rules, normalized))
  ) {
    throw new Error(
      `COPY source ${source} is not in the build context or is excluded by .dockerignore.`,
    );
  }
  return path;
}

/**
 * Copies one COPY source. A directory's contents go into `destination`, and
 * a file goes to `destination` itself unless that is a directory.
 */
function copySource(
  sourcePath: string,
  destination: string,
  destinationIsDirectory: boolean,
  keep: (path: string) => boolean,
): void {
  if (statSync(sourcePath).isDirectory()) {
    mkdirSync(destination, { recursive: true });
    // Directories are always walked so that a `!pattern` inside an ignored
    // directory can still re-include a file, as in Docker.
    cpSync(sourcePath, destination, {
      recursive: true,
      filter: (path) => statSync(path).isDirectory() || keep(path),
    });
    return;
  }

  const target = destinationIsDirectory
    ? join(destination, basename(sourcePath))
    : destination;
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(sourcePath, target);
}

function runCopy(
  instruction: Instruction,
  state: BuiltStage,
  built: readonly BuiltStage[],
  context: string,
  rules: readonly IgnoreRule[],
): void {
  const { flags, rest } = takeFlags(instruction, ["from", "link"]);
  const paths = rest.startsWith("[")
    ? (JSON.parse(rest) as string[])
    : rest.split(/\s+/);
  const destinationText = paths.pop();
  if (destinationText === undefined || paths.length === 0) {
    throw new Error(
      `Dockerfile line ${instruction.line}: COPY needs at least one source and a destination.`,
    );
  }

  const destination = hostPath(
    state.root,
    posix.resolve(state.workdir, destinationText),
  );
  const destinationIsDirectory =
    destinationText.endsWith("/") ||
    paths.length > 1 ||
    (existsSync(destination) && statSync(destination).isDirectory());

  const from = flags.get("from");
  const fromStage =
    from === undefined
      ? undefined
      : built.find(
          (stage, index) => stage.name === from || String(index) === from,
        );
  if (from !== undefined && fromStage === undefined) {
    throw new Error(
      `Dockerfile line ${instruction.line}: COPY --from=${from} names no earlier stage.`,
    );
  }

  for (const source of paths) {
    if (fromStage !== undefined) {
      // Paths of COPY --from are relative to the root of that stage.
      const sourcePath = hostPath(fromStage.root, posix.resolve("/", source));
      if (!existsSync(sourcePath)) {
        throw new Error(
          `Dockerfile line ${instruction.line}: ${source} does not exist in stage ${from}.`,
        );
      }
      copySource(sourcePath, destination, destinationIsDirectory, () => true);
    } else {
      const sourcePath = copyFromContext(context, rules, source);
      copySource(sourcePath, destination, destinationIsDirectory, (path) => {
        const contextPath = relative(context, path).split(sep).join("/");
        return !isIgnored(rules, contextPath);
      });
    }
  }
}

async function runRun(
  instruction: Instruction,
  state: BuiltStage,
): Promise<void> {
  const { flags, rest } = takeFlags(instruction, ["mount"]);
  const mount = flags.get("mount");
  if (mount !== undefined && !/(^|,)type=cache(,|$)/.test(mount)) {
    throw new Error(
      `Dockerfile line ${instruction.line}: RUN --mount=${mount} is not supported by this test; only type=cache is.`,
    );
  }

  // A cache mount only keeps npm's download cache between builds. This
  // machine's npm cache, filled by the project's own `npm ci`, takes its
  // place, and --prefer-offline makes npm use it before the registry.
  const argv = parseCommand(rest);
  const cwd = hostPath(state.root, state.workdir);
  const result = await runCommand(argv, {
    cwd,
    env: {
      ...baseEnvironment(),
      ...state.env,
      npm_config_prefer_offline: "true",
    },
    timeoutMs: RUN_TIMEOUT_MS,
  });
  if (result.code !== 0) {
    throw new Error(
      `Dockerfile line ${instruction.line}: RUN ${rest} failed with exit code ${result.code} (signal ${result.signal}) in ${cwd}. Output:\n${result.output.slice(-4000)}`,
    );
  }
}

/** Runs one stage's instructions in order in `root`, the stage's "/". */
async function buildStage(
  stage: Stage,
  root: string,
  built: readonly BuiltStage[],
  context: string,
  rules: readonly IgnoreRule[],
): Promise<BuiltStage> {
  const state: BuiltStage = {
    name: stage.name,
    image: stage.image,
    root,
    workdir: "/",
    env: {},
    user: null,
    cmd: null,
    healthcheck: null,
    exposedPorts: [],
  };

  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case "WORKDIR":
        state.workdir = posix.resolve(state.workdir, instruction.args);
        mkdirSync(hostPath(root, state.workdir), { recursive: true });
        break;
      case "ENV":
        Object.assign(state.env, parseEnv(instruction));
        break;
      case "COPY":
        runCopy(instruction, state, built, context, rules);
        break;
      case "RUN":
        await runRun(instruction, state);
        break;
      case "USER":
        state.user = instruction.args;
        break;
      case "EXPOSE":
        state.exposedPorts.push(...instruction.args.split(/\s+/));
        break;
      case "HEALTHCHECK":
        state.healthcheck = parseHealthcheck(instruction);
        break;
      case "CMD":
        state.cmd = parseCommand(instruction.args);
        break;
      case "LABEL":
        break;
      default:
        throw new Error(
          `Dockerfile line ${instruction.line}: ${instruction.keyword} is not supported by this test; extend buildStage in ${relative(REPO_ROOT, __filename)}.`,
        );
    }
  }
  return state;
}

// ---------------------------------------------------------------------------
// The running service

interface LogLine {
  msg?: string;
  port?: number;
}

/** Resolves with the port of the "service started" line on the child's stdout. */
function waitForStart(child: ChildProcess, logs: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `The service logged no "service started" line within ${START_TIMEOUT_MS} ms. Output:\n${logs.join("\n")}`,
        ),
      );
    }, START_TIMEOUT_MS);

    createInterface({ input: child.stdout! }).on("line", (line) => {
      logs.push(line);
      let entry: LogLine;
      try {
        entry = JSON.parse(line) as LogLine;
      } catch {
        return;
      }
      if (entry.msg === "service started" && typeof entry.port === "number") {
        clearTimeout(timer);
        resolve(entry.port);
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `The service exited with code ${code} (signal ${signal}) before it started. Output:\n${logs.join("\n")}`,
        ),
      );
    });
  });
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Resolves once the child has exited and its stdout and stderr are closed,
 * so that every log line has been read by then.
 */
function waitForClose(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
}

function waitForServiceExit(
  closed: Promise<ExitStatus>,
  timeoutMs: number,
): Promise<ExitStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`The service did not exit within ${timeoutMs} ms.`)),
      timeoutMs,
    );
  });
  return Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
}

/** Returns a loopback port that nothing listens on at the time of the call. */
function findClosedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string")
          reject(new Error("The probe server got no TCP port."));
        else resolve(address.port);
      });
    });
  });
}

// ---------------------------------------------------------------------------
// Tests

describe(".dockerignore", () => {
  const rules = parseDockerignore(
    readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8"),
  );

  test.each([
    "node_modules",
    "node_modules/jest/package.json",
    "src/images/node_modules/x.js",
    "dist",
    "dist/src/main.js",
    ".git",
    ".git/HEAD",
    "coverage/lcov.info",
    ".ci/node24/node_modules/node/bin/node",
    "npm-debug.log",
    "test/output/jest.log",
  ])("excludes %s", (path) => {
    expect(isIgnored(rules, path)).toBe(true);
  });

  test.each([
    "package.json",
    "package-lock.json",
    "schema.graphql",
    "src/main.ts",
    "tsconfig.build.json",
  ])("keeps %s", (path) => {
    expect(isIgnored(rules, path)).toBe(false);
  });
});

describe("Dockerfile", () => {
  const temporaryRoots: string[] = [];
  let build: BuiltStage;
  let runtime: BuiltStage;
  let simulator: Awaited<ReturnType<typeof startSimulator>> | undefined;
  let service: ChildProcess | undefined;
  let serviceClosed: Promise<ExitStatus> | undefined;
  let servicePort: number;
  const serviceLogs: string[] = [];

  beforeAll(async () => {
    const stages = parseStages(
      readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"),
    );
    const rules = parseDockerignore(
      readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8"),
    );

    const built: BuiltStage[] = [];
    for (const [index, stage] of stages.entries()) {
      const label = stage.name ?? `stage${index}`;
      const root = mkdtempSync(join(tmpdir(), `dockerfile-${label}-`));
      temporaryRoots.push(root);
      built.push(await buildStage(stage, root, built, REPO_ROOT, rules));
    }
    const buildStageResult = built.find((stage) => stage.name === "build");
    if (buildStageResult === undefined)
      throw new Error('The Dockerfile has no stage named "build".');
    build = buildStageResult;
    runtime = built.at(-1)!;

    simulator = await startSimulator();
    const cmd = runtime.cmd;
    if (cmd === null) throw new Error("The runtime stage has no CMD.");

    const [program, ...args] = resolveNode(cmd);
    service = spawn(program!, args, {
      cwd: hostPath(runtime.root, runtime.workdir),
      env: {
        ...baseEnvironment(),
        ...runtime.env,
        IMAGES_API_URL: simulator.imagesApiUrl,
        PORT: "0",
        HOST: "127.0.0.1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    serviceClosed = waitForClose(service);
    servicePort = await waitForStart(service, serviceLogs);
  }, 15 * 60_000);

  afterAll(async () => {
    if (service !== undefined && service.exitCode === null) {
      service.kill("SIGKILL");
      await waitForServiceExit(serviceClosed!, STOP_TIMEOUT_MS);
    }
    await simulator?.close();
    for (const root of temporaryRoots)
      rmSync(root, { recursive: true, force: true });
  });

  test("build stage uses a Node 24 image", () => {
    expect(build.image).toMatch(/^node:24(?:[.-]|$)/);
  });

  test("runtime stage uses a Node 24 image", () => {
    expect(runtime.image).toMatch(/^node:24(?:[.-]|$)/);
  });

  test("runtime stage sets NODE_ENV=production", () => {
    expect(runtime.env.NODE_ENV).toBe("production");
  });

  test("runtime user is not root", () => {
    expect(runtime.user).not.toBeNull();
    expect(runtime.user).not.toMatch(/^(root|0)(:|$)/);
  });

  test("runtime stage exposes port 4001", () => {
    expect(runtime.exposedPorts).toContain("4001");
  });

  test("runtime stage has a healthcheck", () => {
    expect(runtime.healthcheck).not.toBeNull();
  });

  test.each([
    "jest",
    "typescript",
    "ts-jest",
    "prettier",
    "@graphql-codegen/cli",
  ])("runtime omits dev dependency %s", (name) => {
    const appRoot = hostPath(runtime.root, runtime.workdir);
    const path = join(appRoot, "node_modules", ...name.split("/"));
    expect(existsSync(path)).toBe(false);
  });

  test("runtime omits every dev-only locked package", () => {
    const lock = JSON.parse(
      readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8"),
    ) as { packages: Record<string, { dev?: boolean }> };
    const appRoot = hostPath(runtime.root, runtime.workdir);
    const present = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== "" && entry.dev === true)
      .map(([path]) => path)
      .filter((path) => existsSync(join(appRoot, path)));
    expect(present).toEqual([]);
  });

  test("runtime installs every production locked package", () => {
    const lock = JSON.parse(
      readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8"),
    ) as {
      packages: Record<
        string,
        { dev?: boolean; optional?: boolean; devOptional?: boolean }
      >;
    };
    const appRoot = hostPath(runtime.root, runtime.workdir);
    const missing = Object.entries(lock.packages)
      .filter(
        ([path, entry]) =>
          path !== "" && !entry.dev && !entry.optional && !entry.devOptional,
      )
      .map(([path]) => path)
      .filter((path) => !existsSync(join(appRoot, path)));
    expect(missing).toEqual([]);
  });

  test("service logs its port on start", () => {
    expect(servicePort).toBeGreaterThan(0);
  });

  test("healthcheck passes against running service", async () => {
    const healthcheck = runtime.healthcheck!;
    const result = await runCommand(resolveNode(healthcheck.argv), {
      cwd: hostPath(runtime.root, runtime.workdir),
      env: { ...baseEnvironment(), ...runtime.env, PORT: String(servicePort) },
      timeoutMs: healthcheck.timeoutMs,
    });
    // The whole result is compared so that a failure shows the output.
    expect(result).toMatchObject({ code: 0 });
  });

  test("healthcheck fails with nothing listening", async () => {
    const healthcheck = runtime.healthcheck!;
    const closedPort = await findClosedPort();
    const result = await runCommand(resolveNode(healthcheck.argv), {
      cwd: hostPath(runtime.root, runtime.workdir),
      env: { ...baseEnvironment(), ...runtime.env, PORT: String(closedPort) },
      timeoutMs: healthcheck.timeoutMs,
    });
    expect(result.code).not.toBe(0);
  });

  test("image query returns Ubuntu 11.10", async () => {
    const response = await fetch(`http://127.0.0.1:${servicePort}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-auth-token": DEMO_TOKEN,
      },
      body: JSON.stringify({
        query: `{ image(id: "${UBUNTU_IMAGE_ID}") { name } }`,
      }),
    });
    const body = (await response.json()) as {
      data?: { image?: { name?: string } | null };
      errors?: unknown[];
    };
    expect(body.errors).toBeUndefined();
    expect(response.status).toBe(200);
    expect(body.data?.image?.name).toBe("Ubuntu 11.10");
    expect(simulator!.imageRequests(UBUNTU_IMAGE_ID)).not.toHaveLength(0);
  });

  // Kept last, because it stops the service that the tests above use.
  test("service exits 0 on SIGTERM", async () => {
    service!.kill("SIGTERM");
    const status = await waitForServiceExit(serviceClosed!, STOP_TIMEOUT_MS);
    // A signal here means that a SIGTERM handler re-raised the signal, so
    // the process died before the shutdown in src/main.ts finished.
    expect(status).toEqual({ code: 0, signal: null });
    expect(serviceLogs.join("\n")).toContain('"msg":"service stopped"');
  });
});

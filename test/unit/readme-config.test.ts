// The README's configuration table must list exactly the environment
// variables that src/config.ts reads.

import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

function configVariables(): string[] {
  const source = readFileSync(join(ROOT, "src", "config.ts"), "utf8");
  const names = new Set<string>();
  for (const match of source.matchAll(
    /"([A-Z][A-Z0-9_]{2,})"|env\.([A-Z][A-Z0-9_]+)/g,
  )) {
    names.add(match[1] ?? match[2]!);
  }
  return [...names].sort();
}

function readmeVariables(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Configuration\n");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  const names = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)`/gm)].map(
    (match) => match[1]!,
  );
  return names.sort();
}

test("config reads the expected variables", () => {
  // Guards the pattern above: it must find settings of each kind.
  expect(configVariables()).toEqual(
    expect.arrayContaining([
      "IMAGES_API_URL",
      "LOG_LEVEL",
      "SHUTDOWN_GRACE_MS",
    ]),
  );
});

test("README lists every config variable", () => {
  expect(readmeVariables()).toEqual(configVariables());
});

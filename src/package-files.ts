import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Finds a file at the package root, from `src/` when run by ts-jest and from
 * `dist/src/` when run compiled.
 */
export function readPackageFile(name: string): string {
  let directory = __dirname;
  for (let depth = 0; depth < 4; depth++) {
    const candidate = join(directory, name);
    if (existsSync(join(directory, "package.json")) && existsSync(candidate)) {
      return readFileSync(candidate, "utf8");
    }
    directory = dirname(directory);
  }
  throw new Error(`${name} not found in a package root above ${__dirname}`);
}

const packageJson = JSON.parse(readPackageFile("package.json")) as {
  name: string;
  version: string;
};

export const PACKAGE_NAME = packageJson.name;
export const PACKAGE_VERSION = packageJson.version;

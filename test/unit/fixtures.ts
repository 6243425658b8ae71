import { readFileSync } from "node:fs";
import path from "node:path";

/** One recorded upstream response of `GET /images/{image_id}`. */
export interface ImageFixture {
  status: number;
  headers: Record<string, string>;
  /** The parsed body, for responses whose body is JSON. */
  body?: unknown;
  /** The raw body, for responses whose body is not JSON. */
  text?: string;
  note?: string;
}

const FIXTURE_DIRECTORY = path.join(__dirname, "..", "fixtures", "images");

/** Reads `test/fixtures/images/<name>.json`. */
export function readFixture(name: string): ImageFixture {
  const text = readFileSync(path.join(FIXTURE_DIRECTORY, `${name}.json`), {
    encoding: "utf8",
  });
  return JSON.parse(text) as ImageFixture;
}

/** Returns the body text: `text` as recorded, or `body` serialized as JSON. */
export function fixtureBodyText(fixture: ImageFixture): string {
  if (fixture.text !== undefined) return fixture.text;
  return JSON.stringify(fixture.body);
}

import { ImageError } from "../../src/errors";
import type { ImageSource } from "../../src/images/loader";
import { createImageLoader } from "../../src/images/loader";
import type { ImageModel } from "../../src/images/model";

const TOKEN = "token-of-this-request";

const IDS = [
  "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001",
  "5c1e8a52-7d2b-4f0e-9a63-2b1f0c9e4d71",
  "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
  "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
  "70a599e0-31e7-49b7-b260-868f441e862b",
] as const;

const [FIRST, SECOND, THIRD] = IDS;

function imageModel(id: string): ImageModel {
  return {
    id,
    name: `image ${id}`,
    status: "ACTIVE",
    progress: 100,
    minDisk: 10,
    minRam: 256,
    sizeBytes: null,
    created: null,
    updated: null,
    diskConfig: null,
    type: "BASE",
    links: [],
    metadata: [],
    server: null,
  };
}

interface SourceCall {
  id: string;
  token: string;
}

/**
 * An in-memory ImageSource that records its calls. `answer` decides each
 * result, and defaults to an image model for the id.
 */
class RecordingSource implements ImageSource {
  readonly calls: SourceCall[] = [];

  constructor(
    private readonly answer: (id: string) => Promise<ImageModel> = (id) =>
      Promise.resolve(imageModel(id)),
  ) {}

  fetchImage(id: string, token: string): Promise<ImageModel> {
    this.calls.push({ id, token });
    return this.answer(id);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorCodeOf(result: ImageModel | Error | undefined): unknown {
  return result instanceof ImageError ? result.code : result;
}

describe("createImageLoader batching", () => {
  test("duplicate ids fetched once", async () => {
    const source = new RecordingSource();
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 4 });

    await Promise.all([
      loader.load(FIRST),
      loader.load(SECOND),
      loader.load(FIRST),
      loader.load(FIRST),
    ]);

    expect(source.calls.map((call) => call.id).sort()).toStrictEqual(
      [FIRST, SECOND].sort(),
    );
  });

  test("duplicates share one result", async () => {
    const source = new RecordingSource();
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 4 });

    const [one, two] = await Promise.all([
      loader.load(FIRST),
      loader.load(FIRST),
    ]);

    expect(one).toBe(two);
  });

  test("later load in request cached", async () => {
    const source = new RecordingSource();
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 4 });

    await loader.load(FIRST);
    await loader.load(FIRST);

    expect(source.calls).toHaveLength(1);
  });

  test("results follow key order", async () => {
    const finished: string[] = [];
    const source = new RecordingSource(async (id) => {
      // The first id resolves last and the last id first.
      await delay(10 * (IDS.length - IDS.indexOf(id as (typeof IDS)[number])));
      finished.push(id);
      return imageModel(id);
    });
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 8 });

    const results = await loader.loadMany([...IDS]);

    expect(finished).toStrictEqual([...IDS].reverse());
    expect(results.map((result) => (result as ImageModel).id)).toStrictEqual([
      ...IDS,
    ]);
  });

  test("each load gets its own image", async () => {
    const source = new RecordingSource(async (id) => {
      await delay(id === FIRST ? 20 : 0);
      return imageModel(id);
    });
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 2 });

    const [first, second] = await Promise.all([
      loader.load(FIRST),
      loader.load(SECOND),
    ]);

    expect(first.id).toBe(FIRST);
    expect(second.id).toBe(SECOND);
  });
});

describe("createImageLoader failures", () => {
  const notFound = new ImageError("NOT_FOUND", `Image ${SECOND} not found.`, {
    imageId: SECOND,
  });

  function sourceFailingSecond(): RecordingSource {
    return new RecordingSource(async (id) => {
      if (id === SECOND) throw notFound;
      return imageModel(id);
    });
  }

  test("failing id fills only its slot", async () => {
    const loader = createImageLoader({
      source: sourceFailingSecond(),
      token: TOKEN,
      concurrency: 4,
    });

    const results = await loader.loadMany([FIRST, SECOND, THIRD]);

    expect(results[0]).toStrictEqual(imageModel(FIRST));
    expect(results[1]).toBe(notFound);
    expect(results[2]).toStrictEqual(imageModel(THIRD));
  });

  test("failing id rejects its load", async () => {
    const loader = createImageLoader({
      source: sourceFailingSecond(),
      token: TOKEN,
      concurrency: 4,
    });

    const [first, second] = await Promise.allSettled([
      loader.load(FIRST),
      loader.load(SECOND),
    ]);

    expect(first.status).toBe("fulfilled");
    expect(second).toStrictEqual({ status: "rejected", reason: notFound });
  });

  test("failing id still fetched once", async () => {
    const source = sourceFailingSecond();
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 4 });

    await loader.loadMany([SECOND, SECOND, FIRST]);

    expect(source.calls.filter((call) => call.id === SECOND)).toHaveLength(1);
  });
});

describe("createImageLoader invalid ids", () => {
  const cases: [string, string][] = [
    ["empty", ""],
    ["path traversal", "../../servers"],
    ["10,000 characters", "a".repeat(10_000)],
    ["NUL", `${FIRST}\u0000`],
    ["newline", `${FIRST}\n`],
    ["inner newline", `3afe97b2-26dc-49c5\na2cc-a2fc8d80c001`],
    ["percent-encoded slash", `..%2F..%2Fservers%2F${FIRST}`],
    ["encoded slash after UUID", `${FIRST}%2F..`],
    ["UUID with suffix", `${FIRST}x`],
    ["UUID with prefix", `x${FIRST}`],
    ["UUID with space", ` ${FIRST}`],
    ["UUID in braces", `{${FIRST}}`],
    ["UUID without hyphens", FIRST.replace(/-/g, "")],
    ["non-hex UUID", "zzzzzzzz-26dc-49c5-a2cc-a2fc8d80c001"],
  ];

  test.each(cases)("%s id is BAD_USER_INPUT", async (_label, id) => {
    const source = new RecordingSource();
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 4 });

    const [result] = await loader.loadMany([id]);

    expect(errorCodeOf(result)).toBe("BAD_USER_INPUT");
    expect(source.calls).toHaveLength(0);
  });

  test.each(cases)("%s id echo is bounded", async (_label, id) => {
    const loader = createImageLoader({
      source: new RecordingSource(),
      token: TOKEN,
      concurrency: 4,
    });

    const [result] = await loader.loadMany([id]);
    const message = (result as Error).message;
    const echoed = /^Invalid image id (".*"): expected a UUID/s.exec(message);
    const shownId = JSON.parse(echoed?.[1] ?? "null") as string | null;

    expect(shownId?.replace(/…$/, "").length).toBeLessThanOrEqual(64);
    expect(message).not.toMatch(/[\u0000-\u001f]/);
  });

  test("long id cut at 64 characters", async () => {
    const loader = createImageLoader({
      source: new RecordingSource(),
      token: TOKEN,
      concurrency: 4,
    });

    const [result] = await loader.loadMany(["a".repeat(10_000)]);
    const message = (result as Error).message;

    expect(message).toContain(`"${"a".repeat(64)}…"`);
    expect(message).not.toContain("a".repeat(65));
  });

  test("invalid id message exact", async () => {
    const loader = createImageLoader({
      source: new RecordingSource(),
      token: TOKEN,
      concurrency: 4,
    });

    const [result] = await loader.loadMany(["../../servers"]);

    expect((result as Error).message).toBe(
      'Invalid image id "../../servers": expected a UUID such as "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001".',
    );
  });

  test("invalid id leaves valid ids", async () => {
    const source = new RecordingSource();
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 4 });

    const results = await loader.loadMany([FIRST, "../../servers", SECOND]);

    expect(results[0]).toStrictEqual(imageModel(FIRST));
    expect(errorCodeOf(results[1])).toBe("BAD_USER_INPUT");
    expect(results[2]).toStrictEqual(imageModel(SECOND));
    expect(source.calls.map((call) => call.id)).toStrictEqual([FIRST, SECOND]);
  });

  test("upper-case UUID is valid", async () => {
    const source = new RecordingSource();
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 4 });

    await loader.load(FIRST.toUpperCase());

    expect(source.calls.map((call) => call.id)).toStrictEqual([
      FIRST.toUpperCase(),
    ]);
  });
});

describe("createImageLoader token", () => {
  test("null token is UNAUTHENTICATED everywhere", async () => {
    const source = new RecordingSource();
    const loader = createImageLoader({ source, token: null, concurrency: 4 });

    const results = await loader.loadMany([FIRST, SECOND, "../../servers"]);

    expect(results.map(errorCodeOf)).toStrictEqual([
      "UNAUTHENTICATED",
      "UNAUTHENTICATED",
      "UNAUTHENTICATED",
    ]);
    expect(source.calls).toHaveLength(0);
  });

  test("null token message names header", async () => {
    const loader = createImageLoader({
      source: new RecordingSource(),
      token: null,
      concurrency: 4,
    });

    const [result] = await loader.loadMany([FIRST]);

    expect((result as Error).message).toBe(
      "Missing X-Auth-Token header: send the caller's Cloud Servers API token in it.",
    );
  });

  test("source gets the loader's token", async () => {
    const source = new RecordingSource();
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 4 });
    const other = createImageLoader({
      source,
      token: "token-of-another-request",
      concurrency: 4,
    });

    await Promise.all([loader.load(FIRST), loader.load(SECOND)]);
    await other.load(THIRD);

    expect(source.calls).toStrictEqual([
      { id: FIRST, token: TOKEN },
      { id: SECOND, token: TOKEN },
      { id: THIRD, token: "token-of-another-request" },
    ]);
  });

  test("loaders share no cache", async () => {
    const source = new RecordingSource();
    const first = createImageLoader({ source, token: TOKEN, concurrency: 4 });
    const second = createImageLoader({
      source,
      token: "other",
      concurrency: 4,
    });

    await first.load(FIRST);
    await second.load(FIRST);

    expect(source.calls).toHaveLength(2);
  });
});

describe("createImageLoader concurrency", () => {
  async function measureInFlight(
    concurrency: number,
    count: number,
  ): Promise<{ maxInFlight: number; calls: number }> {
    let inFlight = 0;
    let maxInFlight = 0;
    const source = new RecordingSource(async (id) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await delay(5);
      inFlight--;
      return imageModel(id);
    });
    const loader = createImageLoader({ source, token: TOKEN, concurrency });
    const ids = Array.from(
      { length: count },
      (_, index) =>
        `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`,
    );

    await loader.loadMany(ids);
    return { maxInFlight, calls: source.calls.length };
  }

  test("bound never exceeded", async () => {
    const { maxInFlight } = await measureInFlight(3, 20);

    expect(maxInFlight).toBeLessThanOrEqual(3);
  });

  test("bound is reached", async () => {
    const { maxInFlight } = await measureInFlight(3, 20);

    expect(maxInFlight).toBe(3);
  });

  test("every id fetched under bound", async () => {
    const { calls } = await measureInFlight(3, 20);

    expect(calls).toBe(20);
  });

  test("bound of one is sequential", async () => {
    const { maxInFlight } = await measureInFlight(1, 5);

    expect(maxInFlight).toBe(1);
  });

  test("bound above count fetches all", async () => {
    const { maxInFlight } = await measureInFlight(16, 4);

    expect(maxInFlight).toBe(4);
  });

  test("failures free their slot", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const source = new RecordingSource(async (id) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await delay(2);
      inFlight--;
      throw new ImageError("UPSTREAM_ERROR", `failed ${id}`, { imageId: id });
    });
    const loader = createImageLoader({ source, token: TOKEN, concurrency: 2 });

    const results = await loader.loadMany([...IDS]);

    expect(results.map(errorCodeOf)).toStrictEqual(
      IDS.map(() => "UPSTREAM_ERROR"),
    );
    expect(maxInFlight).toBe(2);
  });
});

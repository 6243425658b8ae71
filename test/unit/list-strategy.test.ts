import pino from "pino";
import { Deadline } from "../../src/deadline";
import { ImageError } from "../../src/errors";
import type { ImageLister, ListStrategy } from "../../src/images/list-strategy";
import { resolveFromList, shouldUseList } from "../../src/images/list-strategy";
import type { ImageModel } from "../../src/images/model";
import type { ImagesPage, PageRequest } from "../../src/upstream/list";
import { captureLogger } from "../support/stack";

const TOKEN = "token-of-this-request";
const CALL = { deadline: new Deadline(Infinity) };

/** Ids `…0001`, `…0002`, … in list order. */
function imageId(index: number): string {
  return `3afe97b2-26dc-49c5-a2cc-${String(index).padStart(12, "0")}`;
}

function listedBody(id: string): Record<string, unknown> {
  return {
    id,
    name: `listed ${id}`,
    status: "ACTIVE",
    progress: 100,
    minDisk: 10,
    minRam: 512,
    metadata: { image_type: "base" },
    links: [],
  };
}

/**
 * An in-memory image list of `size` images, cut into pages by the request's
 * limit and marker as Nova does. It records every page request.
 */
class RecordingLister implements ImageLister {
  readonly requests: PageRequest[] = [];
  readonly ids: string[];

  constructor(
    size: number,
    private readonly answer?: (
      page: PageRequest,
      number: number,
    ) => Promise<ImagesPage> | undefined,
  ) {
    this.ids = Array.from({ length: size }, (_, index) => imageId(index + 1));
  }

  listImages(
    _token: string,
    page: PageRequest,
    _call: unknown,
  ): Promise<ImagesPage> {
    this.requests.push(page);
    const custom = this.answer?.(page, this.requests.length);
    if (custom !== undefined) return custom;

    const start = page.marker === null ? 0 : this.ids.indexOf(page.marker) + 1;
    const slice = this.ids.slice(start, start + page.limit);
    const last = slice[slice.length - 1];
    const more = start + slice.length < this.ids.length;
    return Promise.resolve({
      images: slice.map((id) => ({ id, body: listedBody(id) })),
      nextMarker: more && last !== undefined ? last : null,
      requestId: null,
    });
  }
}

function strategyWith(
  lister: ImageLister,
  overrides: Partial<ListStrategy> = {},
): ListStrategy {
  return {
    lister,
    threshold: 2,
    pageSize: 10,
    maxPages: 10,
    logger: pino({ level: "silent" }),
    ...overrides,
  };
}

/** Runs the strategy on every id, as the loader does for a batch. */
async function resolveAll(strategy: ListStrategy, ids: readonly string[]) {
  const results = new Array<ImageModel | Error>(ids.length);
  const pending = ids.map((_, index) => index);
  const perId = await resolveFromList(
    strategy,
    ids,
    pending,
    TOKEN,
    CALL,
    results,
  );
  return { results, perId };
}

function nameOf(result: ImageModel | Error | undefined): unknown {
  return result instanceof Error ? result : result?.name;
}

describe("shouldUseList", () => {
  test.each([
    [3, 2, true],
    [2, 2, false],
    [1, 2, false],
    [1000, 0, false],
  ])("%i ids with threshold %i is %s", (ids, threshold, expected) => {
    expect(shouldUseList(ids, threshold)).toBe(expected);
  });
});

describe("resolveFromList decision", () => {
  test("batch at threshold skips the list", async () => {
    const lister = new RecordingLister(20);
    const ids = [imageId(1), imageId(2)];

    const { results, perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toHaveLength(0);
    expect(perId).toEqual([0, 1]);
    expect(results.filter((result) => result !== undefined)).toHaveLength(0);
  });

  test("threshold 0 turns the list off", async () => {
    const lister = new RecordingLister(20);
    const ids = Array.from({ length: 8 }, (_, index) => imageId(index + 1));

    const { perId } = await resolveAll(
      strategyWith(lister, { threshold: 0 }),
      ids,
    );

    expect(lister.requests).toHaveLength(0);
    expect(perId).toHaveLength(8);
  });

  test("case variants count as one id", async () => {
    const lister = new RecordingLister(20);
    const ids = [imageId(1), imageId(1).toUpperCase(), imageId(2)];

    const { perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toHaveLength(0);
    expect(perId).toEqual([0, 1, 2]);
  });

  test("only pending indexes are looked up", async () => {
    const lister = new RecordingLister(20);
    const ids = ["not-a-uuid", imageId(3), imageId(4), imageId(5)];
    const results = new Array<ImageModel | Error>(ids.length);
    const invalid = new ImageError("BAD_USER_INPUT", "Invalid image id.");
    results[0] = invalid;

    const perId = await resolveFromList(
      strategyWith(lister),
      ids,
      [1, 2, 3],
      TOKEN,
      CALL,
      results,
    );

    expect(perId).toEqual([]);
    expect(results[0]).toBe(invalid);
    expect(results.slice(1).map(nameOf)).toEqual([
      `listed ${imageId(3)}`,
      `listed ${imageId(4)}`,
      `listed ${imageId(5)}`,
    ]);
  });
});

describe("resolveFromList paging", () => {
  test("first page holds every id", async () => {
    const lister = new RecordingLister(25);
    const ids = [imageId(2), imageId(5), imageId(9)];

    const { results, perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toEqual([{ limit: 10, marker: null }]);
    expect(perId).toEqual([]);
    expect(results.map(nameOf)).toEqual(ids.map((id) => `listed ${id}`));
  });

  test("markers follow the next links", async () => {
    const lister = new RecordingLister(25);
    const ids = [1, 2, 12, 13, 24, 25].map(imageId);

    const { results, perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toEqual([
      { limit: 10, marker: null },
      { limit: 10, marker: imageId(10) },
      { limit: 10, marker: imageId(20) },
    ]);
    expect(perId).toEqual([]);
    expect(results.map(nameOf)).toEqual(ids.map((id) => `listed ${id}`));
  });

  test("paging stops once all are found", async () => {
    const lister = new RecordingLister(100);
    const ids = [3, 4, 13, 14].map(imageId);

    await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toHaveLength(2);
  });

  test("ids missing from the list go per id", async () => {
    const lister = new RecordingLister(15);
    const missing = "00000000-0000-4000-8000-000000000404";
    const ids = [imageId(1), missing, imageId(2), imageId(3)];

    const { results, perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toHaveLength(2);
    expect(perId).toEqual([1]);
    expect(results[1]).toBeUndefined();
    expect(nameOf(results[0])).toBe(`listed ${imageId(1)}`);
  });

  test("maxPages bounds the paging", async () => {
    // Two ids on each of ten pages.
    const lister = new RecordingLister(100);
    const ids = Array.from({ length: 20 }, (_, index) =>
      imageId(Math.floor(index / 2) * 10 + 5 + (index % 2)),
    );

    const { results, perId } = await resolveAll(
      strategyWith(lister, { maxPages: 3 }),
      ids,
    );

    expect(lister.requests).toHaveLength(3);
    expect(perId).toEqual(Array.from({ length: 14 }, (_, index) => index + 6));
    expect(results.slice(0, 6).map(nameOf)).toEqual(
      ids.slice(0, 6).map((id) => `listed ${id}`),
    );
  });

  test("no page past the per-id cost", async () => {
    // Three ids on the third page: a second page might find nothing, which
    // would make 2 pages + 3 calls, more than 3 calls one by one.
    const lister = new RecordingLister(30);
    const ids = [imageId(21), imageId(22), imageId(23)];

    const { perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toHaveLength(1);
    expect(perId).toEqual([0, 1, 2]);
  });

  test("pages continue while they pay off", async () => {
    // Two ids on each page: every page saves at least one call.
    const lister = new RecordingLister(30);
    const ids = [1, 2, 11, 12, 21, 22].map(imageId);

    const { perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toHaveLength(3);
    expect(perId).toEqual([]);
  });

  test("calls stay within the distinct ids", async () => {
    // One id per page: a second page could only break even.
    const lister = new RecordingLister(50);
    const ids = [1, 11, 21, 31, 41].map(imageId);

    const { perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toHaveLength(1);
    expect(perId).toEqual([1, 2, 3, 4]);
    expect(lister.requests.length + perId.length).toBeLessThanOrEqual(5);
  });

  test("empty page ends the paging", async () => {
    // Nova adds a next link to a full last page, so the second page is empty.
    const firstPage = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(imageId);
    const lister = new RecordingLister(0, (_page, number) =>
      Promise.resolve({
        images:
          number === 1
            ? firstPage.map((id) => ({ id, body: listedBody(id) }))
            : [],
        nextMarker: number === 1 ? imageId(10) : imageId(99),
        requestId: null,
      }),
    );
    const ids = [1, 2, 3].map(imageId);
    ids.push("00000000-0000-4000-8000-000000000404");

    const { perId } = await resolveAll(strategyWith(lister), ids);

    expect(lister.requests).toHaveLength(2);
    expect(perId).toEqual([3]);
  });

  test("repeated marker ends the paging", async () => {
    const log = captureLogger("warn");
    const samePage = [1, 2, 3, 4, 5].map(imageId);
    const lister = new RecordingLister(0, () =>
      Promise.resolve({
        images: samePage.map((id) => ({ id, body: listedBody(id) })),
        nextMarker: imageId(5),
        requestId: null,
      }),
    );
    const ids = Array.from({ length: 10 }, (_, index) => imageId(index + 1));

    const { perId } = await resolveAll(
      strategyWith(lister, { logger: log.logger }),
      ids,
    );

    expect(lister.requests).toHaveLength(2);
    expect(perId).toEqual([5, 6, 7, 8, 9]);
    expect(log.lines.join("\n")).toContain("repeated a page marker");
  });
});

describe("resolveFromList results", () => {
  test("requested spelling of the id kept", async () => {
    const lister = new RecordingLister(10);
    const upper = imageId(1).toUpperCase();
    const ids = [upper, imageId(1), imageId(2), imageId(3)];

    const { results, perId } = await resolveAll(strategyWith(lister), ids);

    expect(perId).toEqual([]);
    expect((results[0] as ImageModel).id).toBe(upper);
    expect((results[1] as ImageModel).id).toBe(imageId(1));
  });

  test("snapshot server read from the list", async () => {
    const serverId = "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f";
    const lister = new RecordingLister(0, () =>
      Promise.resolve({
        images: [1, 2, 3].map((index) => ({
          id: imageId(index),
          body: {
            ...listedBody(imageId(index)),
            metadata: { image_type: "snapshot" },
            server: { id: serverId, links: [] },
          },
        })),
        nextMarker: null,
        requestId: null,
      }),
    );

    const { results } = await resolveAll(strategyWith(lister), [
      imageId(1),
      imageId(2),
      imageId(3),
    ]);

    expect((results[0] as ImageModel).server).toEqual({ id: serverId });
    expect((results[0] as ImageModel).type).toBe("SNAPSHOT");
  });
});

describe("resolveFromList failures", () => {
  function failingLister(error: Error, afterPages = 0): RecordingLister {
    return new RecordingLister(30, (_page, number) =>
      number > afterPages ? Promise.reject(error) : undefined,
    );
  }

  const upstream = {
    status: 401,
    fault: null,
    message: "The request you have made requires authentication.",
    requestId: "req-1",
  };

  test("401 fails every id at once", async () => {
    const lister = failingLister(
      new ImageError("UNAUTHENTICATED", "The token was rejected.", {
        upstream,
      }),
    );
    const ids = [imageId(1), imageId(2), imageId(3)];

    const { results, perId } = await resolveAll(strategyWith(lister), ids);

    expect(perId).toEqual([]);
    for (const [index, result] of results.entries()) {
      expect(result).toBeInstanceOf(ImageError);
      const error = result as ImageError;
      expect(error.code).toBe("UNAUTHENTICATED");
      expect(error.message).toBe("The token was rejected.");
      expect(error.extensions.imageId).toBe(ids[index]);
      expect(error.extensions.upstream).toEqual(upstream);
    }
  });

  test("rate limit keeps retryAfter", async () => {
    const lister = failingLister(
      new ImageError("OVER_LIMIT", "Rate limited.", { retryAfter: 30 }),
    );

    const { results, perId } = await resolveAll(strategyWith(lister), [
      imageId(1),
      imageId(2),
      imageId(3),
    ]);

    expect(perId).toEqual([]);
    expect((results[2] as ImageError).code).toBe("OVER_LIMIT");
    expect((results[2] as ImageError).extensions.retryAfter).toBe(30);
  });

  test("500 falls back to per-id calls", async () => {
    const log = captureLogger("warn");
    const lister = failingLister(
      new ImageError("UPSTREAM_ERROR", "The list failed with status 500."),
      1,
    );
    const ids = [imageId(1), imageId(2), imageId(15), imageId(25)];

    const { results, perId } = await resolveAll(
      strategyWith(lister, { logger: log.logger }),
      ids,
    );

    expect(lister.requests).toHaveLength(2);
    expect(perId).toEqual([2, 3]);
    expect(results.slice(0, 2).map(nameOf)).toEqual([
      `listed ${imageId(1)}`,
      `listed ${imageId(2)}`,
    ]);
    const warning = JSON.parse(log.lines[0]!) as Record<string, unknown>;
    expect(warning.msg).toBe(
      "image list failed; fetching the remaining ids one by one",
    );
    expect(warning.code).toBe("UPSTREAM_ERROR");
    expect(warning.pages).toBe(1);
    expect(warning.remaining).toBe(2);
  });

  test("unexpected error falls back and logs", async () => {
    const log = captureLogger("error");
    const lister = failingLister(new TypeError("a bug"));
    const ids = [imageId(1), imageId(2), imageId(3)];

    const { results, perId } = await resolveAll(
      strategyWith(lister, { logger: log.logger }),
      ids,
    );

    expect(perId).toEqual([0, 1, 2]);
    expect(results.filter((result) => result !== undefined)).toHaveLength(0);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain("image list lookup failed unexpectedly");
  });
});

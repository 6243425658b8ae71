import { ConfigError, loadConfig } from "../../src/config";

const BASE_ENV = { IMAGES_API_URL: "http://127.0.0.1:8774/v2/010101" };

describe("loadConfig image list settings", () => {
  it("applies the defaults", () => {
    const config = loadConfig(BASE_ENV);

    expect(config.imageListThreshold).toBe(500);
    expect(config.imageListPageSize).toBe(1000);
    expect(config.imageListMaxPages).toBe(10);
  });

  it("reads the threshold, page size and page count", () => {
    const config = loadConfig({
      ...BASE_ENV,
      IMAGE_LIST_THRESHOLD: "200",
      IMAGE_LIST_PAGE_SIZE: "500",
      IMAGE_LIST_MAX_PAGES: "4",
    });

    expect(config.imageListThreshold).toBe(200);
    expect(config.imageListPageSize).toBe(500);
    expect(config.imageListMaxPages).toBe(4);
  });

  it("turns the strategy off with 0", () => {
    const config = loadConfig({ ...BASE_ENV, IMAGE_LIST_THRESHOLD: "0" });

    expect(config.imageListThreshold).toBe(0);
  });

  it("rejects a negative threshold", () => {
    expect(() =>
      loadConfig({ ...BASE_ENV, IMAGE_LIST_THRESHOLD: "-1" }),
    ).toThrow(
      new ConfigError(
        'IMAGE_LIST_THRESHOLD is invalid: "-1"; expected a whole number from 0 to 100000.',
      ),
    );
  });

  it("rejects a page size of 0", () => {
    expect(() =>
      loadConfig({ ...BASE_ENV, IMAGE_LIST_PAGE_SIZE: "0" }),
    ).toThrow(
      new ConfigError(
        'IMAGE_LIST_PAGE_SIZE is invalid: "0"; expected a whole number from 1 to 10000.',
      ),
    );
  });
});

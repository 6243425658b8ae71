import { request } from "undici";
import type { Dispatcher } from "undici";

/** The fields of a Glance v2 image record that the tests read. */
export interface GlanceImage {
  id: string;
  name: string | null;
  status: string;
  size: number | null;
  min_disk: number;
  min_ram: number;
  created_at: string;
  updated_at: string;
  visibility: string;
  [property: string]: unknown;
}

/**
 * A client of Glance's v2 images API, without authentication, for seeding
 * the images that Nova then serves.
 */
export class GlanceClient {
  constructor(readonly origin: string) {}

  /** Creates a queued image from Glance's create fields and properties. */
  async createImage(fields: Record<string, unknown>): Promise<GlanceImage> {
    return this.json(
      "POST",
      "/v2/images",
      201,
      JSON.stringify(fields),
      "application/json",
    );
  }

  /** Uploads the image data, which makes a queued image active. */
  async upload(id: string, data: Buffer): Promise<void> {
    await this.send(
      "PUT",
      `/v2/images/${id}/file`,
      204,
      data,
      "application/octet-stream",
    );
  }

  async deactivate(id: string): Promise<void> {
    await this.send("POST", `/v2/images/${id}/actions/deactivate`, 204);
  }

  async delete(id: string): Promise<void> {
    await this.send("DELETE", `/v2/images/${id}`, 204);
  }

  async get(id: string): Promise<GlanceImage> {
    return this.json("GET", `/v2/images/${id}`, 200);
  }

  private async json(
    method: Dispatcher.HttpMethod,
    path: string,
    expected: number,
    body?: string,
    contentType?: string,
  ): Promise<GlanceImage> {
    const text = await this.send(method, path, expected, body, contentType);
    return JSON.parse(text) as GlanceImage;
  }

  /** Sends one request and throws unless the status is `expected`. */
  private async send(
    method: Dispatcher.HttpMethod,
    path: string,
    expected: number,
    body?: string | Buffer,
    contentType?: string,
  ): Promise<string> {
    const response = await request(`${this.origin}${path}`, {
      method,
      headers: contentType === undefined ? {} : { "content-type": contentType },
      body,
    });
    const text = await response.body.text();
    if (response.statusCode !== expected) {
      throw new Error(
        `Glance returned ${response.statusCode} to ${method} ${path}, expected ${expected}: ${text.slice(0, 500)}`,
      );
    }
    return text;
  }
}

import type { Dispatcher } from "undici";

/** Raised when an upstream body grows past the configured maximum. */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * Reads an upstream body as UTF-8 text, up to `maxBodyBytes`. A redirect's
 * body is discarded, because redirects are not followed and their content
 * does not matter. The read stops, and the connection is destroyed, as soon
 * as the body passes the maximum.
 *
 * @throws BodyTooLargeError when the body is larger than `maxBodyBytes`.
 */
export async function readBoundedBody(
  response: Dispatcher.ResponseData,
  maxBodyBytes: number,
): Promise<string> {
  const { statusCode, body } = response;
  if (statusCode >= 300 && statusCode < 400) {
    await body.dump();
    return "";
  }

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) {
      body.destroy();
      throw new BodyTooLargeError(
        `the body is larger than ${maxBodyBytes} bytes`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

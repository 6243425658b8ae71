/**
 * Contender 5, the limit: the upstream calls of an operation made directly
 * with undici, without GraphQL. It takes `{"ids": [...]}`, fetches each
 * distinct id once, all at the same time, and returns the parsed images.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";
import { requireEnv, serveRunner } from "../child";

async function main(): Promise<void> {
  const upstream = new URL(requireEnv("BENCH_UPSTREAM_URL"));
  const basePath = upstream.pathname;
  // No connection limit: the limit of the upstream, not of a pool.
  const pool = new Pool(upstream.origin);

  const fetchImage = async (id: string, token: string): Promise<unknown> => {
    const response = await pool.request({
      method: "GET",
      path: `${basePath}/images/${encodeURIComponent(id)}`,
      headers: { "x-auth-token": token, accept: "application/json" },
    });
    const body = await response.body.json();
    return response.statusCode === 200
      ? (body as { image: unknown }).image
      : null;
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const { ids } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        ids: string[];
      };
      const token = String(request.headers["x-auth-token"] ?? "");
      const distinct = [...new Set(ids)];
      Promise.all(distinct.map((id) => fetchImage(id, token))).then(
        (images) => {
          const byId = new Map(distinct.map((id, i) => [id, images[i]]));
          const body = JSON.stringify({
            images: ids.map((id) => byId.get(id)),
          });
          response.writeHead(200, { "content-type": "application/json" });
          response.end(body);
        },
        (error: unknown) => {
          response.writeHead(502, { "content-type": "application/json" });
          response.end(JSON.stringify({ error: String(error) }));
        },
      );
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve()),
  );
  const { port } = server.address() as AddressInfo;

  serveRunner(`http://127.0.0.1:${port}/`, async () => {
    server.closeAllConnections();
    server.close();
    await pool.close();
  });
}

main().catch((error: unknown) => {
  console.error(`The raw upstream contender failed to start: ${String(error)}`);
  process.exit(1);
});

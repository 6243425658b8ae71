import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

import type { FaultTarget } from "./apply-fault";
import { applyFault, sendLogged } from "./apply-fault";
import { handleControl, isControlPath } from "./control";
import { Timers, writeResponse } from "./delivery";
import type { Fault } from "./faults";
import { isFrontFault } from "./faults";
import type { SeedImage } from "./images";
import { Injections } from "./injections";
import type { Microversion, Negotiation } from "./microversion";
import {
  IMAGES_REMOVED_IN,
  MIN_MICROVERSION,
  compareMicroversions,
  negotiateMicroversion,
} from "./microversion";
import type { ResolvedOptions, SimulatorOptions } from "./options";
import { resolveOptions, validateLatency } from "./options";
import { RateLimiter, describeRateLimit } from "./rate-limit";
import type { ReceivedRequest } from "./request-log";
import { now, receivedHeaders } from "./request-log";
import type { PreparedResponse } from "./responses";
import {
  flatNotFound,
  keystoneUnauthorized,
  novaFault,
  novaFaultResponse,
  novaJsonResponse,
  withMicroversion,
} from "./responses";
import type { Route } from "./routes";
import { parseRoute } from "./routes";
import type { LinkBase } from "./views";
import { pageImages, renderImage, renderImageCollection } from "./views";

export type { ReceivedRequest } from "./request-log";

/**
 * Delay in ms before API responses. A function is called with the image id of
 * an image route, or with "" on other paths. A result that is negative or
 * not finite counts as 0.
 */
export type Latency = number | ((imageId: string) => number);

export interface Simulator {
  /** "http://127.0.0.1:PORT" */
  readonly origin: string;
  /** `${origin}/v2/${tenantId}`, the value for IMAGES_API_URL. */
  readonly imagesApiUrl: string;
  /** Every API request in order of receipt. Control API calls are left out. */
  readonly requests: ReceivedRequest[];
  /** GET requests on `/images/{id}`, for one id if given. */
  imageRequests(id?: string): ReceivedRequest[];
  /** Replaces the `latencyMs` option until `reset()`. */
  setLatency(latency: Latency): void;
  /**
   * Applies `fault` to GET `/images/{id}` requests for `imageId` ("*" for
   * all) until `clearFaults()` or until `times` requests have received it.
   * The most recent matching injection wins. Throws on an invalid fault.
   */
  inject(imageId: string, fault: Fault, options?: { times?: number }): void;
  clearFaults(): void;
  /**
   * Clears the request log, the faults, the latency override and the rate
   * limit windows. Images stay as they are.
   */
  reset(): void;
  /** Appends an image, or replaces the image with the same id in place. */
  addImage(image: SeedImage): void;
  removeImage(id: string): void;
  /** Closes the server and destroys every open socket, hung ones included. */
  close(): Promise<void>;
}

type ApiRoute = Exclude<Route, { kind: "unrouted" }>;

/**
 * Builds Nova's response to a version it cannot serve: 406 computeFault with
 * the requested version in the version headers, or 400 badRequest without
 * them for a version that does not parse.
 */
function microversionRejection(
  negotiation: Extract<Negotiation, { ok: false }>,
): PreparedResponse {
  if (negotiation.status === 406 && negotiation.version !== undefined) {
    const rejected = novaFaultResponse(
      { name: "computeFault", status: 406, message: negotiation.message },
      "v2.1",
    );
    return withMicroversion(rejected, negotiation.version);
  }

  const rejected = novaFault("badRequest", "v2.1", negotiation.message);
  const {
    Vary: _vary,
    "OpenStack-API-Version": _version,
    "X-OpenStack-Nova-API-Version": _novaVersion,
    ...headers
  } = rejected.headers;
  return { ...rejected, headers };
}

function formatOrigin(host: string, port: number): string {
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `http://${hostPart}:${port}`;
}

class ImagesApiSimulator implements Simulator {
  origin = "";
  imagesApiUrl = "";

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly connectionIds = new WeakMap<Socket, number>();
  private connectionCount = 0;
  private readonly log: ReceivedRequest[] = [];
  private readonly images = new Map<string, SeedImage>();
  private readonly injections = new Injections();
  private readonly timers = new Timers();
  private readonly rateLimiter: RateLimiter | undefined;
  private latencyOverride: Latency | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ResolvedOptions) {
    for (const image of options.images) {
      this.images.set(image.id, image);
    }
    this.rateLimiter = options.rateLimit && new RateLimiter(options.rateLimit);

    this.server = createServer((request, response) =>
      this.handleRequest(request, response),
    );
    this.server.on("connection", (socket) => this.trackSocket(socket));
  }

  get requests(): ReceivedRequest[] {
    return this.log;
  }

  async listen(): Promise<void> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });

    const address = this.server.address() as AddressInfo;
    this.origin = formatOrigin(host, address.port);
    this.imagesApiUrl = `${this.origin}/v2/${encodeURIComponent(this.options.tenantId)}`;
  }

  imageRequests(id?: string): ReceivedRequest[] {
    return this.log.filter(
      (entry) =>
        entry.method === "GET" &&
        entry.imageId !== undefined &&
        (id === undefined || entry.imageId === id),
    );
  }

  setLatency(latency: Latency): void {
    if (typeof latency !== "function") {
      validateLatency(latency);
    }
    this.latencyOverride = latency;
  }

  inject(imageId: string, fault: Fault, options?: { times?: number }): void {
    this.injections.add(imageId, fault, options?.times);
  }

  clearFaults(): void {
    this.injections.clear();
  }

  reset(): void {
    this.log.length = 0;
    this.injections.clear();
    this.latencyOverride = undefined;
    this.rateLimiter?.reset();
  }

  addImage(image: SeedImage): void {
    if (typeof image.id !== "string" || image.id === "") {
      throw new TypeError("Invalid image: id must be a non-empty string.");
    }
    this.images.set(image.id, structuredClone(image));
  }

  removeImage(id: string): void {
    this.images.delete(id);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.timers.clear();
    const closed = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
    });
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await closed;
  }

  private trackSocket(socket: Socket): void {
    this.connectionCount += 1;
    this.connectionIds.set(socket, this.connectionCount);
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }

  private handleRequest(
    request: IncomingMessage,
    response: ServerResponse,
  ): void {
    this.process(request, response).catch((error: unknown) => {
      // A bug in the simulator: report it on stderr and fail the request.
      const target = `${request.method ?? ""} ${request.url ?? ""}`;
      console.error(
        `Images API simulator failed to respond to ${target}:`,
        error,
      );
      if (!response.headersSent) {
        writeResponse(response, novaFault("computeFault", "v2"));
      } else {
        response.destroy();
      }
    });
  }

  private async process(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    if (isControlPath(request.url ?? "")) {
      await handleControl(request, response, this);
      return;
    }

    const route = parseRoute(request.url ?? "");
    const entry = this.record(request, route);
    await this.timers.sleep(this.latencyFor(route));

    // Everything from here on runs in one tick, so two concurrent requests
    // cannot both use the last count of an injection.
    const imageRoute =
      route.kind === "image" && request.method === "GET" ? route : undefined;
    const injection = imageRoute && this.injections.find(imageRoute.imageId);
    if (imageRoute && injection && isFrontFault(injection.fault)) {
      this.injections.use(injection);
      applyFault(
        this.faultTarget(response, entry, imageRoute),
        injection.fault,
      );
      return;
    }

    const checked = this.check(request, route);
    if ("rejection" in checked) {
      sendLogged(response, entry, checked.rejection);
      return;
    }

    const { route: apiRoute, microversion } = checked;
    if (injection !== undefined) {
      this.injections.use(injection);
      const target = this.faultTarget(response, entry, apiRoute, microversion);
      applyFault(target, injection.fault);
      return;
    }
    sendLogged(response, entry, this.routeResponse(apiRoute, microversion));
  }

  private faultTarget(
    response: ServerResponse,
    entry: ReceivedRequest,
    route: ApiRoute,
    microversion: Microversion = MIN_MICROVERSION,
  ): FaultTarget {
    return {
      response,
      entry,
      version: route.version,
      normalResponse: () => this.routeResponse(route, microversion),
      timers: this.timers,
    };
  }

  private record(request: IncomingMessage, route: Route): ReceivedRequest {
    const entry: ReceivedRequest = {
      method: request.method ?? "",
      path: request.url ?? "",
      headers: receivedHeaders(request),
      receivedAt: now(),
      connection: this.connectionIds.get(request.socket) ?? 0,
    };
    if (route.kind === "image") {
      entry.imageId = route.imageId;
    }

    this.log.push(entry);
    return entry;
  }

  private latencyFor(route: Route): number {
    const latency = this.latencyOverride ?? this.options.latencyMs;
    const delay =
      typeof latency === "function"
        ? latency(route.kind === "image" ? route.imageId : "")
        : latency;
    return Number.isFinite(delay) && delay > 0 ? delay : 0;
  }

  /**
   * Applies the checks in the order of Nova's pipeline: the authentication
   * middleware (401), the router (flat 404), microversion negotiation on
   * /v2.1 (400, 406), then 405, Nova's project id check (400), the rate
   * limiter (413) and the removal of the image API in microversion 2.36
   * (404). Injected faults of the API come after all of these. Front faults
   * (reset, hang, html, redirect) model the network and proxies, so they
   * apply before the token check.
   */
  private check(
    request: IncomingMessage,
    route: Route,
  ):
    | { rejection: PreparedResponse }
    | { route: ApiRoute; microversion: Microversion } {
    if (route.kind === "unrouted" && route.version === undefined) {
      return { rejection: flatNotFound() };
    }

    const tokenHeader = request.headers["x-auth-token"];
    const token = typeof tokenHeader === "string" ? tokenHeader : "";
    const tokenTenant = this.options.tokens.get(token);
    if (tokenTenant === undefined) {
      return { rejection: keystoneUnauthorized(`${this.origin}/identity`) };
    }

    if (route.kind === "unrouted") {
      return { rejection: flatNotFound(route.version) };
    }

    const negotiation =
      route.version === "v2.1"
        ? negotiateMicroversion(request.headers)
        : ({ ok: true, version: MIN_MICROVERSION } as const);
    if (!negotiation.ok) {
      return { rejection: microversionRejection(negotiation) };
    }

    const microversion = negotiation.version;
    const rejection = this.checkRoute(request, route, token, tokenTenant);
    if (rejection !== undefined) {
      return { rejection: withMicroversion(rejection, microversion) };
    }
    if (compareMicroversions(microversion, IMAGES_REMOVED_IN) >= 0) {
      const removed = novaFault(
        "itemNotFound",
        route.version,
        "The resource could not be found.",
      );
      return { rejection: withMicroversion(removed, microversion) };
    }
    return { route, microversion };
  }

  /** The checks after negotiation: method, project id and rate limit. */
  private checkRoute(
    request: IncomingMessage,
    route: ApiRoute,
    token: string,
    tokenTenant: string,
  ): PreparedResponse | undefined {
    if (request.method !== "GET") {
      return this.methodNotAllowed(request, route);
    }
    if (tokenTenant !== route.tenantId) {
      const message = `Malformed request URL: URL's project_id '${route.tenantId}' doesn't match Context's project_id '${tokenTenant}'`;
      return novaFault("badRequest", route.version, message);
    }
    return this.checkRateLimit(token, route);
  }

  private methodNotAllowed(
    request: IncomingMessage,
    route: ApiRoute,
  ): PreparedResponse {
    const message = `The method ${request.method ?? ""} is not allowed for this resource.`;
    return novaFaultResponse({ name: "badMethod", message }, route.version, {
      Allow: "GET",
    });
  }

  private checkRateLimit(
    token: string,
    route: ApiRoute,
  ): PreparedResponse | undefined {
    const retryAfterSeconds = this.rateLimiter?.take(token, Date.now());
    if (this.rateLimiter === undefined || retryAfterSeconds === undefined) {
      return undefined;
    }

    const details = describeRateLimit(this.rateLimiter.limit);
    return novaFaultResponse(
      { name: "overLimit", details, retryAfterSeconds },
      route.version,
    );
  }

  private routeResponse(
    route: ApiRoute,
    microversion: Microversion,
  ): PreparedResponse {
    return withMicroversion(this.renderRoute(route), microversion);
  }

  private renderRoute(route: ApiRoute): PreparedResponse {
    const base: LinkBase = {
      origin: this.origin,
      version: route.version,
      tenantId: route.tenantId,
    };
    if (this.options.imageServiceUrl !== undefined) {
      base.imageServiceUrl = this.options.imageServiceUrl;
    }

    if (route.kind === "image") {
      const image = this.images.get(route.imageId);
      if (image === undefined) {
        return novaFault("itemNotFound", route.version);
      }
      return novaJsonResponse(
        200,
        { image: renderImage(image, base) },
        route.version,
      );
    }

    const page = pageImages([...this.images.values()], route.query);
    if (!page.ok) {
      return novaFault("badRequest", route.version, page.message);
    }
    const body = renderImageCollection(page, base, route.kind === "detail");
    return novaJsonResponse(200, body, route.version);
  }
}

/**
 * Starts the images API simulator on loopback and resolves once it listens.
 * It writes nothing to stdout. Rejects on an invalid option or when the
 * port cannot be bound.
 */
export async function startSimulator(
  options: SimulatorOptions = {},
): Promise<Simulator> {
  const simulator = new ImagesApiSimulator(resolveOptions(options));
  await simulator.listen();
  return simulator;
}

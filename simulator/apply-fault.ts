import type { ServerResponse } from "node:http";

import type { Timers } from "./delivery";
import {
  resetConnection,
  sendSlowly,
  sendThenClose,
  sendThenDestroy,
  writeResponse,
} from "./delivery";
import type { Fault } from "./faults";
import type { ReceivedRequest } from "./request-log";
import { markDestroyed, markResponse } from "./request-log";
import type { PreparedResponse } from "./responses";
import {
  htmlPage,
  novaFaultResponse,
  redirectResponse,
  replayResponse,
  truncatedJson,
} from "./responses";
import type { ApiVersion } from "./views";

/** The request that a fault applies to, with its log entry. */
export interface FaultTarget {
  response: ServerResponse;
  entry: ReceivedRequest;
  version: ApiVersion;
  /** Builds the response the request would get without the fault. */
  normalResponse: () => PreparedResponse;
  timers: Timers;
}

/** Writes `prepared` and records its status in the request log. */
export function sendLogged(
  response: ServerResponse,
  entry: ReceivedRequest,
  prepared: PreparedResponse,
): void {
  markResponse(entry, response, prepared.status);
  writeResponse(response, prepared);
}

/** Applies a fault that changes how the normal response is delivered. */
function deliverNormalResponse(target: FaultTarget, fault: Fault): void {
  const { response, entry } = target;
  const prepared = target.normalResponse();

  switch (fault.kind) {
    case "nonAuthoritative": {
      const status = prepared.status === 200 ? 203 : prepared.status;
      return sendLogged(response, entry, { ...prepared, status });
    }
    case "malformedJson":
      return sendLogged(response, entry, truncatedJson(prepared));
    case "resetMidBody":
      markDestroyed(entry);
      return sendThenDestroy(response, prepared);
    case "slowBody":
      markResponse(entry, response, prepared.status);
      return sendSlowly(
        response,
        prepared,
        fault.chunkDelayMs,
        fault.chunks ?? 4,
        target.timers,
      );
    case "closeAfterResponse":
      markResponse(entry, response, prepared.status);
      return sendThenClose(response, prepared, fault.announce);
    default:
      return sendLogged(response, entry, prepared);
  }
}

/** Responds to the request as `fault` prescribes. */
export function applyFault(target: FaultTarget, fault: Fault): void {
  const { response, entry } = target;

  switch (fault.kind) {
    case "reset":
      markDestroyed(entry);
      return resetConnection(response);
    case "hang":
      entry.status = "hang";
      return;
    case "html":
      return sendLogged(response, entry, htmlPage(fault.status));
    case "redirect": {
      const prepared = redirectResponse(fault.status, fault.location);
      return sendLogged(response, entry, prepared);
    }
    case "fault":
      return sendLogged(
        response,
        entry,
        novaFaultResponse(fault, target.version),
      );
    case "replay":
      return sendLogged(response, entry, replayResponse(fault));
    default:
      return deliverNormalResponse(target, fault);
  }
}

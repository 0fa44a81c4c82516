// A local stand-in for the part of GitHub's REST API that the pull-request comment uses, started
// by the test itself on a free port: issue comments listed (per_page, page, and a Link header
// with rel="next" as GitHub sends it), created (201) and updated (200), with the headers GitHub
// checks and sends. Faults are queued per request: a 403 as a read-only GITHUB_TOKEN gets it,
// a 429 with retry-after, or a primary rate limit (403, x-ratelimit-remaining 0 and
// x-ratelimit-reset).

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Comment {
  id: number;
  body: string;
  user: { login: string; type: string };
}

export type Fault =
  | { kind: "forbidden" }
  | { kind: "retry-after"; seconds: number; status: 403 | 429 }
  | { kind: "reset"; seconds: number };

export interface Seen {
  method: string;
  path: string;
  authorization?: string;
  apiVersion?: string;
  accept?: string;
  userAgent?: string;
}

export interface GitHubStandIn {
  url: string;
  /** Comments per "owner/repo#number". */
  comments: Map<string, Comment[]>;
  requests: Seen[];
  /** Faults answered to the next requests, in order (each used once). */
  faults: Fault[];
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startGitHub(token: string): Promise<GitHubStandIn> {
  let nextId = 1000;
  const state = {
    comments: new Map<string, Comment[]>(),
    requests: [] as Seen[],
    faults: [] as Fault[],
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    state.requests.push({
      method: req.method ?? "",
      path: url.pathname + url.search,
      authorization: req.headers.authorization,
      apiVersion: req.headers["x-github-api-version"] as string | undefined,
      accept: req.headers.accept,
      userAgent: req.headers["user-agent"],
    });
    const reset = Math.floor(Date.now() / 1000) + 3600;
    const limits = {
      "x-ratelimit-limit": "1000",
      "x-ratelimit-remaining": "999",
      "x-ratelimit-reset": String(reset),
      "x-ratelimit-resource": "core",
    };
    // GitHub answers a request without a User-Agent with 403.
    if (!req.headers["user-agent"]) {
      return json(res, 403, { message: "Request forbidden by administrative rules." });
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      return json(res, 401, {
        message: "Bad credentials",
        documentation_url: "https://docs.github.com/rest",
      });
    }
    const fault = state.faults.shift();
    if (fault?.kind === "forbidden") {
      return json(res, 403, {
        message: "Resource not accessible by integration",
        documentation_url: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        status: "403",
      }, limits);
    }
    if (fault?.kind === "retry-after") {
      return json(res, fault.status, {
        message:
          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        documentation_url:
          "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
      }, { ...limits, "retry-after": String(fault.seconds) });
    }
    if (fault?.kind === "reset") {
      return json(res, 403, {
        message: "API rate limit exceeded for installation.",
        documentation_url:
          "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
      }, {
        ...limits,
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + fault.seconds),
      });
    }

    const list = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/);
    const one = url.pathname.match(/^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/);
    if (list && req.method === "GET") {
      const all = state.comments.get(`${list[1]}#${list[2]}`) ?? [];
      const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
      const page = Number(url.searchParams.get("page") ?? 1);
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const headers: Record<string, string> = { ...limits };
      const at = (p: number) => {
        const u = new URL(url.pathname, `http://${req.headers.host}`);
        u.searchParams.set("per_page", String(perPage));
        u.searchParams.set("page", String(p));
        return u.toString();
      };
      if (page < last) headers.link = `<${at(page + 1)}>; rel="next", <${at(last)}>; rel="last"`;
      return json(res, 200, all.slice((page - 1) * perPage, page * perPage), headers);
    }
    if (list && req.method === "POST") {
      const { body } = JSON.parse(await readBody(req));
      if (typeof body !== "string" || body.length > 65536) {
        return json(res, 422, { message: "Validation Failed" });
      }
      const key = `${list[1]}#${list[2]}`;
      const c: Comment = {
        id: nextId++,
        body,
        user: { login: "github-actions[bot]", type: "Bot" },
      };
      state.comments.set(key, [...(state.comments.get(key) ?? []), c]);
      return json(res, 201, c, { ...limits, location: `${url.pathname}/${c.id}` });
    }
    if (one && req.method === "PATCH") {
      const { body } = JSON.parse(await readBody(req));
      for (const comments of state.comments.values()) {
        const c = comments.find((x) => x.id === Number(one[2]));
        if (c) {
          c.body = body;
          return json(res, 200, c, limits);
        }
      }
      return json(res, 404, { message: "Not Found" });
    }
    json(res, 404, { message: "Not Found" });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...state,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

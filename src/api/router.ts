import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The API version the request runs as. */
  version: string;
  params: string[];
  query: URLSearchParams;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  /** The pattern as added: what the metrics name the route by (bounded, unlike raw URLs). */
  source: string;
  pattern: RegExp;
  handler: Handler;
}

/**
 * A small method + pattern router. Patterns match the decoded path without its version prefix;
 * capture groups become `params`. `(.+)` is greedy, as Docker's `{name:.*}` routes are.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, source: pattern, pattern: new RegExp(`^${pattern}$`), handler });
    return this;
  }

  match(method: string, path: string): { handler: Handler; params: string[]; pattern: string } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (m) return { handler: route.handler, params: m.slice(1), pattern: route.source };
    }
    return undefined;
  }
}

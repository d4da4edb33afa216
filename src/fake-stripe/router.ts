import type { Account } from './account.js';
import type { Params } from './params.js';

export interface RequestContext {
  account: Account;
  /** The body (POST) or the query string (GET/DELETE), parsed. */
  params: Params;
  pathParams: Record<string, string>;
  method: string;
  path: string;
  requestId: string;
  idempotencyKey: string | null;
}

export interface HandlerResult {
  status?: number;
  body: unknown;
}

export type Handler = (ctx: RequestContext) => HandlerResult;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

/** A minimal method + path matcher: `/v1/customers/:id` segments match one path segment each. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, template: string, handler: Handler): this {
    const names: string[] = [];
    const source = template
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  match(method: string, path: string): { handler: Handler; pathParams: Record<string, string> } | null {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (m === null) continue;
      const pathParams: Record<string, string> = {};
      route.names.forEach((name, i) => {
        pathParams[name] = decodeURIComponent(m[i + 1] ?? '');
      });
      return { handler: route.handler, pathParams };
    }
    return null;
  }
}

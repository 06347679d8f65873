/**
 * What differs between `@nestjs/platform-express` and
 * `@nestjs/platform-fastify` for the auth kit, in one place. Neither is
 * imported: the kit works on the objects Nest hands to guards and handlers.
 *
 * - Requests: an Express `Request` (a Node `IncomingMessage`) and a
 *   `FastifyRequest` both have `headers`, the incoming headers in lower case.
 * - Responses: an Express `Response` is a Node `ServerResponse`, which appends
 *   a header with `appendHeader` (so two `Set-Cookie` stay two). A
 *   `FastifyReply` is not: its headers go through `reply.header`, which
 *   appends `set-cookie` values and replaces others; Fastify writes them with
 *   the reply (writing on `reply.raw` would bypass its serializers and hooks).
 */

/** A request as either adapter passes it. */
export interface HttpRequest {
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}

/** A response as either adapter passes it: a Node/Express response or a Fastify reply. */
export type HttpResponse = object;

interface NodeResponse {
  appendHeader(name: string, value: string): unknown;
}

interface FastifyReplyHeaders {
  header(name: string, value: string): unknown;
}

/** Adds a response header, keeping earlier values of the same name (each `Set-Cookie` is a header of its own). */
export function appendHeader(response: HttpResponse, name: string, value: string): void {
  if (typeof (response as Partial<NodeResponse>).appendHeader === 'function') {
    (response as NodeResponse).appendHeader(name, value);
  } else if (typeof (response as Partial<FastifyReplyHeaders>).header === 'function') {
    (response as FastifyReplyHeaders).header(name, value);
  } else {
    throw new TypeError('nest-cluster-cache: this response has neither appendHeader (Node, Express) nor header (Fastify): pass the response object of @nestjs/platform-express or @nestjs/platform-fastify');
  }
}

/** A request header as one string (the first value of a repeated one), or `undefined`. */
export function headerOf(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

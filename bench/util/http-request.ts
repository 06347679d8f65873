import { type HttpAnswer, httpRequest, type HttpRequestOptions } from '../../test/utils/http-request';

export type Answer = HttpAnswer;

/** One plain HTTP request without keep-alive, for a bench's setup steps (sign-in, health), never for the timed load; 5 s to answer. */
export function request(url: string, options: HttpRequestOptions = {}): Promise<Answer> {
  return httpRequest(url, { timeout: 5_000, ...options });
}

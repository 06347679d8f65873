/** One plain HTTP request without keep-alive, for a bench's setup steps (sign-in, health), never for the timed load. */
import * as http from 'node:http';

export interface Answer {
  status: number;
  /** The `x-served-by` header (which node of a balanced pair answered). */
  servedBy: string | undefined;
  setCookie: string[];
  /** The body as text. */
  text: string;
  /** The body parsed as JSON, or the text when it is not JSON. */
  body: any;
}

export function request(url: string, options: { method?: string; cookie?: string; json?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent: false }, (reply) => {
      let text = '';
      reply.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      reply.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: reply.statusCode ?? 0, servedBy: reply.headers['x-served-by'] as string | undefined, setCookie: reply.headers['set-cookie'] ?? [], text, body: parsed });
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${url}: no answer in 5 s`)));
    req.end(body);
  });
}

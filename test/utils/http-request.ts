import * as http from 'node:http';

/** One HTTP answer, its body parsed when it is JSON. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every Set-Cookie header, as sent. */
  setCookie: string[];
  /** The `x-served-by` header: which node of a balanced pair answered (the demo's and the benches' apps set it). */
  servedBy: string | undefined;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON, or the text when it is not JSON. */
  body: any;
}

/** What a request sends: a JSON or form body, a Cookie header, other headers. */
export interface HttpRequestOptions {
  method?: string;
  cookie?: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Fail when no answer comes within this many ms (default: wait). */
  timeout?: number;
}

/** An HTTP request on a fresh connection (no keep-alive left behind for Jest to find). */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  } else if (options.form !== undefined) {
    body = new URLSearchParams(options.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, setCookie: res.headers['set-cookie'] ?? [], servedBy: res.headers['x-served-by'] as string | undefined, text, body: parsed });
      });
    });
    req.on('error', reject);
    if (options.timeout !== undefined) req.setTimeout(options.timeout, () => req.destroy(new Error(`${url}: no answer in ${options.timeout} ms`)));
    req.end(body);
  });
}

import DNS = require('dns2');

/** DNS response codes (dns2 has them at run time as `Packet.RCODE`, but its typings omit them). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** An SRV record of {@link TestDnsServer}. */
export interface SrvRecord {
  port: number;
  target: string;
  priority?: number;
  weight?: number;
}

/** The records of one name. */
export interface TestZoneEntry {
  A?: string[];
  AAAA?: string[];
  SRV?: SrvRecord[];
}

/**
 * A real DNS server (dns2, UDP) on 127.0.0.1 for specs: serves the records
 * given with {@link set}, answers NXDOMAIN for other names, and can be made to
 * fail (`failWith('SERVFAIL')`) to test resolver errors.
 */
export class TestDnsServer {
  private readonly zone = new Map<string, TestZoneEntry>();
  private failure: keyof typeof RCODE | undefined;
  /** Questions received, as `TYPE name`. */
  readonly queries: string[] = [];

  private constructor(
    private readonly server: DNS.DnsServer,
    /** `127.0.0.1:port`, for the `servers` option. */
    readonly address: string,
  ) {}

  /** Starts a server on 127.0.0.1 and `port` (default: a free UDP port). */
  static async start(port = 0): Promise<TestDnsServer> {
    let self: TestDnsServer | undefined;
    const server = DNS.createServer({ udp: true, handle: (request, send) => self!.handle(request, send) });
    const addresses = await server.listen({ udp: { port, address: '127.0.0.1' } });
    self = new TestDnsServer(server, `127.0.0.1:${addresses.udp!.port}`);
    return self;
  }

  /** Sets (replaces) the records of `name`. */
  set(name: string, records: TestZoneEntry): void {
    this.zone.set(name.toLowerCase(), records);
  }

  /** Removes every record of `name` (it then answers NXDOMAIN). */
  remove(name: string): void {
    this.zone.delete(name.toLowerCase());
  }

  /** Makes every answer fail with `rcode`, or answer normally again with `undefined`. */
  failWith(rcode: keyof typeof RCODE | undefined): void {
    this.failure = rcode;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private handle(request: DNS.Packet, send: (response: DNS.Packet) => Promise<Buffer>): void {
    const response = DNS.Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    const name = question.name;
    const typeName = (Object.keys(DNS.Packet.TYPE) as (keyof typeof DNS.Packet.TYPE)[]).find((k) => DNS.Packet.TYPE[k] === question.type);
    this.queries.push(`${typeName ?? question.type} ${name}`);
    if (this.failure !== undefined) {
      response.header.rcode = RCODE[this.failure];
      void send(response);
      return;
    }
    const entry = this.zone.get(name.toLowerCase());
    if (entry === undefined) {
      response.header.rcode = RCODE.NXDOMAIN;
      void send(response);
      return;
    }
    const base = { name, class: DNS.Packet.CLASS.IN, ttl: 1 };
    if (question.type === DNS.Packet.TYPE.A) for (const address of entry.A ?? []) response.answers.push({ ...base, type: DNS.Packet.TYPE.A, address } as DNS.Packet.Resource);
    if (question.type === DNS.Packet.TYPE.AAAA) for (const address of entry.AAAA ?? []) response.answers.push({ ...base, type: DNS.Packet.TYPE.AAAA, address } as DNS.Packet.Resource);
    if (question.type === DNS.Packet.TYPE.SRV) {
      for (const r of entry.SRV ?? []) {
        response.answers.push({ ...base, type: DNS.Packet.TYPE.SRV, priority: r.priority ?? 10, weight: r.weight ?? 10, port: r.port, target: r.target } as DNS.Packet.Resource);
      }
    }
    void send(response);
  }
}

import DNS = require('dns2');
import type { Socket } from 'node:net';

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
 * A real DNS server (dns2) on 127.0.0.1 for specs: serves the records given
 * with {@link set}, answers NXDOMAIN for other names, and can be made to fail
 * (`failWith('SERVFAIL')`) to test resolver errors. It answers over UDP and,
 * on the same port, over TCP: an answer too big for a UDP datagram (more than
 * about 30 A records) comes back truncated, and the resolver asks again over TCP.
 */
export class TestDnsServer {
  private readonly zone = new Map<string, TestZoneEntry | (() => TestZoneEntry)>();
  private failure: keyof typeof RCODE | undefined;
  /** Questions received, as `TYPE name` (over TCP too). */
  readonly queries: string[] = [];

  private constructor(
    private readonly udp: DNS.DnsServer,
    private readonly tcp: DNS.TCPServer,
    /** Connections to the TCP server (the resolver keeps them open), ended on close. */
    private readonly connections: Set<Socket>,
    /** `127.0.0.1:port`, for the `servers` option. */
    readonly address: string,
  ) {}

  /** Starts a server on 127.0.0.1 and `port` (default: a port free for both UDP and TCP). */
  static async start(port = 0): Promise<TestDnsServer> {
    let self: TestDnsServer | undefined;
    const handle = (request: DNS.Packet, send: (response: DNS.Packet) => Promise<Buffer>) => self!.handle(request, send);
    for (let attempt = 0; ; attempt++) {
      const udp = DNS.createServer({ udp: true, handle });
      const bound = (await udp.listen({ udp: { port, address: '127.0.0.1' } })).udp!.port;
      const tcp = DNS.createTCPServer(handle);
      const connections = new Set<Socket>();
      tcp.on('connection', (socket: Socket) => connections.add(socket.once('close', () => connections.delete(socket))));
      const error = await new Promise<Error | undefined>((resolve) => {
        tcp.once('error', resolve);
        tcp.listen(bound, '127.0.0.1', () => resolve(undefined));
      });
      if (error === undefined) {
        self = new TestDnsServer(udp, tcp, connections, `127.0.0.1:${bound}`);
        return self;
      }
      await udp.close();
      if (port !== 0 || attempt >= 20) throw error;
    }
  }

  /**
   * Sets (replaces) the records of `name`; a function is asked for them on
   * every query (e.g. fresh addresses each time).
   */
  set(name: string, records: TestZoneEntry | (() => TestZoneEntry)): void {
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

  async close(): Promise<void> {
    const tcpClosed = new Promise((resolve) => this.tcp.close(resolve));
    for (const socket of this.connections) socket.destroy();
    await Promise.all([this.udp.close(), tcpClosed]);
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
    const records = this.zone.get(name.toLowerCase());
    const entry = typeof records === 'function' ? records() : records;
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

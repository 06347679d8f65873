import {
  type AddressInfo,
  connect as netConnect,
  createServer as createNetServer,
  isIP,
  type Server,
  type Socket,
} from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { hostOf, remoteAddress } from '../util/address';
import { LogBackoff } from '../util/log-backoff';
import { LogLimiter } from '../util/log-limiter';
import { FramedSocket } from './framed-socket';
import {
  clientHandshake,
  type HandshakeContext,
  handshakeKeyFor,
  type HandshakeResult,
  serverHandshake,
} from './handshake';
import type { NodeInfo } from './node-info';
import { SocketPeerLink } from './peer-link';
import type { LinkDirection, PeerLink } from './peer-link.interface';
import { resolveTransportOptions } from './resolve-transport-options.util';
import { HANDSHAKE_FAILURE_LOG_FIRST, HANDSHAKE_FAILURE_LOG_MAX, HANDSHAKE_MAX_FRAME_BYTES, REFUSAL_LOG_PERIOD } from './transport.constants';
import { errorCode, errorMessage, isNetworkError, shutdownError, TransportError } from './transport.error';
import type { Transport } from './transport.interface';
import { transportMessages } from './transport.messages';
import type { ResolvedTransportOptions, TransportOptions } from './transport-options.interface';
import type { TransportStats } from './transport-stats.interface';
import { UnauthenticatedConnections } from './unauthenticated-connections';

/**
 * {@link Transport} over TCP, or over TLS with mutual certificate verification when
 * `options.tls` is set.
 *
 * One link per pair of nodes: when two connections to the same peer incarnation are
 * authenticated (both nodes dialled each other at once), both ends keep the same one - the
 * one opened by the node whose name sorts lower, then the one with the lower id - and
 * close the other as `'duplicate'`. A connection from a new incarnation of a linked peer
 * (it restarted, maybe after `kill -9`) replaces the old link, closed as `'replaced'`.
 *
 * Whatever a peer sends - random bytes, oversized or malformed frames, nothing at all - it
 * costs at most its own connection: the socket is closed, a warning logged with its
 * address, and the node keeps serving. What an unauthenticated peer can hold is bounded:
 * connections still authenticating are capped (in total and per address; more are closed
 * at once), each is closed at the handshake timeout (TLS negotiation included), and
 * refusals are logged at most once per {@link REFUSAL_LOG_PERIOD} per kind, the next line
 * saying how many were not. A handshake that keeps failing the same way with one address
 * (a node whose cookie differs, dialled or dialling again every second) is logged less and
 * less often: at once, then after {@link HANDSHAKE_FAILURE_LOG_FIRST} ms, then after doubling
 * waits up to {@link HANDSHAKE_FAILURE_LOG_MAX}.
 * Once linked, every frame is sealed with keys of that connection, so one an attacker
 * splices into the stream closes the link instead of being believed.
 */
export class TcpTransport implements Transport {
  private readonly options: ResolvedTransportOptions;
  private handshake?: Promise<HandshakeContext>;
  private server?: Server;
  /** With `tls`: negotiates TLS on the sockets the (plain) listener admitted; it never listens itself. */
  private tlsServer?: TlsServer;
  /** Every socket this transport opened or accepted and that is not closed yet. */
  private readonly conns = new Set<FramedSocket>();
  /** Accepted TCP sockets, including those a TLS negotiation has not yet turned into a conn. */
  private readonly acceptedSockets = new Set<Socket>();
  private readonly unauthenticated: UnauthenticatedConnections;
  /** Frees the place of an accepted connection once it authenticates, by `address:port`. */
  private readonly admissions = new Map<string, () => void>();
  /**
   * One line per kind of refusal per period: a flood of connections must not flood the log.
   * The clock is read through `Date.now` on each call, so a spec can move it.
   */
  private readonly refusals = new LogLimiter({ lines: 1, window: REFUSAL_LOG_PERIOD }, () => Date.now());
  /** Handshakes that keep failing the same way, by address (dialled) or host (accepted): logged less and less often. */
  private readonly failingHandshakes = new LogBackoff({ first: HANDSHAKE_FAILURE_LOG_FIRST, max: HANDSHAKE_FAILURE_LOG_MAX }, () => Date.now());
  private readonly counters = { refused: { limit: 0, addressLimit: 0, handshake: 0 }, forgedFrames: 0 };
  /** The announced link of each peer, by node name. */
  private readonly linksByName = new Map<string, SocketPeerLink>();
  /** Connects in flight, by `host:port`, so concurrent calls share one connection. */
  private readonly dialing = new Map<string, Promise<PeerLink>>();
  private readonly linkHandlers = new Set<(link: PeerLink) => void>();
  private closing?: Promise<void>;

  constructor(
    readonly self: NodeInfo,
    options: TransportOptions,
  ) {
    this.options = resolveTransportOptions(options);
    this.unauthenticated = new UnauthenticatedConnections(this.options);
  }

  /** Counters of the cluster port: connections authenticating, refused, and links closed for forged frames. */
  stats(): TransportStats {
    const { refused, forgedFrames } = this.counters;
    return { unauthenticated: this.unauthenticated.count, refused: { ...refused }, forgedFrames };
  }

  async listen(): Promise<void> {
    if (this.closing) throw shutdownError();
    if (this.server) throw new Error(`${this.self.name} is already listening`);
    // The cluster key first (scrypt, off the event loop): a node that listens can answer at once.
    await this.handshakeContext();
    if (this.closing) throw shutdownError();
    if (this.server) throw new Error(`${this.self.name} is already listening`);
    const server = this.createServer();
    this.server = server;
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => {
        this.server = undefined; // e.g. EADDRINUSE: listen() may be retried
        reject(error);
      };
      server.once('error', failed);
      server.listen({ host: this.self.host, port: this.self.port }, () => {
        server.off('error', failed);
        server.on('error', (error) =>
          this.options.logger.error(`Listener of ${this.self.name} failed: ${error.message}`),
        );
        this.self.port = (server.address() as AddressInfo).port;
        if (this.closing) server.close(); // close() ran while binding
        this.options.logger.log(`${this.self.name} listening on ${this.self.host}:${this.self.port}`);
        resolve();
      });
    });
  }

  connect(host: string, port: number, timeout = this.options.connectTimeout): Promise<PeerLink> {
    if (this.closing) return Promise.reject(shutdownError());
    const linked = this.links().find((link) => link.peer.host === host && link.peer.port === port);
    if (linked) return Promise.resolve(linked);
    const address = `${host}:${port}`;
    let pending = this.dialing.get(address);
    if (!pending) {
      pending = this.dial(host, port, timeout).finally(() => this.dialing.delete(address));
      this.dialing.set(address, pending);
    }
    return pending;
  }

  links(): PeerLink[] {
    return [...this.linksByName.values()];
  }

  onLink(handler: (link: PeerLink) => void): () => void {
    this.linkHandlers.add(handler);
    return () => this.linkHandlers.delete(handler);
  }

  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  /** What this node brings to every handshake; the key is derived once (scrypt, see cluster-key.ts). */
  private handshakeContext(): Promise<HandshakeContext> {
    return (this.handshake ??= handshakeKeyFor(this.options.cookie, this.options.cluster).then((key) => ({
      self: this.self,
      cluster: this.options.cluster,
      key,
      timeout: this.options.handshakeTimeout,
      frames: this.options.encryptFrames ? 'encrypted' : 'authenticated',
    })));
  }

  /** The listener: plain TCP always, so connections are counted before any TLS work is spent on them. */
  private createServer(): Server {
    const { tls, handshakeTimeout } = this.options;
    if (tls) {
      // Unauthorized certificates are refused in onSecureConnection(), not by Node: Node
      // would destroy the socket before its address could be logged.
      this.tlsServer = createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: false, handshakeTimeout }, (socket) =>
        this.onSecureConnection(socket),
      );
      this.tlsServer.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
        const address = remoteAddress(socket);
        // Node leaves the socket open, even after its handshake timeout: it would hold a descriptor forever.
        socket.destroy();
        this.refuse('tls', transportMessages.refusedTls(address, error.code ?? error.message));
      });
    }
    return createNetServer((socket) => this.onConnection(socket));
  }

  /** Admits an accepted socket under the limits on unauthenticated connections, then starts TLS or the handshake. */
  private onConnection(socket: Socket): void {
    this.acceptedSockets.add(socket);
    socket.once('close', () => this.acceptedSockets.delete(socket));
    if (this.closing) return void socket.destroy();
    const address = remoteAddress(socket);
    const admission = this.unauthenticated.admit(socket.remoteAddress ?? '');
    if (!admission.admitted) {
      socket.destroy();
      if (admission.limit === 'total') this.refuse('limit', transportMessages.tooManyUnauthenticated(address, admission.count));
      else this.refuse('addressLimit', transportMessages.tooManyFromAddress(address, socket.remoteAddress ?? '', admission.count));
      return;
    }
    this.admissions.set(address, admission.release);
    socket.once('close', () => this.release(address));
    if (this.tlsServer) this.tlsServer.emit('connection', socket);
    else this.accept(socket);
  }

  /** Frees the place of the connection from `address` (`host:port`) among the unauthenticated ones. */
  private release(address: string): void {
    this.admissions.get(address)?.();
    this.admissions.delete(address);
  }

  private onSecureConnection(socket: TLSSocket): void {
    if (socket.authorized) return this.accept(socket);
    const address = remoteAddress(socket);
    socket.destroy();
    this.refuse('tls', transportMessages.refusedTls(address, `certificate rejected (${socket.authorizationError})`));
  }

  private accept(socket: Socket): void {
    const conn = this.track(socket, remoteAddress(socket));
    if (this.closing) return conn.destroy();
    this.handshakeContext()
      .then((context) => serverHandshake(conn, context))
      .then(
        (result) => {
          this.release(conn.remoteAddress);
          const host = hostOf(conn.remoteAddress);
          if (this.adopt(conn, result, 'inbound') !== undefined) this.failingHandshakes.forget(host);
        },
        (error) => {
          conn.end(); // graceful, so a `refused` frame still reaches the peer
          // The same host failing the same way again (its cookie differs, and it dials every second): logged less and less often.
          const repeated = { key: hostOf(conn.remoteAddress), kind: errorCode(error) };
          this.refuse('handshake', transportMessages.refusedConnection(conn.remoteAddress, errorMessage(error)), repeated);
        },
      )
      .catch((error: unknown) => {
        conn.destroy();
        this.options.logger.error(transportMessages.acceptFailed(conn.remoteAddress, errorMessage(error)));
      });
  }

  /**
   * Counts and logs (one line per kind and period) a refused incoming connection; quiet while closing.
   * A refusal that `repeats` one of the same host is logged less and less often first.
   */
  private refuse(kind: keyof TransportStats['refused'] | 'tls', message: string, repeats?: { key: string; kind: string }): void {
    this.counters.refused[kind === 'tls' ? 'handshake' : kind]++;
    if (this.closing) return;
    const backedOff = repeats === undefined ? message : this.failingHandshakes.take(repeats.key, repeats.kind, message);
    if (backedOff === undefined) return;
    const line = this.refusals.take(kind, backedOff);
    if (line !== undefined) this.options.logger.warn(line);
  }

  private async dial(host: string, port: number, connectTimeout: number): Promise<PeerLink> {
    const { tls } = this.options;
    const context = await this.handshakeContext();
    if (this.closing) throw shutdownError();
    const address = `${host}:${port}`;
    // Dial from this node's own address, so peers (and firewall rules) see who it is.
    const localAddress = this.localAddress(host);
    const tcp = netConnect({ host, port, localAddress });
    const socket = tls ? tlsConnect({ ...tls, host, port, socket: tcp }) : tcp;
    const conn = this.track(socket, address);
    const timeout = `connecting to ${address} took over ${connectTimeout} ms`;
    const timer = setTimeout(() => conn.destroy(new TransportError('connect-timeout', timeout)), connectTimeout);
    try {
      await conn.whenConnected(tls ? 'secureConnect' : 'connect');
    } catch (error) {
      // A node that is not up yet is no news at start (the caller says what it does next, logs included);
      // a TLS peer whose certificate is refused is a setting to fix, said less and less often.
      if (tls && !this.closing && !isNetworkError(error)) {
        const line = this.failingHandshakes.take(address, 'tls', transportMessages.tlsFailed(address, errorMessage(error)));
        if (line !== undefined) this.options.logger.warn(line);
      }
      if (error instanceof TransportError) throw error;
      throw new TransportError('connect-failed', `cannot connect to ${address}: ${errorMessage(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
    let result: HandshakeResult;
    try {
      result = await clientHandshake(conn, context);
    } catch (error) {
      conn.end(); // graceful, so a `refused` frame still reaches the peer
      if (!this.closing) {
        // A peer refused for a setting (a cookie that differs) is dialled again and again: say so less and less often.
        const code = errorCode(error);
        const line = this.failingHandshakes.take(address, code, transportMessages.handshakeFailed(address, errorMessage(error), code));
        if (line !== undefined) this.options.logger.warn(line);
      }
      throw error;
    }
    const link = this.adopt(conn, result, 'outbound');
    if (link) {
      this.failingHandshakes.forget(address);
      return link;
    }
    throw this.closing
      ? shutdownError()
      : new TransportError('connection-closed', `${address} closed the connection`);
  }

  private track(socket: Socket, address: string): FramedSocket {
    const conn = new FramedSocket(socket, address, HANDSHAKE_MAX_FRAME_BYTES, this.options.closeTimeout);
    this.conns.add(conn);
    conn.onClose(() => this.conns.delete(conn));
    return conn;
  }

  /**
   * Turns an authenticated connection into the link to its peer and resolves duplicates.
   * Returns the link that represents the peer afterwards, `undefined` if there is none.
   */
  private adopt(
    conn: FramedSocket,
    result: HandshakeResult,
    direction: LinkDirection,
  ): PeerLink | undefined {
    if (this.closing || !conn.isOpen) {
      conn.destroy();
      return undefined;
    }
    const link = new SocketPeerLink(conn, result, direction, this.options, () => this.counters.forgedFrames++);
    const { name, incarnation } = link.peer;
    const current = this.linksByName.get(name);
    if (current?.peer.incarnation === incarnation && !outranks(link, current)) {
      link.close('duplicate');
      return current;
    }
    this.linksByName.set(name, link);
    link.onClose(() => {
      if (this.linksByName.get(name) === link) this.linksByName.delete(name);
    });
    this.options.logger.log(transportMessages.linked(name, conn.remoteAddress, direction));
    for (const handler of this.linkHandlers) {
      try {
        handler(link);
      } catch (error) {
        this.options.logger.error(`Link handler threw: ${errorMessage(error)}`);
      }
    }
    // The old link closes after its successor is announced, so listeners never see a peer without a link.
    if (current && current.peer.incarnation !== incarnation) {
      this.options.logger.log(transportMessages.restarted(name, current.peer.incarnation, incarnation));
      current.close('replaced');
    } else {
      current?.close('duplicate');
    }
    link.start(); // after the handlers, so they miss none of its messages
    return link;
  }

  /** The address to dial `host` from: this node's host, unless it is a wildcard or of the other IP family. */
  private localAddress(host: string): string | undefined {
    const own = this.self.host;
    const family = isIP(own);
    if (family === 0 || own === '0.0.0.0' || own === '::' || family !== isIP(host)) return undefined;
    return own;
  }

  private async shutdown(): Promise<void> {
    for (const link of [...this.linksByName.values()]) link.close('shutdown');
    for (const conn of this.conns) {
      if (conn.isOpen) conn.destroy(shutdownError()); // connecting or authenticating
    }
    const server = this.server;
    const serverClosed = server && new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...this.conns].map((conn) => conn.closed));
    for (const socket of this.acceptedSockets) socket.destroy(); // TLS negotiations still pending
    await serverClosed;
  }
}

/** Whether connection `a` is kept over `b`; both ends of a pair of nodes decide alike. */
function outranks(a: SocketPeerLink, b: SocketPeerLink): boolean {
  if (a.initiator !== b.initiator) return a.initiator < b.initiator;
  return a.id < b.id;
}

import { TRANSPORT_DEFAULTS } from './transport.constants';
import type {
  ResolvedTransportOptions,
  TransportOptions,
} from './transport-options.interface';

/** Applies {@link TRANSPORT_DEFAULTS} to the options left out. */
export function resolveTransportOptions(options: TransportOptions): ResolvedTransportOptions {
  const defaults = TRANSPORT_DEFAULTS;
  return {
    cluster: options.cluster,
    cookie: options.cookie,
    maxFrameBytes: options.maxFrameBytes ?? defaults.maxFrameBytes,
    heartbeatInterval: options.heartbeatInterval ?? defaults.heartbeatInterval,
    deadPeerTimeout: options.deadPeerTimeout ?? defaults.deadPeerTimeout,
    handshakeTimeout: options.handshakeTimeout ?? defaults.handshakeTimeout,
    connectTimeout: options.connectTimeout ?? defaults.connectTimeout,
    closeTimeout: options.closeTimeout ?? defaults.closeTimeout,
    tls: options.tls,
    encryptFrames: options.encryptFrames ?? defaults.encryptFrames,
    maxUnauthenticated: options.maxUnauthenticated ?? defaults.maxUnauthenticated,
    maxUnauthenticatedPerAddress: options.maxUnauthenticatedPerAddress ?? defaults.maxUnauthenticatedPerAddress,
    logger: options.logger ?? console,
  };
}

export { InMemoryNetwork, InMemoryTransport } from './in-memory.transport';
export { createNodeInfo, type NodeInfo } from './node-info';
export type {
  AckHandler,
  LinkCloseHandler,
  LinkCloseReason,
  LinkDirection,
  MessageHandler,
  PeerLink,
} from './peer-link.interface';
export { TcpTransport } from './tcp.transport';
export { TRANSPORT_DEFAULTS } from './transport.constants';
export { TransportError, type TransportErrorCode } from './transport.error';
export type { Transport } from './transport.interface';
export type { TransportLogger } from './transport-logger.interface';
export type { TransportOptions, TransportTlsOptions } from './transport-options.interface';
export type { TransportStats } from './transport-stats.interface';

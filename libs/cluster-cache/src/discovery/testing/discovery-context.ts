import { CaptureLogger } from '../../transport/testing/capture-logger';
import { createNodeInfo } from '../../transport/node-info';
import type { DiscoveryContext } from '../discovery-strategy.interface';

/** A {@link DiscoveryContext} for strategy specs: keeps what the strategy reports and logs. */
export interface RecordingContext extends DiscoveryContext {
  readonly logger: CaptureLogger;
  /** Every `found()` call, in order. */
  readonly reports: string[][];
  /** Every address reported so far. */
  readonly addresses: Set<string>;
}

/** Makes a {@link RecordingContext} for node `name@host` listening on `port`. */
export function recordingContext(options: { name?: string; host?: string; port: number; cluster?: string; cookie?: string }): RecordingContext {
  const host = options.host ?? '127.0.0.1';
  const reports: string[][] = [];
  const addresses = new Set<string>();
  return {
    self: createNodeInfo(options.name ?? `n${options.port}@${host}`, host, options.port),
    cluster: options.cluster ?? 'spec-cluster',
    cookie: options.cookie ?? 'spec-cookie-0123456789',
    logger: new CaptureLogger(),
    reports,
    addresses,
    found(found: readonly string[]) {
      reports.push([...found]);
      for (const a of found) addresses.add(a);
    },
  };
}

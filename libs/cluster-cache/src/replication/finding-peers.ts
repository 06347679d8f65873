import type { LoggerService } from '@nestjs/common';
import type { DiscoveryContext, DiscoveryStrategy } from '../discovery/discovery-strategy.interface';
import { errorMessage, TransportError } from '../transport/transport.error';
import { handshakeHint } from '../transport/transport.messages';
import { isAddress } from '../util/address';

/** The seed addresses (`extraNodes`, static discovery); ones that are not `host:port`, or a failure to get them, are logged and skipped. */
export async function readSeeds(seeds: () => Promise<string[]>, logger: LoggerService): Promise<string[]> {
  try {
    const addresses = await seeds();
    const bad = addresses.filter((s) => !isAddress(s));
    if (bad.length > 0) logger.warn?.(`extraNodes gave addresses that are not "host:port", ignored: ${JSON.stringify(bad)}`);
    return addresses.filter(isAddress);
  } catch (error) {
    logger.error(`resolving the nodes to join failed: ${String(error)}`);
    return [];
  }
}

/** Starts every discovery strategy (one that fails to start is logged) and gives them `grace` ms to report nodes. */
export async function startDiscovery(strategies: readonly DiscoveryStrategy[], context: DiscoveryContext, grace: number, logger: LoggerService): Promise<void> {
  if (strategies.length === 0) return;
  for (const strategy of strategies) {
    try {
      await strategy.start(context);
    } catch (error) {
      logger.error(`discovery strategy ${strategy.constructor.name} failed to start: ${String(error)}`);
    }
  }
  if (grace > 0) await new Promise((resolve) => setTimeout(resolve, grace));
}

/** Whether a failed dial means the node answered but refused this one (a setting that differs), not that no one is there. */
export function isRefusal(error: unknown): error is TransportError {
  return error instanceof TransportError && ['auth-failed', 'wrong-cluster', 'name-conflict', 'protocol-version', 'protocol-error'].includes(error.code);
}

/** A refusal's reason, with what to do about it when the setting is known. */
export function refusalReason(error: TransportError): string {
  const hint = handshakeHint(error.code);
  return hint === undefined ? errorMessage(error) : `${errorMessage(error)}; ${hint}`;
}

/** Resolves true as soon as one of `attempts` resolves, false once all of them failed (or there are none). */
export function anyResolves(attempts: readonly Promise<unknown>[]): Promise<boolean> {
  let failed = 0;
  return new Promise((resolve) => {
    if (attempts.length === 0) resolve(false);
    for (const attempt of attempts) attempt.then(() => resolve(true), () => ++failed === attempts.length && resolve(false));
  });
}

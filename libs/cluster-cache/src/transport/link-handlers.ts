import type { AckHandler, LinkCloseHandler, LinkCloseReason, MessageHandler } from './peer-link.interface';
import { errorMessage } from './transport.error';
import { transportMessages } from './transport.messages';
import type { TransportLogger } from './transport-logger.interface';

/**
 * The handlers registered on one link and its close reason, shared by every
 * link implementation: a handler that throws is logged and the others still run;
 * close handlers run once, and one registered after the close still hears of it.
 */
export class LinkHandlers {
  /** Why the link closed; undefined while it is open. */
  reason: LinkCloseReason | undefined;
  private readonly messages = new Set<MessageHandler>();
  private readonly acks = new Set<AckHandler>();
  private readonly closes = new Set<LinkCloseHandler>();

  constructor(
    private readonly peer: string,
    private readonly logger: TransportLogger,
  ) {}

  onMessage(handler: MessageHandler): () => void {
    this.messages.add(handler);
    return () => this.messages.delete(handler);
  }

  onAck(handler: AckHandler): () => void {
    this.acks.add(handler);
    return () => this.acks.delete(handler);
  }

  onClose(handler: LinkCloseHandler): () => void {
    const reason = this.reason;
    if (reason) {
      queueMicrotask(() => handler(reason));
      return () => undefined;
    }
    this.closes.add(handler);
    return () => this.closes.delete(handler);
  }

  /** Drops every handler without calling any (the process they belong to is gone). */
  forget(): void {
    this.messages.clear();
    this.acks.clear();
    this.closes.clear();
  }

  /** Hands a message to every message handler. */
  deliver(message: unknown): void {
    this.callEach(this.messages, message, 'Message');
  }

  /** Hands an ack's id to every ack handler. */
  deliverAck(id: number): void {
    this.callEach(this.acks, id, 'Ack');
  }

  /** Calls every handler with `value`; one that throws is logged and the rest still run. */
  private callEach<T>(handlers: ReadonlySet<(value: T) => void>, value: T, kind: string): void {
    for (const handler of handlers) {
      try {
        handler(value);
      } catch (error) {
        this.logger.error(transportMessages.handlerThrew(kind, this.peer, errorMessage(error)));
      }
    }
  }

  /**
   * Marks the link closed for `reason`, runs `cleanup`, then the close
   * handlers. Returns false (and does nothing) if it was closed already.
   */
  close(reason: LinkCloseReason, cleanup: () => void): boolean {
    if (this.reason) return false;
    this.reason = reason;
    cleanup();
    const handlers = [...this.closes];
    this.closes.clear();
    this.messages.clear();
    this.acks.clear();
    for (const handler of handlers) {
      try {
        handler(reason);
      } catch (error) {
        this.logger.error(transportMessages.handlerThrew('Close', this.peer, errorMessage(error)));
      }
    }
    return true;
  }
}

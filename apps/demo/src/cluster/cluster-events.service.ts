import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ClusterEvent, ClusterService } from '@app/cluster-cache';

/** A cluster event and when this node saw it. */
export type SeenEvent = ClusterEvent & { at: number };

/** How many recent events are kept. */
export const RECENT_EVENTS = 50;

/**
 * Keeps the most recent cluster events in a small ring buffer for GET /cluster
 * and the page. It subscribes when it is made, before the cache starts, so the
 * node's own `joined` event is seen too.
 */
@Injectable()
export class ClusterEventsService implements OnModuleDestroy {
  private readonly ring: SeenEvent[] = [];
  private next = 0;
  private readonly subscription: Subscription;

  constructor(cluster: ClusterService) {
    this.subscription = cluster.events$.subscribe((event) => this.push({ ...event, at: Date.now() }));
  }

  /** The recent events, newest first. */
  recent(limit = RECENT_EVENTS): SeenEvent[] {
    const ordered = [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return ordered.reverse().slice(0, limit);
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }

  private push(event: SeenEvent): void {
    if (this.ring.length < RECENT_EVENTS) {
      this.ring.push(event);
    } else {
      this.ring[this.next] = event;
      this.next = (this.next + 1) % RECENT_EVENTS;
    }
  }
}

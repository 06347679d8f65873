import { Controller, Get } from '@nestjs/common';
import { ClusterService, NodeInfo } from '@app/cluster-cache';
import { ClusterEventsService } from './cluster-events.service';

/** A node as GET /cluster shows it. */
function member(node: NodeInfo) {
  return { name: node.name, address: `${node.host}:${node.port}`, startedAt: node.startedAt, incarnation: node.incarnation };
}

@Controller('cluster')
export class ClusterController {
  constructor(
    private readonly cluster: ClusterService,
    private readonly events: ClusterEventsService,
  ) {}

  /** This node, its peers, whether it holds the data, recent events and counters. */
  @Get()
  status() {
    return {
      self: member(this.cluster.self()),
      peers: this.cluster.nodes().map(member),
      ready: this.cluster.ready,
      events: this.events.recent(),
      stats: this.cluster.stats(),
    };
  }
}

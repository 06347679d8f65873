import { Controller, Get, UseGuards } from '@nestjs/common';
import { ClusterService, NodeInfo } from '@app/cluster-cache';
import { AdminGuard } from '../security/admin.guard';
import { ClusterEventsService } from './cluster-events.service';

/** A node as GET /cluster shows it. */
function member(node: NodeInfo) {
  return { name: node.name, address: `${node.host}:${node.port}`, startedAt: node.startedAt, incarnation: node.incarnation };
}

/** For the operator: loopback clients, or DEMO_ADMIN_TOKEN (see AdminGuard). */
@Controller('cluster')
@UseGuards(AdminGuard)
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

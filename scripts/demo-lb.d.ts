import type { Server } from 'node:http';

export function createLoadBalancer(options: { backends: string[]; retryAfter?: number; log?: (line: string) => void }): Server;

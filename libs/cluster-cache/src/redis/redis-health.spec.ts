import { clusterStateOf, parseClusterSlots, ProbeResult, reasonOf, SlotCoverage, slotOf, SLOTS } from './redis-health';

describe('slotOf', () => {
  it('computes Redis Cluster key slots (CRC16 of the key or its hash tag)', () => {
    // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    expect(slotOf('123456789')).toBe(12739);
    expect(slotOf('foo')).toBe(12182);
    expect(slotOf('{user1000}.following')).toBe(slotOf('{user1000}.followers'));
    expect(slotOf('{user1000}.following')).toBe(slotOf('user1000'));
    expect(slotOf('foo{}{bar}')).toBe(slotOf(Buffer.from('foo{}{bar}')));
    expect(slotOf('foo{{bar}}zap')).toBe(slotOf('{bar'));
    expect(slotOf(Buffer.from([0x7b, 0x61, 0x7d, 0xff, 0x00]))).toBe(slotOf('a'));
  });
});

describe('SlotCoverage', () => {
  const ranges = [
    { from: 0, to: 5460, master: 'a:1' },
    { from: 5461, to: 10922, master: 'b:1' },
    { from: 10923, to: 16383, master: 'c:1' },
  ];
  const ok: ProbeResult = { ok: true, rtt: 1, skew: 0, clusterState: 'ok' };

  it('counts every slot served when every master answers and is ok', () => {
    const coverage = new SlotCoverage(ranges, ['a:1', 'b:1', 'c:1'], new Map([['a:1', ok], ['b:1', ok], ['c:1', ok]]));
    expect(coverage.served).toBe(SLOTS);
    expect(coverage.uncoveredRanges()).toEqual([]);
    expect(coverage.refusal(0)).toBeUndefined();
    expect(coverage.slotsOf('b:1')).toBe(5462);
  });

  it('names the slots of a master that does not answer, and why', () => {
    const results = new Map<string, ProbeResult>([['a:1', ok], ['b:1', { ok: false, reason: 'no answer within 500 ms' }], ['c:1', ok]]);
    const coverage = new SlotCoverage(ranges, ['a:1', 'b:1', 'c:1'], results);
    expect(coverage.served).toBe(SLOTS - 5462);
    expect(coverage.uncoveredRanges()).toEqual(['5461-10922']);
    expect(coverage.refusal(6000)).toBe('slot 6000 is not served: its master b:1 no answer within 500 ms');
    expect(coverage.refusal(100)).toBeUndefined();
  });

  it('serves nothing while the masters report cluster_state:fail (CLUSTERDOWN)', () => {
    const down: ProbeResult = { ok: true, rtt: 1, skew: 0, clusterState: 'fail' };
    const coverage = new SlotCoverage(ranges, ['a:1', 'b:1', 'c:1'], new Map<string, ProbeResult>([['a:1', { ok: false, reason: 'unreachable' }], ['b:1', down], ['c:1', down]]));
    expect(coverage.served).toBe(0);
    expect(coverage.uncoveredRanges()).toEqual(['0-16383']);
    expect(reasonOf(down)).toContain('CLUSTERDOWN');
  });

  it('counts slots without a master as not served', () => {
    const coverage = new SlotCoverage(ranges.slice(0, 2), ['a:1', 'b:1'], new Map([['a:1', ok], ['b:1', ok]]));
    expect(coverage.uncoveredRanges()).toEqual(['10923-16383']);
    expect(coverage.refusal(16383)).toBe('slot 16383 has no master');
  });
});

describe('Cluster replies', () => {
  it('reads cluster_state from CLUSTER INFO', () => {
    expect(clusterStateOf('cluster_enabled:1\r\ncluster_state:fail\r\ncluster_slots_assigned:16384\r\n')).toBe('fail');
    expect(clusterStateOf('')).toBe('unknown');
  });

  it('reads the masters of CLUSTER SLOTS, an empty host meaning the node asked', () => {
    const reply = [
      [0, 5460, ['10.0.0.1', 7000, 'id1'], ['10.0.0.4', 7000, 'id4']],
      [5461, 16383, ['', 7001, 'id2']],
    ];
    expect(parseClusterSlots(reply, '10.0.0.9:7001')).toEqual([
      { from: 0, to: 5460, master: '10.0.0.1:7000' },
      { from: 5461, to: 16383, master: '10.0.0.9:7001' },
    ]);
    expect(parseClusterSlots('nonsense', 'x:1')).toEqual([]);
  });
});

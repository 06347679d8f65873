import { isLoopback } from './client-address';

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::FFFF:127.9.9.9'])('%s is loopback', (address) => {
    expect(isLoopback(address)).toBe(true);
  });

  it.each(['10.0.0.5', '203.0.113.9', '::2', '1::1', 'fe80::1', '::ffff:10.0.0.5', '128.0.0.1', '', 'localhost', '127.0.0.1, 10.0.0.5'])('%j is not', (address) => {
    expect(isLoopback(address)).toBe(false);
  });
});

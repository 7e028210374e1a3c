import { describe, expect, it } from 'vitest';
import { hostFromFileName } from './parse-lines.js';

describe('hostFromFileName', () => {
  it.each([
    ['node-a.dmon', 'node-a'],
    ['/spool/gpu-node-12.dmesg.log', 'gpu-node-12'],
    ['dmon_node-b.txt', 'node-b'],
    ['kern-rack3-07.example.com.log.gz', 'rack3-07.example.com'],
    ['h100-04_kernel.log', 'h100-04'],
    ['node7-journal.txt', 'node7'],
    ['DMON-node-c.out', 'node-c'],
  ])('%s → %s', (file, host) => expect(hostFromFileName(file)).toBe(host));

  it.each(['dmon.txt', 'dmesg.log', 'a.txt', 'kern.log', 'node_1.dmon', 'capture-2026-01-01.txt', '-'])('%s names no host', (file) =>
    expect(hostFromFileName(file)).toBeNull(),
  );
});

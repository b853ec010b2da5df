import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManagerFlags } from './options.ts';

describe('zcsp manager flags', () => {
  it('has the chart\'s defaults', () => {
    assert.deepEqual(parseManagerFlags([]), {
      httpPort: 8080, workers: 4, logLevel: 'info', leaderElect: true, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000,
    });
  });
  it('returns undefined for --help', () => {
    assert.equal(parseManagerFlags(['--help']), undefined);
  });
  const bad: [string[], RegExp][] = [
    [['--http-port=0'], /--http-port: "0" must be a whole number from 1 to 65535/],
    [['--workers=two'], /--workers: "two"/],
    [['--log-level=loud'], /--log-level: "loud" must be one of trace, debug, info, warn, error/],
    [['--leader-elect=maybe'], /--leader-elect: "maybe" must be true or false/],
    [['--lease-duration=10', '--renew-deadline=10'], /--renew-deadline \(10\) must be less than --lease-duration \(10\)/],
    [['--renew-deadline=5', '--retry-period=5'], /--retry-period \(5\) must be less than --renew-deadline \(5\)/],
    [['--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of bad) {
    it(`refuses ${args.join(' ')}`, () => assert.throws(() => parseManagerFlags(args), message));
  }
});

// Figures as typed on the command line: the forms accepted, and a clear refusal of the rest.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCompression, parseFactor, parseHardLimit, parseHours, parsePercent, parseSize } from './units.ts';
import { SizingError } from './types.ts';

function refuses(parse: () => unknown, message: RegExp): void {
  assert.throws(parse, (err: unknown) => {
    assert.ok(err instanceof SizingError, String(err));
    assert.equal(err.field, '--flag');
    assert.match(err.message, /^--flag: /);
    assert.match(err.problem, message);
    return true;
  });
}

describe('parseSize', () => {
  it('reads decimal and binary units, with or without B, and plain bytes', () => {
    assert.equal(parseSize('--flag', '403TB'), 403_000_000_000_000);
    assert.equal(parseSize('--flag', '403 TB'), 403_000_000_000_000);
    assert.equal(parseSize('--flag', '403T'), 403_000_000_000_000);
    assert.equal(parseSize('--flag', '1.5PB'), 1_500_000_000_000_000);
    assert.equal(parseSize('--flag', '403TiB'), 403 * 2 ** 40);
    assert.equal(parseSize('--flag', '2Ti'), 2 * 2 ** 40);
    assert.equal(parseSize('--flag', '500kB'), 500_000);
    assert.equal(parseSize('--flag', '1024'), 1024);
    assert.equal(parseSize('--flag', '1024B'), 1024);
    assert.equal(parseSize('--flag', '.5GB'), 500_000_000);
  });

  it('is exact: 0.1 TB is 100 000 000 000 bytes, and a fraction of a byte is a byte', () => {
    assert.equal(parseSize('--flag', '0.1TB'), 100_000_000_000);
    assert.equal(parseSize('--flag', '1.0001kB'), 1001);
    assert.equal(parseSize('--flag', '0.5KiB'), 512);
  });

  it('refuses what it cannot read unambiguously', () => {
    refuses(() => parseSize('--flag', '10KB'), /KB is read as 1000 or 1024 bytes; write kB \(1000\) or KiB \(1024\)/);
    refuses(() => parseSize('--flag', '10Tb'), /Tb reads as bits; sizes are in bytes \(write TB\)/);
    refuses(() => parseSize('--flag', '10 tons'), /unknown unit "tons"/);
    refuses(() => parseSize('--flag', '-5TB'), /"-5TB" is not a size/);
    refuses(() => parseSize('--flag', 'lots'), /is not a size \(e\.g\. 403TB/);
    refuses(() => parseSize('--flag', ''), /is not a size/);
  });
});

describe('parsePercent', () => {
  it('reads a percentage with its sign', () => {
    assert.equal(parsePercent('--flag', '10%'), 10);
    assert.equal(parsePercent('--flag', '2.5 %'), 2.5);
  });

  it('refuses a bare number (a fraction, or a percentage?)', () => {
    refuses(() => parsePercent('--flag', '10'), /write the percentage with its sign, e\.g\. 10%/);
    refuses(() => parsePercent('--flag', 'ten%'), /is not a percentage/);
  });
});

describe('parseHours', () => {
  it('reads minutes, hours, days and their sums', () => {
    assert.equal(parseHours('--flag', '24h'), 24);
    assert.equal(parseHours('--flag', '90m'), 1.5);
    assert.equal(parseHours('--flag', '2d'), 48);
    assert.equal(parseHours('--flag', '1d12h'), 36);
    assert.equal(parseHours('--flag', '1.5h'), 1.5);
  });

  it('refuses a number without its unit, and anything else', () => {
    refuses(() => parseHours('--flag', '24'), /give the unit, e\.g\. 24h/);
    refuses(() => parseHours('--flag', '1w'), /is not a span of time/);
    refuses(() => parseHours('--flag', '24h extra'), /is not a span of time/);
  });
});

describe('parseCompression', () => {
  it('reads a ratio of raw to compressed bytes', () => {
    assert.equal(parseCompression('--flag', '2'), 2);
    assert.equal(parseCompression('--flag', '2:1'), 2);
    assert.equal(parseCompression('--flag', '3:2'), 1.5);
    assert.equal(parseCompression('--flag', '1'), 1);
  });

  it('refuses a percentage (saved, or left?) and what is not a ratio', () => {
    refuses(() => parseCompression('--flag', '50%'), /a percentage is ambiguous \(saved, or left\?\)/);
    refuses(() => parseCompression('--flag', '2:0'), /second figure of a ratio must be more than 0/);
    refuses(() => parseCompression('--flag', 'zstd'), /is not a compression ratio/);
  });
});

describe('parseHardLimit', () => {
  it('reads unlimited, a percentage of the protected size, or a size', () => {
    assert.deepEqual(parseHardLimit('--flag', 'unlimited'), { type: 'Unlimited' });
    assert.deepEqual(parseHardLimit('--flag', 'Unlimited'), { type: 'Unlimited' });
    assert.deepEqual(parseHardLimit('--flag', '10%'), { type: 'Percent', percent: 10 });
    assert.deepEqual(parseHardLimit('--flag', '50TB'), { type: 'Size', bytes: 50e12 });
    assert.deepEqual(parseHardLimit('--flag', '150Gi'), { type: 'Size', bytes: 150 * 2 ** 30 });
  });

  it('refuses anything else, saying what it may be', () => {
    refuses(() => parseHardLimit('--flag', 'none'), /"none" is not a hard limit: unlimited, a percentage of the protected size \(e\.g\. 10%\) or a size \(e\.g\. 50TB\)/);
  });
});

describe('parseFactor', () => {
  it('reads a plain number', () => {
    assert.equal(parseFactor('--flag', '1.5'), 1.5);
    refuses(() => parseFactor('--flag', '1.5x'), /is not a number/);
  });
});

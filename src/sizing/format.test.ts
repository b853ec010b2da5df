// Human units: decimal, at most two decimals, rounded up; spans as kubectl shows them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bitsText, bytesText, hoursText, percentText, ratioText, spanText } from './format.ts';

describe('human units', () => {
  it('shows sizes in decimal units, at most two decimals, rounded up', () => {
    assert.equal(bytesText(0), '0 B');
    assert.equal(bytesText(999), '999 B');
    assert.equal(bytesText(403e12), '403 TB');
    assert.equal(bytesText(20_150_000_000_000), '20.15 TB');
    assert.equal(bytesText(40_300_000_000_000), '40.3 TB');
    assert.equal(bytesText(20_150_000_000_001), '20.16 TB');
    assert.equal(bytesText(1_229_150_000_000_000), '1.23 PB');
    // 999.999 GB rounds up past 1000 GB: 1 TB.
    assert.equal(bytesText(999_999_000_000), '1 TB');
    assert.equal(bytesText(2 ** 40), '1.1 TB');
  });

  it('shows bandwidth in bit/s, decimal', () => {
    assert.equal(bitsText(1_865_740_741), '1.87 Gbit/s');
    assert.equal(bitsText(5_333_334), '5.34 Mbit/s');
    assert.equal(bitsText(0), '0 bit/s');
  });

  it('shows spans as kubectl does, rounded down', () => {
    assert.equal(hoursText(24), '1d');
    assert.equal(hoursText(19.2), '19h12m');
    assert.equal(hoursText(48), '2d');
    assert.equal(hoursText(240 / 20.15), '11h54m');
    assert.equal(hoursText(720), '30d');
    assert.equal(spanText(300), '5m');
    assert.equal(spanText(90), '1m30s');
  });

  it('shows percentages and ratios', () => {
    assert.equal(percentText(10.000000000000002), '10%');
    assert.equal(percentText(11.920929), '11.92%');
    assert.equal(ratioText(2), '2:1');
    assert.equal(ratioText(1.5), '1.5:1');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duration, formatDuration, parseDuration } from '../../src/tasks/duration.js';

describe('parseDuration', () => {
  it('reads each unit', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('0ms'), 0);
  });

  it('reads combinations in descending order', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1s500ms'), 1_500);
    assert.equal(parseDuration('5m250ms'), 300_250);
    assert.equal(parseDuration('1d2h3m4s5ms'), 93_784_005);
    assert.equal(parseDuration('1d12h'), 129_600_000);
  });

  it('accepts values beyond the next unit (as Go does)', () => {
    assert.equal(parseDuration('90m'), 5_400_000);
    assert.equal(parseDuration('1h60m'), 7_200_000);
    assert.equal(parseDuration('1500ms'), 1_500);
  });

  it('refuses signs, decimals, bare numbers and empty text', () => {
    for (const text of ['-5s', '+5s', '1.5h', '.5s', '5', '0', '']) assert.equal(parseDuration(text), undefined, text);
  });

  it('refuses units out of order or repeated', () => {
    for (const text of ['1m1h', '1h1h', '30s1m', '5ms1s', '1s1s', '2h1d']) {
      assert.equal(parseDuration(text), undefined, text);
    }
  });

  it('refuses spaces, unknown or upper-case units and a missing number', () => {
    for (const text of [
      '5 m',
      ' 5m',
      '5m ',
      '1h 30m',
      '5M',
      '5S',
      '5sec',
      '5min',
      '1w',
      '1y',
      '5us',
      'm',
      'ms',
      'h5',
    ]) {
      assert.equal(parseDuration(text), undefined, text);
    }
  });
});

describe('formatDuration', () => {
  it('gives the shortest text', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(1), '1ms');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(1_000), '1s');
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(300_000), '5m');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(86_400_000), '1d');
    assert.equal(formatDuration(90_061_001), '1d1h1m1s1ms');
    assert.equal(formatDuration(1_500), '1s500ms');
  });

  it('round-trips through parseDuration', () => {
    const samples = [0, 1, 999, 1_000, 1_001, 59_999, 60_000, 90_000, 3_599_999, 3_600_000, 5_400_000, 86_399_999];
    for (const ms of [...samples, 86_400_000, 93_784_005, 7 * 86_400_000, 365 * 86_400_000 + 1]) {
      assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
    }
    for (const text of ['90s', '1h30m', '250ms', '1d', '1d2h3m4s5ms']) {
      assert.equal(parseDuration(formatDuration(parseDuration(text) ?? NaN)), parseDuration(text), text);
    }
  });

  it('refuses what no duration text can express', () => {
    assert.throws(() => formatDuration(-5), RangeError);
    assert.throws(() => formatDuration(1.5), RangeError);
    assert.throws(() => formatDuration(Number.NaN), RangeError);
    assert.throws(() => formatDuration(Number.POSITIVE_INFINITY), RangeError);
  });
});

describe('duration (zod)', () => {
  const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }): string[] =>
    result.error?.issues.map((issue) => issue.message) ?? [];

  it('keeps the original string', () => {
    assert.deepEqual(duration().safeParse('1h30m'), { success: true, data: '1h30m' });
  });

  it('refuses text that is not a duration', () => {
    assert.deepEqual(messages(duration().safeParse('5 m')), [
      '"5 m" is not a duration; use e.g. "90s", "5m", "1h30m", "250ms"',
    ]);
    assert.equal(duration().safeParse(90).success, false);
  });

  it('refuses zero unless positive is false', () => {
    assert.deepEqual(messages(duration().safeParse('0s')), ['must be greater than zero']);
    assert.equal(duration({ positive: false }).safeParse('0s').success, true);
  });

  it('applies min, naming it as a duration', () => {
    assert.deepEqual(messages(duration({ min: 1_000 }).safeParse('500ms')), ['must be at least 1s']);
    assert.deepEqual(messages(duration({ min: 90_000 }).safeParse('1m')), ['must be at least 1m30s']);
    assert.equal(duration({ min: 1_000 }).safeParse('1s').success, true);
  });

  it('refuses more than 100 years, however the digits are spelled', () => {
    assert.equal(duration().safeParse('36500d').success, true);
    assert.deepEqual(messages(duration().safeParse('36500d1ms')), ['must be at most 36500d']);
    assert.deepEqual(messages(duration().safeParse('99999999999999999999d')), ['must be at most 36500d']);
    assert.deepEqual(messages(duration().safeParse(`${'9'.repeat(400)}s`)), ['must be at most 36500d']);
  });
});

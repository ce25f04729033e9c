import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getTimestamp, goParseTime, goRfc3339Nano, nowRfc3339Nano, parseTimestamps, parseUnixTimestamp, rfc3339Nanos, RFC3339, unixSecondsOf } from './go-time.js';

const S = 1_000_000_000n;

test('goParseTime: values, zones and Go error texts', () => {
  assert.equal(goParseTime(RFC3339, '2024-01-02T03:04:05Z'), 1704164645n * S);
  assert.equal(goParseTime(RFC3339, '2024-01-02T03:04:05+01:00'), 1704161045n * S);
  assert.equal(goParseTime('2006-01-02', '2024-01-02', 3600), 1704153600n * S - 3600n * S);
  assert.equal(goParseTime('2006-01-02T15:04:05.999999999', '2024-01-02T03:04:05.25'), 1704164645n * S + 250_000_000n);
  // A fraction the layout lacks is still read, as Go does.
  assert.equal(goParseTime(RFC3339, '2024-01-02T03:04:05.5Z'), 1704164645n * S + 500_000_000n);
  assert.equal(goParseTime('2006-01-02', '0001-01-01'), -62135596800n * S);
  assert.throws(() => goParseTime('2006-01-02', '2024-13-01'), { message: 'parsing time "2024-13-01": month out of range' });
  assert.throws(() => goParseTime('2006-01-02', '2024-02-30'), { message: 'parsing time "2024-02-30": day out of range' });
  assert.throws(() => goParseTime('2006-01-02', '2024-1-01'), {
    message: 'parsing time "2024-1-01" as "2006-01-02": cannot parse "1-01" as "01"',
  });
  assert.throws(() => goParseTime('2006-01-02', '2024-01-01x'), { message: 'parsing time "2024-01-01x": extra text: "x"' });
  assert.throws(() => goParseTime('2006-01-02', '24-01-01'), {
    message: 'parsing time "24-01-01" as "2006-01-02": cannot parse "24-01-01" as "2006"',
  });
  assert.throws(() => goParseTime(RFC3339, '2024-01-02T03:04:05'), {
    message: 'parsing time "2024-01-02T03:04:05" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"',
  });
  assert.throws(() => goParseTime(RFC3339, '2024-01-02T25:04:05Z'), { message: 'parsing time "2024-01-02T25:04:05Z": hour out of range' });
  assert.throws(() => goParseTime('2006-01-02Z07:00', '2024-01-02é'), {
    message: 'parsing time "2024-01-02\\xc3\\xa9" as "2006-01-02Z07:00": cannot parse "\\xc3\\xa9" as "Z07:00"',
  });
});

test('getTimestamp: durations, times in the daemon zone or their own, Unix timestamps', () => {
  const now = 1_700_000_000n * S + 123n;
  assert.equal(getTimestamp('1h', now, 0), String(1_700_000_000 - 3600));
  assert.equal(getTimestamp('-30m', now, 0), String(1_700_000_000 + 1800));
  assert.equal(getTimestamp('2024-01-02', now, 0), '1704153600.000000000');
  assert.equal(getTimestamp('2024-01-02', now, 7200), '1704146400.000000000');
  assert.equal(getTimestamp('2024-01-02Z', now, 7200), '1704153600.000000000');
  assert.equal(getTimestamp('2024-01-02T03', now, 0), '1704164400.000000000');
  assert.equal(getTimestamp('2024-01-02T03:04', now, 0), '1704164640.000000000');
  assert.equal(getTimestamp('2024-01-02T03:04:05', now, 0), '1704164645.000000000');
  assert.equal(getTimestamp('2024-01-02T03:04:05Z', now, 7200), '1704164645.000000000');
  assert.equal(getTimestamp('2024-01-02T03:04:05.5+01:00', now, 0), '1704161045.500000000');
  assert.equal(getTimestamp('1970-01-01T00:00:00.000000001Z', now, 0), '0.000000001');
  assert.equal(getTimestamp('1969-12-31T23:59:59.5Z', now, 0), '-1.500000000');
  assert.equal(getTimestamp('1700000000', now, 0), '1700000000');
  assert.equal(getTimestamp('1700000000.5', now, 0), '1700000000.5');
  assert.equal(getTimestamp('0', now, 0), '0');
  assert.throws(() => getTimestamp('abc', now, 0), { message: 'failed to parse value as time or duration: "abc"' });
  assert.throws(() => getTimestamp('1.', now, 0), { message: 'failed to parse value as time or duration: "1."' });
  assert.throws(() => getTimestamp('2024-13-01', now, 0), { message: 'parsing time "2024-13-01": month out of range' });
  assert.throws(() => getTimestamp('-5', now, 0), {
    message: 'parsing time "-5" as "2006-01-02": cannot parse "-5" as "2006"',
  });
});

test('parseTimestamps: seconds and a fraction scaled to nanoseconds', () => {
  assert.equal(parseTimestamps('1700000000'), 1_700_000_000n * S);
  assert.equal(parseTimestamps('1700000000.5'), 1_700_000_000n * S + 500_000_000n);
  assert.equal(parseTimestamps('1.000000001'), S + 1n);
  assert.equal(parseTimestamps('', 7n), 7n * S);
});

test('rfc3339Nanos reads configs’ created as Go unmarshals it', () => {
  assert.equal(rfc3339Nanos('2025-05-30T16:20:41.123000000Z'), 1748622041n * S + 123_000_000n);
  assert.equal(rfc3339Nanos('2026-01-01T01:00:00+01:00'), 1767225600n * S);
  assert.equal(rfc3339Nanos('2026-01-01T00:00:00.1234567891Z'), 1767225600n * S + 123_456_789n);
  for (const bad of [undefined, 42, '', '2026-01-01', '2026-01-01t00:00:00Z', '2026-01-01T0:00:00Z', '2026-01-01T00:00:00+24:00', '2026-02-30T00:00:00Z']) {
    assert.equal(rfc3339Nanos(bad), undefined, String(bad));
  }
  assert.equal(unixSecondsOf(-1n), -1);
  assert.equal(unixSecondsOf(1_999_999_999n), 1);
});

test('parseUnixTimestamp (Docker 29): "" is no time, fractions cut or padded to 9 digits, Docker 29\'s texts', () => {
  assert.equal(parseUnixTimestamp(''), undefined);
  assert.equal(parseUnixTimestamp('-1'), -1_000_000_000n);
  assert.equal(parseUnixTimestamp('12.5'), 12_500_000_000n);
  assert.equal(parseUnixTimestamp('12.'), 12_000_000_000n);
  assert.equal(parseUnixTimestamp('1.1234567891234'), 1_123_456_789n);
  assert.throws(() => parseUnixTimestamp('yesterday'), { message: 'invalid timestamp "yesterday": invalid seconds "yesterday": invalid syntax' });
  assert.throws(() => parseUnixTimestamp('99999999999999999999'), {
    message: 'invalid timestamp "99999999999999999999": invalid seconds "99999999999999999999": value out of range',
  });
  assert.throws(() => parseUnixTimestamp('1.-5'), { message: 'invalid timestamp "1.-5": invalid nanoseconds: invalid character \'-\' at position 0' });
  assert.throws(() => parseUnixTimestamp('1.' + '0'.repeat(21)), { message: `invalid timestamp "1.${'0'.repeat(21)}": invalid nanoseconds: length 21 exceeds maximum 20` });
});

test('reformats timestamps as Go RFC3339Nano', () => {
  assert.equal(goRfc3339Nano('2026-01-01T00:00:00Z'), '2026-01-01T00:00:00Z');
  assert.equal(goRfc3339Nano('2025-05-30T16:20:41.123000000Z'), '2025-05-30T16:20:41.123Z');
  assert.equal(goRfc3339Nano('2025-05-30T16:20:41.000Z'), '2025-05-30T16:20:41Z');
  assert.equal(goRfc3339Nano('2025-05-30T18:20:41.5+02:00'), '2025-05-30T18:20:41.5+02:00');
  assert.equal(goRfc3339Nano('2025-05-30T16:20:41+00:00'), '2025-05-30T16:20:41Z');
  assert.equal(goRfc3339Nano('yesterday'), undefined);
  assert.equal(goRfc3339Nano(undefined), undefined);
});

test('now is UTC, nanosecond-precise and increasing', () => {
  const a = nowRfc3339Nano();
  const b = nowRfc3339Nano();
  assert.match(a, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
  assert.notEqual(a, b);
  assert.ok(Math.abs(Date.parse(a) - Date.now()) < 5000);
});

// RFC 3339 date-times (§5.6): the one check of them, with every field in range
// (a 30 February, a 25th hour or an offset of +24:00 are not times), and their
// instant in milliseconds. `T` and `Z` may be lower case (§5.6, note); a leap
// second (`:60`, §5.7) is valid and counts as :59.999, since a JavaScript time
// cannot hold it. Used for the times a user gives (asOf, updatedSince, diff
// ranges, `replay --as-of`) and the ones the provenance predicates carry.

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

const LEAP_SECOND = /:60(?:\.\d+)?(?=[Zz+-])/;

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/** Whether `value` is an RFC 3339 date-time with a time zone, with every field in range. */
export function isRfc3339(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (m === null) return false;
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = m
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  return (
    month !== undefined &&
    month >= 1 &&
    month <= 12 &&
    day !== undefined &&
    day >= 1 &&
    day <= daysInMonth(year ?? 0, month) &&
    (hour ?? 99) <= 23 &&
    (minute ?? 99) <= 59 &&
    (second ?? 99) <= 60 && // leap second (RFC 3339 §5.7)
    (offsetHour ?? 99) <= 23 &&
    (offsetMinute ?? 99) <= 59
  );
}

/**
 * The instant of an RFC 3339 date-time in milliseconds since the epoch (a leap
 * second as :59.999), or undefined when `value` is not one.
 */
export function rfc3339Millis(value: string): number | undefined {
  if (!isRfc3339(value)) return undefined;
  const ms = Date.parse(value.replace(LEAP_SECOND, ':59.999'));
  return Number.isNaN(ms) ? undefined : ms;
}

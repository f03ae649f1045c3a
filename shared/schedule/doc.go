// Package schedule evaluates 5-field cron expressions in an IANA time zone and
// decides, for the timer, which fire to publish. Everything here is a pure
// function of its inputs: no clock, no goroutines, no state.
//
// # Expressions
//
// Five fields, as Xen Orchestra and Vixie cron use them:
//
//	minute (0-59)  hour (0-23)  day-of-month (1-31)  month (1-12, JAN-DEC)  day-of-week (0-7, SUN-SAT; 0 and 7 are Sunday)
//
// Each field is "*", a value, a range "a-b", a step "*/n", "a-b/n" or "a/n"
// (a to the field's maximum), or a comma-separated list of those. Names are
// case-insensitive. The shortcuts @yearly, @annually, @monthly, @weekly,
// @daily, @midnight and @hourly are accepted. When both day-of-month and
// day-of-week are restricted (neither starts with "*"), a day matches when
// EITHER matches (the classic cron rule); otherwise both must match.
// Expressions that can never fire (day-of-month 31 in FEB only) are rejected.
//
// # Daylight-saving time
//
// Cron expressions name wall-clock times, and on daylight-saving days some
// wall times do not exist and others happen twice. Like Vixie cron (cronie),
// expressions fall into two kinds:
//
//   - Fixed-time expressions (neither the minute nor the hour field starts
//     with "*", e.g. "30 2 * * *", "0 1,13 * * *") name moments of the day.
//     They fire ONCE per matching wall time: a wall time skipped by a
//     spring-forward change fires at the first instant after the gap
//     (02:30 in Europe/Paris on the last Sunday of March fires at 03:00
//     CEST); a wall time that happens twice on fall-back day fires at its
//     first occurrence only. Several skipped wall times collapse into one fire.
//   - Interval expressions (the minute or the hour field starts with "*",
//     e.g. "30 * * * *", "*/15 1-3 * * *") name a rhythm. They follow real
//     time: wall times inside the spring-forward gap do not fire (that hour
//     does not exist), and the repeated hour of fall-back day fires in both of
//     its occurrences, so an hourly expression fires exactly once per real
//     hour, with no double and no hole beyond the hour that does not exist.
//
// # The timer decision
//
// [Decide] tells a timer, which evaluated fires up to lastChecked and is now
// at now, what to publish: every fire in (lastChecked, now] within the
// catch-up window is coalesced into ONE fire (the latest), older ones are
// dropped and counted, and disabled schedules never fire. [FireID] derives
// the event id of a fire from job, schedule and fire time, so that any
// number of timer replicas publish the same id and JetStream keeps one.
package schedule

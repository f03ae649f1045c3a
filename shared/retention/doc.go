// Package retention decides which backups (or snapshots) to keep and which to remove. It is a
// pure function of its inputs — the backups and the policy — and holds no clock, no state and
// no I/O, so a prune that is retried decides exactly as the first attempt did.
//
// # Scope
//
// The caller passes the backups of ONE retention scope: one VM, one job, one schedule, one
// mode and one remote, as Xen Orchestra prunes (its candidates are
// listVmBackups(vm, b => b.mode === mode && b.scheduleId === scheduleId) on one remote). The
// backup that was just written is part of the list: "the new backup counts", so Depth 3 leaves
// 3 backups afterwards.
//
// # Rules
//
// A backup is kept if any of these holds; each rule that holds adds a reason:
//
//   - Depth: it is among the Depth newest backups ("depth 2/3").
//   - Long-term buckets: it represents one of the N most recent non-empty daily, weekly,
//     monthly or yearly buckets ("daily 2026-03-29", "weekly 2026-W13", "monthly 2026-03",
//     "yearly 2026"). Buckets are calendar periods in the policy's IANA time zone (the
//     schedule's), so a backup taken at 00:30 in Paris belongs to that Paris day even though
//     it is still the previous day in UTC, and daylight-saving changes move no backup into the
//     wrong day. Weeks are ISO 8601 weeks: they start on Monday and belong to the ISO
//     week-year, so 2026-12-31 is in 2026-W53 and 2027-01-04 starts 2027-W01.
//   - Newest: the newest backup is always kept. Architecture §9 forbids deleting a backup
//     unless a newer one has completed; with Depth 0 and buckets only, the newest backup could
//     otherwise lose to an older one of its own day.
//
// Empty buckets do not count: Daily 7 keeps the representatives of the 7 most recent days
// that HAVE a backup, which may span more than 7 calendar days. That is what Xen Orchestra
// does, and it is why no "now" is needed: the decision depends only on the backups, so a job
// that stopped for a month does not lose its long-term backups to the calendar.
//
// Depth 0 with no bucket means "no retention": everything is kept (reason "keep all"). A
// policy never removes every backup: a non-empty list always keeps at least its newest.
//
// # Which backup represents a bucket: the OLDEST
//
// Xen Orchestra keeps the oldest backup of each bucket (its getOldEntries walks from newest to
// oldest and overwrites the bucket's entry, so the last one written — the oldest — wins).
// Proxmox Backup Server and restic keep the latest of each bucket instead. xbr follows Xen
// Orchestra: xbr writes and prunes remotes in XO's layout, and XO users switch between the
// two tools. Keeping the latest would make xbr and XO disagree on the same remote: each would
// delete the backup the other keeps for that day, and alternating tools would wipe long-term
// backups. Keeping the oldest also makes a bucket's representative stable: later backups of
// the same day never displace it, so it survives once its day has passed out of Depth.
//
// # Weeks: ISO, where Xen Orchestra uses moment's locale weeks
//
// XO formats its weekly bucket with moment's locale week ("gggg-ww"); under moment's default
// "en" locale those weeks start on Sunday and week 1 is the week holding January 1. xbr uses
// ISO 8601 weeks (Monday start), as the project asks. The two agree on every bucket except for
// backups taken on a Sunday and around New Year, where XO and xbr may pick a different
// representative for a week; daily, monthly and yearly buckets are the same in both.
//
// # Order and ties
//
// Input order does not matter. Backups are ordered by Time, and backups with the same Time by
// ID (the greater ID counts as newer), so the decision is deterministic. Keep and Remove are
// returned newest first.
package retention

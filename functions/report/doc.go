// Package report writes the per-run summary of a job and posts it to a
// Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, ...),
// as Xen Orchestra's backup-reports plugin does at the end of a run.
//
// When: the job's report_when (XO's reportWhen): "always"; "failure" (the
// default) reports every run that did not end in success — failure,
// partial, interrupted and skipped; "never".
//
// Where: the job's report_webhook, a secret (an incoming webhook URL is its
// own credential): it never appears in logs, events or errors.
//
// Reporter is a bus handler on xbr.run.completed; Run is the "report"
// function that consumes those events with a durable consumer. A report is
// sent at least once: a failed POST is retried with back-off by the bus.
// A POST that gets no answer within PostTimeout (30 s; a receiver that
// accepts the connection and never answers, or trickles) fails like any
// other, so a stuck webhook never holds the reporter.
// Runs that ended more than MaxAge before the reporter saw them (a reporter
// started for the first time on an old stream) are not reported.
//
// What: the run's task tree as `xbr history` shows it, read back from the
// event stream (exports, restore points with their path and bytes). When
// the job health-checks the schedule's backups, the report waits for the
// checks (see collect): one report per run, with its checks in it.
//
// How much: one chat message. The text posted is at most MaxText bytes
// (15,000: one Mattermost post, far from Slack's 40,000); the tree of a run
// over hundreds of VMs is cut after its last whole line that fits, and a
// last line says how many lines were left out and which command shows them
// all (`xbr history --run <id>`; for the daily report, `xbr protection
// --state missing,failing,late,unprotected`). The title is never cut.
//
// Daily is the other report: the protection of every VM, on the schedule
// of reports.daily, from the protection query the gateway answers. Every
// report replica evaluates that schedule, and the report is sent once
// however many run: a replica claims the fire in the timer's state bucket
// with compare-and-set before it sends, and the others skip it. A failed
// attempt, also one cut short by a shutdown, gives the claim back (the
// next tick of any replica, a restarted one too, tries again);
// the claim of a replica that died is taken over once DailyClaimStale
// (5 minutes) old.
package report

// Package timer is the function that starts everything: it evaluates every
// enabled schedule's 5-field cron in its time zone and publishes one
// xbr.schedule.due per fire, on <prefix>.schedule.due.<mode>.<job>.<schedule>
// (the job's mode picks the planner that reads it).
//
// Any number of timer replicas may run. They share the time each schedule was
// last evaluated up to in a KV bucket, and every fire has a derived event id
// (job + schedule + fire time), published with Nats-Msg-Id, so JetStream keeps
// exactly one event per fire however many replicas see it. After a downtime,
// fires missed within the catch-up window are coalesced into one; older ones
// are dropped and logged. A timer starting deletes the state of schedules
// its configuration no longer has, so a schedule put back later starts afresh
// like a new one; a state ticked within the last minute is left alone, since
// a replica on another configuration (a rollout in progress) still has that
// schedule. Daylight-saving rules are shared/schedule's.
package timer

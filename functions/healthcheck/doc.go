// Package healthcheck is the function that proves a backup boots, as Xen
// Orchestra's health check does: it restores the backup (or clones the
// standby copy) as a throw-away test VM on a chosen SR, without network
// interfaces, starts it, waits for its guest, and destroys it and its
// disks in every case.
//
// # The flow
//
//   - Trigger: on xbr.export.completed, xbr.incremental.completed and
//     xbr.replicate.completed of a job whose schedule has a health_check
//     (config.Job.HealthCheckFor), for a VM that carries one of its tags
//     (any VM when none is given) and not xo:no-health-check, it returns one
//     xbr.healthcheck.requested: the work item. Its request id is derived
//     from the backup id, so a redelivered completion asks once.
//     `xbr healthcheck BACKUP-ID --sr SR` publishes the same event on demand.
//   - A full backup or a restore point is imported through the restore
//     function, the one verified import path: the health check returns an
//     xbr.restore.requested with its own request id (not started, named
//     "xbr health check of <VM>") and goes on when xbr.restore.completed or
//     xbr.restore.failed of that request arrives (the latter is a
//     restore-failed outcome). A standby copy is cloned with VM.clone on
//     the target pool directly.
//   - The check: the test VM is marked (its alive mark first, then the
//     tag xbr:healthcheck and the request, job and VM keys), its VIFs are
//     removed, a clone loses the copy's blocked start and backup keys (so
//     replicate never takes it for a copy), and, for a VM tagged
//     xo-backup-health-check-xenstore, vm-data/xo-backup-health-check is set
//     to "planned" in its xenstore_data. xbr.healthcheck.started is
//     published, the VM started, and its record polled until the guest
//     agent reports (guest_metrics with PV_drivers_detected) or, with the
//     XenStore tag, the guest's script replaces "planned" by "success" or
//     "failure" (its reason in vm-data/xo-backup-health-check-error), as
//     XAPI reflects the guest's vm-data in VM.xenstore_data. A VM that halts
//     first is boot-failed; one that does not report in time, timeout.
//   - The test VM is hard-shut-down and destroyed with its disks whatever
//     happened, under a context that a shutdown does not cancel.
//
// # Leftovers
//
// While a check runs it renews its alive mark on its test VM every few
// seconds, from the first mark to the destroy, whatever call is under way
// (a VM.start of a big VM or on a slow SR can outlast StaleAfter). The
// mark has two keys, KeyHealthCheckAlive and KeyHealthCheckAliveAlt,
// written both first and then renewed in turn: XAPI cannot overwrite a
// key, a renewal removes it and adds it again, and the other key stays
// meanwhile, so a sweep never reads a live check's VM without a fresh
// mark. The sweep destroys every VM tagged xbr:healthcheck whose newer
// mark is older than StaleAfter, or that has none: a check that was
// killed (a mark of an earlier version, KeyHealthCheckAlive alone, is
// read as well; that version's own renewals still leave a moment without
// a mark, and its sweep reads the first key only). It runs when the
// function starts, before each check (on that pool) and periodically, so
// checks that run concurrently, in this process or another, are never
// swept. A redelivered restore.completed whose test VM still exists goes
// on with it; one whose VM was swept reports boot-failed ("interrupted").
// The window left is the moment between VM.clone (or the restore's import)
// returning and the mark: a crash exactly there leaves an unmarked VM that
// the sweep does not know (named "xbr health check of …"; a restored one
// also carries the restore request id in xbr:restore:request).
// A mark is the writer's clock read against the sweeper's: processes whose
// clocks differ by more than StaleAfter less AliveEvery sweep each other's
// live checks (the one ahead sweeps), and leftovers of a process whose
// clock is ahead outlive StaleAfter by that much. Keep them in sync (NTP).
//
// # Results
//
// The outcome is an event (xbr.healthcheck.completed|failed) with the
// backup id; the event history is where results live. Xen Orchestra's
// metadata of a full backup has no place for it without breaking
// interop, so nothing is written beside the backup on the remote:
// `xbr backups ls`, the history and the metrics read the events.
package healthcheck

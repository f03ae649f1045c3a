// Package restoreclient is the client side of a restore, what every restore
// front end shares: the CLI (`xbr restore`, `xbr backups ls`), the gateway
// (web page, webhook, chat command) and the restore function itself.
//
//   - Requests: Params → NewRequest validates the backup id strictly
//     (catalog.ParseID), the pool, SR and name, and derives the request id, so
//     the same idempotency key always yields the same id; Publish puts the
//     xbr.restore.requested event on the backbone.
//   - Acceptance: Accept is the one check every front end runs before a
//     request is published (the CLI through the restore.accept query the
//     restore function answers): the backup exists on a configured remote,
//     the pool is configured, the SR resolves, and the new VM's name is
//     free on the pool, else "<name> (2)" with a warning. Refusals are
//     *NotFoundError or *ChoiceError naming the field and value.
//   - VMs: a query or a door may name a VM by uuid or exact name; ByVM
//     resolves it among backups with vmname.Resolve, and Pick takes the
//     newest backup or the one of a time (ParseBackupTime).
//   - Status: a restore's state (pending, running, completed, failed),
//     progress and error are a projection of its restore.* events. Status.Apply
//     folds one event in; Lookup reads the current status from the streams;
//     Follow calls back on every change until the restore ends. No server keeps
//     restore state: the events are the truth.
//   - Backups: List reads the backups of some or all remotes (newest first)
//     through catalog.List, and the restore points of each remote's
//     incremental repository (mode "incremental", ids
//     "<remote>:xbr-repo/<vm>/<ts>"; no repository is no points), as Backup
//     values whose JSON is what `xbr backups ls --json` prints; Latest picks a
//     VM's newest backup of either kind; Point reads one restore point.
package restoreclient

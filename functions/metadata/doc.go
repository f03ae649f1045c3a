// Package metadata is the function that runs pool metadata backup jobs
// (mode: metadata), as Xen Orchestra's metadata backups do: on each
// xbr.schedule.due of such a job (its consumer reads
// <prefix>.schedule.due.metadata.> only) it streams each of the job's pools'
// database (GET /pool/xmldbdump) to every remote of the job at once, in XO's
// layout (shared/catalog, poolmeta.go):
//
//	xo-pool-metadata-backups/<schedule id>/<pool uuid>/<ts>/data            the dump, as XAPI served it
//	xo-pool-metadata-backups/<schedule id>/<pool uuid>/<ts>/xbr-state.json  xbr's own state
//	xo-pool-metadata-backups/<schedule id>/<pool uuid>/<ts>/metadata.json   XO's fields, written last
//
// so Xen Orchestra lists and restores xbr's pool metadata backups, and xbr
// lists XO's (`xbr backups ls`) and puts one back (`xbr restore-metadata`).
//
// Design decisions:
//
//   - The dump is read once and written to every remote at once (a tee);
//     it is never held in memory. A remote whose write fails is dropped
//     from the tee, the others go on: one failed remote fails that pool on
//     that remote only. A remote Xen Orchestra encrypts (its encryption.json
//     names an algorithm) fails at once and gets nothing: xbr's dump would
//     sit there in plain text (catalog.CheckWritable).
//   - xbr-state.json holds what a rebuilt xbr needs beside the pool: its
//     configuration as YAML with every secret written as "***"
//     (config.RedactedYAML), the contents of the timer and runs KV buckets
//     (the jobs' last fires, locks and runs) and the streams'
//     configuration. It never holds a password, key or token.
//   - The folder's timestamp is the fire's time (to the second), so a
//     redelivered fire rewrites the same folder rather than adding a
//     second backup, unless an earlier delivery committed it (its
//     metadata.json names the run): that backup then stands untouched, and
//     the redelivery reports it. Event ids are derived from the run, pool
//     and remote.
//   - Retention is per schedule, per pool and per remote, as XO's
//     deleteOldMetadataBackups: after this remote's new backup is
//     committed, the oldest committed folders beyond the schedule's
//     retention are deleted, metadata.json first. A failed backup deletes
//     nothing.
//   - One fire is one handler call (like verify): a pool's database is a
//     few MiB, there is no per-VM work to spread. It returns
//     xbr.run.started, one xbr.metadata.completed or xbr.metadata.failed
//     per pool per remote, and xbr.run.completed with one result per pool
//     and remote (success, failure or partial).
package metadata

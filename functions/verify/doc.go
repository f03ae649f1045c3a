// Package verify is the function that runs scheduled verification jobs
// (mode: verify), as Proxmox Backup Server's verify jobs do: on each
// xbr.schedule.due of such a job (its consumer reads
// xbr.schedule.due.verify.> only) it re-reads every backup on the job's
// remotes (shared/integrity; deep: true parses every XVA and checks every
// chunk) and returns one xbr.verify.completed or xbr.verify.failed per
// backup, carrying the run id and job, then an xbr.run.completed with one
// result per backup: success when all passed, failure when all failed,
// partial otherwise. A damaged backup or restore point (a damaged manifest
// too) is a verify.failed; a remote that cannot be read (a network error,
// not damage) fails the fire, which is redelivered.
//
// Event ids are derived from the run and the backup, so a redelivered fire
// publishes nothing twice. Fires older than the configuration's catch_up
// window (a consumer created on an old stream) are skipped.
package verify

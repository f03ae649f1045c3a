// Package xotag holds Xen Orchestra's conventions for the VMs a backup job
// makes — rolling and temporary snapshots, standby copies — so that every
// function writes and reads them alike: the other_config keys
// (xo:backup:job|schedule|vm|datetime|sr, plus xbr's xbr:backup:run), the
// temporary snapshot name, the readable name "[XO Backup <job>] <vm>" and
// the layout of xo:backup:datetime (XO's formatDateTime, with colons).
//
// See ../../../shared/reference/xen-orchestra-backups.md §3.2. Xen
// Orchestra's jobId and scheduleId are xbr's job and schedule names.
package xotag

// Package config loads and validates xbr's YAML configuration file
// (architecture §6): NATS, pools, remotes, jobs with their schedules, and the
// gateway.
//
// [Load] reads a file, [Parse] reads bytes. Both decode strictly (unknown
// fields are errors), expand ${VAR} references from the environment, read
// "<secret>_file" files, apply defaults (a zero value means "the default"),
// parse cron expressions and time zones, and check cross references. Every
// problem is reported, in file order, as one line naming the file, line,
// field path and bad value:
//
//	xbr.yaml:14: jobs[0].schedules[0].cron: "61 2 * * *": minute 61 is out of range 0-59
//
// Secret values (passwords, keys, tokens) are held in [Secret], which redacts
// itself everywhere; they never appear in an error.
//
// [Demo] builds the configuration of the self-contained demo that
// "xbr serve" runs without --config.
package config

// The time zone database is embedded so that schedules resolve the same way
// in a minimal container image as on a full system.
import _ "time/tzdata"

// Package tests holds xbr's end-to-end suites: they build the xbr binary and
// run it as real processes (xbr serve, the CLI), against the embedded NATS,
// the XAPI simulator and real remotes.
package tests

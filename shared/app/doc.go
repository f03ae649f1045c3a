// Package app is the environment a function runs in: the configuration, the
// bus connection, subjects and streams, XAPI clients per pool, remotes, the
// clock and the logger. `xbr serve` builds one Env and runs the functions it
// is asked for, each on a copy of it with the connection of the function's
// own NATS identity (events.Roles; with the embedded server the identities
// live under <data_dir>/nats/identities); each function package exposes one
// Function.
//
// Functions never call each other: they consume events and return the events
// they produce (see shared/bus). A function's Run blocks until its context is
// cancelled and then returns after a graceful drain.
package app

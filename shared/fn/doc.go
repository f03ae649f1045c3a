// Package fn is what a function is and what it gets at run time: the
// Function type each function package exposes, the Env it runs with (the
// configuration, the bus connection of its own NATS identity, subjects and
// streams, XAPI clients per pool, remotes, the clock and the logger), and
// the query service (ServeAPI, Answer, Ask) through which client commands
// ask a running server.
//
// It is deliberately narrow: it links neither the XAPI simulator, nor the
// remote implementations (Remotes opens through an Opener the assembly
// gives), nor nats-server. How a process is put together (the embedded
// server, identities, the demo, opening remotes) is shared/cli/serve.
//
// Functions never call each other: they consume events and return the events
// they produce (see shared/bus). A function's Run blocks until its context is
// cancelled and then returns after a graceful drain.
package fn

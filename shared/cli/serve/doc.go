// Package serve assembles an `xbr serve` process: it loads the
// configuration (or starts the self-contained demo with the XAPI
// simulator), starts the embedded NATS server with one identity per
// function unless a backbone URL is given, connects, creates the streams,
// opens pools and remotes (OpenRemote knows every remote kind), gives each
// selected function its fn.Env and runs them with their query service
// until the context ends.
//
// Only the CLI and main import it (depguard): functions get an fn.Env and
// link none of what is assembled here.
package serve

// Package natsserver embeds nats-server: the JetStream server `xbr serve`
// starts when no backbone URL is configured, whose users each get an
// events.Grant (with none it stays on loopback, for tests), and the
// in-process cluster the scale-out tests run against.
//
// It lives apart from shared/bus so that only the assembly (shared/cli/serve)
// and tests link the server; a function links the client side only.
package natsserver

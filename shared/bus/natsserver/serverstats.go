package natsserver

import "fmt"

// ServerStats are the embedded server's counts that a long-running process
// must keep flat: what a run or a CLI follow leaves behind shows here.
type ServerStats struct {
	Clients   int // client connections
	Consumers int // JetStream consumers, durable and ephemeral
}

// Stats counts the server's client connections and JetStream consumers.
func (s *Server) Stats() (ServerStats, error) {
	js, err := s.ns.Jsz(nil)
	if err != nil {
		return ServerStats{}, fmt.Errorf("embedded nats: jetstream stats: %w", err)
	}
	return ServerStats{Clients: s.ns.NumClients(), Consumers: js.Consumers}, nil
}

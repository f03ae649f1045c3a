package events

import "strings"

// The queries are request/reply on core NATS, served as one NATS micro
// service (github.com/nats-io/nats.go/micro), so `nats micro ls` and the
// $SRV.PING|INFO|STATS discovery subjects list them. Every function answers
// them in the queue group APIQueue: whichever server answers first. A query
// changes nothing, with one exception marked Writes (verify publishes its
// results); an action that changes anything is an event pair instead.
const (
	// ServiceName is the micro service every xbr server registers.
	ServiceName = "xbr"
	// ServiceVersion is the version of the query contract (semver): minor
	// for an added query or field, major for a removed or changed one.
	ServiceVersion = "1.2.0"
	// APIQueue is the queue group the functions answer the queries in.
	APIQueue = "xbr-api"
)

// Query names: the last tokens of their subject <prefix>.api.<name>.
const (
	QueryNameJobs    = "jobs"    // the configured jobs and their next fires
	QueryNamePools   = "pools"   // the configured pool names
	QueryNameBackups = "backups" // the backups on the remotes (shared/restoreclient)
	QueryNameDRList  = "dr.ls"   // the copies on the standby pools
	QueryNameVerify  = "verify"  // verify backups and publish the results (shared/integrity)
	// QueryNameProtection: every VM's protection state (shared/protection).
	QueryNameProtection = "protection"
	// QueryNameRestoreAccept: check a restore request before it is
	// published (shared/restoreclient).
	QueryNameRestoreAccept = "restore.accept"
)

// Endpoint is one query of the service: its name and whether it changes
// anything (callers that only read, like the auditor, may not call it).
type Endpoint struct {
	Name   string
	Writes bool
}

// Endpoints are every query, in a stable order.
func Endpoints() []Endpoint {
	return []Endpoint{{Name: QueryNameJobs}, {Name: QueryNamePools}, {Name: QueryNameBackups},
		{Name: QueryNameDRList}, {Name: QueryNameVerify, Writes: true}, {Name: QueryNameProtection},
		{Name: QueryNameRestoreAccept}}
}

// EndpointOf returns the endpoint named name.
func EndpointOf(name string) (Endpoint, bool) {
	for _, e := range Endpoints() {
		if e.Name == name {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Subject is the subject of e under the prefix of s.
func (e Endpoint) Subject(s Subjects) string { return s.Prefix() + ".api." + e.Name }

// MicroName is e's endpoint name in the micro service (letters, digits,
// '-' and '_' only: dr.ls is dr-ls).
func (e Endpoint) MicroName() string { return strings.ReplaceAll(e.Name, ".", "-") }

// Query is the one typed definition of a query: its endpoint, the request
// it takes (Req) and the response it answers (Resp). Server and callers
// both use it (app.Answer, app.Ask), so the types exist once.
type Query[Req, Resp any] struct{ Endpoint }

// NewQuery is the typed query of the endpoint named name; it panics on a
// name that is not in Endpoints (a programming error, caught by any test).
func NewQuery[Req, Resp any](name string) Query[Req, Resp] {
	e, ok := EndpointOf(name)
	if !ok {
		panic("events: no query " + name)
	}
	return Query[Req, Resp]{Endpoint: e}
}

// NoRequest is the request of a query that takes none (sent as an empty body).
type NoRequest struct{}

// The queries whose types live here. backups and verify are typed beside
// their types: restores.QueryBackups, verify.QueryVerify.
var (
	QueryJobs   = NewQuery[NoRequest, []JobInfo](QueryNameJobs)
	QueryPools  = NewQuery[NoRequest, []string](QueryNamePools)
	QueryDRList = NewQuery[DRListRequest, []DRCopy](QueryNameDRList)
	// QueryProtection is answered by the gateway, which holds the history.
	QueryProtection = NewQuery[ProtectionRequest, []ProtectionVM](QueryNameProtection)
)

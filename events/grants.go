package events

import (
	"slices"
	"strings"
)

// Grant is what a NATS server must allow one identity: the subjects it may
// publish to, those it may subscribe to, and whether it may answer the
// requests it receives (NATS allow_responses).
type Grant struct {
	Identity  string   `json:"identity"`
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
	// PublishDeny wins over Publish: it keeps readers, which may create
	// consumers of any name, off the functions' durables.
	PublishDeny    []string `json:"publish_deny,omitempty"`
	AllowResponses bool     `json:"allow_responses"`
}

// jsAPI is the JetStream API prefix of the default domain.
const jsAPI = "$JS.API."

// Grants are the grants of every role under the prefix of s and streams n.
func Grants(s Subjects, n StreamNames) []Grant {
	var out []Grant
	for _, r := range withSources(Roles()) {
		out = append(out, r.Grant(s, n))
	}
	return out
}

// Grant is what role r needs under the prefix of s and streams n.
func (r Role) Grant(s Subjects, n StreamNames) Grant {
	n = n.WithDefaults()
	g := Grant{Identity: r.Name, Subscribe: []string{"_INBOX.>"}}
	for _, t := range r.Produces {
		g.Publish = append(g.Publish, s.Filter(t))
	}
	if len(r.Durables) > 0 {
		g.Publish = append(g.Publish, s.DLQ(r.Name))
	}
	if len(r.Produces)+len(r.Durables)+len(r.Buckets) > 0 || r.Reads || r.Admin {
		g.Publish = append(g.Publish, jsAPI+"INFO")
	}
	streams := []string{n.Events, n.Progress, n.DLQ}
	// The admin reads a stream's configuration before it updates it, to leave
	// another owner's stream of the same name alone.
	if r.Reads || r.Admin || len(r.Durables) > 0 || len(r.Produces) > 0 {
		for _, st := range streams {
			g.Publish = append(g.Publish, jsAPI+"STREAM.INFO."+st)
		}
	}
	g.Publish = append(g.Publish, r.consumerAPI(n)...)
	for _, b := range r.Buckets {
		g.Publish = append(g.Publish, kvAPI(b)...)
	}
	if r.Admin {
		for _, st := range append(streams, kvStreams()...) {
			g.Publish = append(g.Publish, jsAPI+"STREAM.CREATE."+st, jsAPI+"STREAM.UPDATE."+st)
		}
	}
	g.Publish = append(g.Publish, r.queryAPI(s)...)
	if r.Answers {
		g.Subscribe = append(g.Subscribe, s.Prefix()+".api.> "+APIQueue, "$SRV.>")
		g.AllowResponses = true
	}
	g.Publish = slices.Compact(g.Publish)
	if r.Reads {
		g.PublishDeny = durablesOfOthers(r.Name, n)
	}
	return g
}

// queryAPI are the subjects r publishes to call the queries: all of them
// (Calls) or those that change nothing (Asks), and the micro discovery
// requests of the xbr service ($SRV.PING, $SRV.INFO.xbr, ...).
func (r Role) queryAPI(s Subjects) []string {
	if !r.Calls && !r.Asks {
		return nil
	}
	var out []string
	if r.Calls {
		out = append(out, s.Prefix()+".api.>")
	} else {
		for _, e := range Endpoints() {
			if !e.Writes {
				out = append(out, e.Subject(s))
			}
		}
	}
	for _, v := range []string{"PING", "INFO", "STATS"} {
		out = append(out, "$SRV."+v, "$SRV."+v+"."+ServiceName, "$SRV."+v+"."+ServiceName+".*")
	}
	return out
}

// durablesOfOthers are the JetStream API and ack subjects of every durable
// of the other roles: a reader may not create, update, pull from, ack or
// delete them.
func durablesOfOthers(self string, n StreamNames) []string {
	var out []string
	for _, r := range Roles() {
		if r.Name == self {
			continue
		}
		for _, d := range r.Durables {
			for _, st := range []string{n.Events, n.Progress, n.DLQ} {
				for _, op := range []string{"CONSUMER.CREATE.", "CONSUMER.DURABLE.CREATE.", "CONSUMER.MSG.NEXT.", "CONSUMER.DELETE."} {
					out = append(out, jsAPI+op+st+"."+d)
				}
				out = append(out, jsAPI+"CONSUMER.CREATE."+st+"."+d+".>", "$JS.ACK."+st+"."+d+".>")
			}
		}
	}
	return out
}

// consumerAPI are the JetStream API subjects of r's consumers: its
// durables on the stream their types live in, and, for readers, ephemeral
// consumers of any name on every stream (the API cannot tell them apart by
// subject), listing consumers (lag metrics) and getting one message. Acks
// go to the reply subject of each delivery ($JS.ACK...).
func (r Role) consumerAPI(n StreamNames) []string {
	var out []string
	ops := []string{"CONSUMER.CREATE.%s.%s", "CONSUMER.CREATE.%s.%s.>", "CONSUMER.DURABLE.CREATE.%s.%s",
		"CONSUMER.INFO.%s.%s", "CONSUMER.MSG.NEXT.%s.%s"}
	add := func(stream, consumer string) {
		for _, op := range ops {
			out = append(out, jsAPI+strings.NewReplacer("%s.%s", stream+"."+consumer).Replace(op))
		}
		out = append(out, "$JS.ACK."+stream+"."+consumer+".>")
	}
	if len(r.Durables) > 0 {
		stream := n.Events
		if len(r.Consumes) > 0 && r.Consumes[0].IsProgress() {
			stream = n.Progress
		}
		for _, d := range r.Durables {
			add(stream, d)
		}
	}
	if r.Reads {
		for _, st := range []string{n.Events, n.Progress, n.DLQ} {
			add(st, "*")
			out = append(out, jsAPI+"CONSUMER.DELETE."+st+".*", jsAPI+"CONSUMER.LIST."+st,
				jsAPI+"CONSUMER.NAMES."+st, jsAPI+"STREAM.MSG.GET."+st, jsAPI+"DIRECT.GET."+st,
				jsAPI+"DIRECT.GET."+st+".>")
		}
	}
	return out
}

// kvStreams are the streams of every role's KV buckets, which only the
// admin creates and updates.
func kvStreams() []string {
	var out []string
	for _, r := range Roles() {
		for _, b := range r.Buckets {
			if st := "KV_" + b; !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
	}
	return out
}

// kvAPI is what owning KV bucket b takes: bind to it (stream info), put,
// get (direct and by message), and watch it. Not creating or updating its
// stream: a stream's configuration may republish what it stores to any
// subject, which the server does without checking the owner's publish
// permissions, so that would let the owner publish any event.
func kvAPI(b string) []string {
	st := "KV_" + b
	return []string{
		"$KV." + b + ".>",
		jsAPI + "STREAM.INFO." + st,
		jsAPI + "STREAM.MSG.GET." + st, jsAPI + "DIRECT.GET." + st, jsAPI + "DIRECT.GET." + st + ".>",
		jsAPI + "CONSUMER.CREATE." + st, jsAPI + "CONSUMER.CREATE." + st + ".>",
		jsAPI + "CONSUMER.DELETE." + st + ".>", jsAPI + "CONSUMER.MSG.NEXT." + st + ".>",
		"$JS.ACK." + st + ".>",
	}
}

// Package gateway is xbr's HTTP front door: the Restore view (a web page),
// the restore webhook, Slack- and Mattermost-compatible chat commands and
// /healthz. It turns what people and other systems ask for into
// xbr.restore.requested (and, for `run`, xbr.schedule.due) events, and reads
// the restore.* events back to show how restores went. It keeps no state:
// the events are the truth (shared/restoreclient projects them).
//
// # Routes
//
//	GET  /                        the Restore view: step 1 (choose a remote) and the recent restores
//	GET  /restore?remote=R        step 2: the VMs with backups on R
//	GET  /restore?remote=R&vm=U   step 3: the backups of VM U (time, size, job, codec)
//	GET  /restore?backup=ID[&pool=P]  step 4: pool, SR, name, start; POSTs the form below
//	POST /restore                 the form: publishes the request, 303 to its status page
//	GET  /restores/{id}           a restore's status page (polls the JSON below; meta refresh without script)
//	GET  /restores/{id}/status    the same status as JSON (what the page shows, no more)
//	GET  /healthcheck?backup=ID   a backup's health check form: pool, SR (see web_health.go)
//	POST /healthcheck             the form: publishes xbr.healthcheck.requested, as `xbr healthcheck`
//	GET  /healthchecks/{id}       a health check's status page (polls the JSON below)
//	GET  /healthchecks/{id}/status the same status as JSON
//	POST /v1/restores             webhook: start a restore (signed)
//	GET  /v1/restores/{id}        webhook: a restore's status as JSON (signed)
//	POST /v1/failovers            webhook: fail a VM over to a standby copy (signed; see dr_webhook.go)
//	GET  /v1/failovers/{id}       webhook: a failover's status as JSON (signed)
//	POST /v1/chat/slack           Slack slash command (signing secret)
//	POST /v1/chat/mattermost      Mattermost slash command (token)
//	GET  /healthz                 200 while the NATS connection is up, else 503
//	GET  /readyz                  200 when NATS is up and the streams exist, else 503 (shared/metrics)
//	GET  /metrics                 Prometheus metrics of the backbone (shared/metrics)
//	GET  /history[?job=J]         the runs, newest first, each as its task tree (as `xbr history`)
//	GET  /history/{run}           one run: facts, transfer-rate chart per VM, task tree
//	GET  /history/compare?a=R&b=R two runs' total transfer rates on one chart, each from its start
//	GET  /dr                      standby copies per source VM with their recovery point and age
//	GET  /dr/failover?vm=V&copy=C what a failover to that copy will do, and its confirmation form
//	POST /dr/failover             the form: fails the VM over to the pinned copy (see drpage.go)
//	GET  /static/...              the page's CSS and script (embedded; no CDN)
//
// # Webhook authentication
//
// Like Stripe's and GitHub's webhooks, bound to the endpoint: the caller
// sends X-Xbr-Timestamp (unix seconds, plain decimal digits: no sign, no
// leading zero) and X-Xbr-Signature: sha256=<hex HMAC-SHA256(secret, S)>,
// with the secret of gateway.webhook_secret and S (WebhookSigningString):
//
//	"<timestamp>\n<METHOD>\n<path?query>\n<raw body>"
//
// path?query is the request target exactly as sent (GET
// /v1/restores/{id} signs its path and an empty body). A signature for one
// endpoint does not open another. The signature is compared in constant
// time and the timestamp must be within five minutes of the gateway's
// clock, either way. Without a secret configured every request is refused.
// A failed check answers 401 and publishes nothing.
//
// # Replay
//
// A POST's signature is accepted once: its MAC is recorded with kv.Create
// in the KV bucket xbr_gateway_seen (TTL twice the window plus 30 s), so a
// second delivery is 401 on this gateway and on every other on the same
// bus; a client that retries signs again with a new timestamp. Slack
// signatures are treated the same. A Mattermost command carries only a
// token, a replayable shared secret: an identical command (same fields,
// token aside) within the window is refused. The check fails closed (502)
// when the bucket cannot be reached. Status GETs stay repeatable.
//
// # Failover
//
// POST /v1/failovers {"vm": "<uuid or name>", "copy": "latest" | "<recovery
// point>", "start": true, "force": false}, the failover chat command and the
// DR page's form publish xbr.failover.requested with who asked (webhook,
// slack:<user>, mattermost:<user>, web); the replicate function carries it
// out (functions never import each other). The webhook and the page follow
// its outcome events for up to 20 s (WithFailoverWait; by default two
// thirds of the handler timeout, which it must stay below so that the
// pending answer is not cut). The webhook answers 200 with the
// status (the request and xbr.failover.completed) once done; 409 when it
// was refused because the source VM or another copy of it runs (send
// "force": true to override);
// 404 when no complete copy matches; 502 when it failed or no server
// answers; 202 with the status (its "id") and a Location of GET
// /v1/failovers/<id> when the outcome takes longer; the page says it is
// pending, with its id. The chat command cannot wait (Slack wants a slash
// command answered within 3 s): it answers at once that the failover was
// requested, with its id, and posts the outcome to the command's
// response_url as a chat restore does (see Chat commands): completed,
// refused (with how to force it), failed, or still pending after 15 min
// (WithChatFailoverWait). The copies chat command and the DR page's
// listing ask the dr.ls query over NATS (any xbr server answers).
//
// # Webhook body
//
//	{"backup_id": "nfs:<vm-uuid>/20240501T020013Z", "pool": "lab", "sr": "<uuid or name>", "start": true, "name": "web (restored)"}
//	{"vm": "<uuid or name>", "backup": "latest" | "<YYYYMMDDTHHMMSSZ>" | "<RFC 3339>", "remote": "nfs", ...}
//
// pool may be omitted when one pool is configured; sr defaults to the pool's
// default SR. Every door checks a restore in one place
// (restoreclient.Accept): the backup, remote, pool and SR exist, and the new
// VM's name is free on the pool, else the VM is named "<name> (2)" and the
// answer warns. A VM is a uuid or an exact name (vmname.Resolve): a name
// several VMs share is a 400 listing them. Answers: 202 {"id", "backup_id",
// "pool", "sr", "name" (when renamed), "status_url", "warnings"};
// 400 {"error", "field"} for malformed JSON, unknown fields or values (a
// backup id is parsed by catalog.ParseID: "..", absolute paths, odd bytes
// and %-escapes are refused); 404 for a remote, backup, VM, pool or SR that
// does not exist; 409 for "latest" when some of the VM's backups could not
// be listed (a newer one may be among them: name the backup, or its time);
// 413 for a body over 64 KiB; 502 when a remote, the pool or NATS fails.
//
// # Chat commands
//
// restore <vm> [latest|<time>] [sr=<sr>] [pool=<pool>] [start], backups <vm>,
// run <job> [schedule=<s>], status <id>, copies <vm>,
// failover <vm> [latest|<time>] [start] [force], help. Slack requests are verified
// with the signing secret (X-Slack-Request-Timestamp, X-Slack-Signature
// v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>, five-minute window);
// Mattermost requests by their token form field (constant time). Answers use
// Slack's response format {"response_type": "ephemeral"|"in_channel", "text"};
// to Slack with &, < and > escaped (&amp; &lt; &gt;), since the text quotes
// VM names and errors from XAPI and the remotes: a name cannot notify the
// channel (<!channel>) or disguise a link. To Mattermost, which reads
// markdown, a zero-width space follows each "@" and parts "](" and "]:",
// so @channel or [text](url) in a name neither notifies nor links.
// A restore or failover command's response_url (Slack's and Mattermost's;
// https or http, never logged beyond its host, as its path is a token) gets
// the request's outcome POSTed in the same format when it ends, while this
// gateway runs, if its host is in gateway.chat_response_hosts; otherwise the
// reply says the outcome is not posted back (a failover's: look at the DR
// page).
// A mistyped command is answered with the closest one ("did you mean").
//
// # The web page
//
// Server-rendered html/template pages with embedded CSS and one small
// script, no external assets. Every control is a link, a form or a button
// with a label, in reading order, with a visible focus ring; tables become
// stacked cards on narrow screens.
//
// The page's doors (guard.go): a request whose Host is not a name of the
// gateway (gateway.public_names, the listen address, localhost, 127.0.0.1,
// [::1]; any IP address when it listens on all of them) gets 421, against
// DNS rebinding. The login is HTTP basic against gateway.users_file
// (htpasswd, bcrypt), or the user named in gateway.auth.proxy_header when
// the peer is in gateway.auth.trusted_proxies; with neither the page is
// anonymous (config check allows that on loopback or with allow_anonymous).
// The probes and the signed /v1 API are outside these doors. Forms are
// protected by Go's http.CrossOriginProtection and by a token the server
// issues (csrf.go: signed, bound to the form's action and the user,
// expiring after FormTokenTTL); its random part makes a double submission
// one request. Restores record who asked: requested_by "web" or
// "web:<user>".
//
// # History and the transfer-rate chart
//
// The History pages read one projection (shared/history) that Serve feeds
// with history.Follow from the start of XBR_EVENTS and XBR_PROGRESS; no
// request replays the streams. A run's chart is an inline SVG drawn on the
// server (no script, no external asset): one line per VM, each point a
// progress sample at the rate over the interval since the VM's previous
// sample (workers report the mean since the export began, which hides a
// slowdown); the comparison draws each run's total (the sum of its VMs'
// interval rates at every sample time). The SVG has role="img" with a
// <title> and a <desc> summarising every line, an HTML legend, and the same
// numbers as a table in <details>. Lines differ by dash pattern as well as
// colour (Okabe–Ito). A line keeps at most 1,000 points (every k-th sample).
//
// Every request gets an id (X-Request-Id, logged with method, path, status
// and duration; never queries, headers or bodies) and runs under
// HandlerTimeout (WithHandlerTimeout).
package gateway

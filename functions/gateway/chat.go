package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/chattext"
	"xbr/shared/restoreclient"
	"xbr/shared/schedule"
)

// ChatReply is the JSON answer of a slash command, in Slack's response
// format (Mattermost reads the same fields).
type ChatReply struct {
	ResponseType string `json:"response_type"` // "ephemeral" (only the caller sees it) or "in_channel"
	Text         string `json:"text"`

	follow *chatFollow // the request whose outcome goes back to the chat, if any
}

const (
	ephemeral = "ephemeral"
	inChannel = "in_channel"
)

// to is the reply as sent to the chat via: for Slack, with &, < and >
// escaped; for Mattermost, mentions and markdown links defused. The
// replies quote VM, copy and backup names and error texts, which come from
// XAPI and the remotes (anyone who can name a VM writes them): unescaped,
// "<!channel>" (Slack) or "@channel" (Mattermost) would notify the channel
// and "<https://...|text>" (Slack) or "[text](https://...)" (Mattermost)
// show a disguised link.
func (r ChatReply) to(via string) ChatReply {
	switch via {
	case "slack":
		r.Text = chattext.Slack(r.Text)
	case "mattermost":
		r.Text = chattext.Mattermost(r.Text)
	}
	return r
}

// slack is POST /v1/chat/slack, verified with Slack's signing secret.
func (s *Server) slack(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	var sum []byte
	if err == nil {
		sum, err = VerifySlack(s.env.Config.Gateway.SlackSigningSecret.Reveal(), r.Header.Get(HeaderSlackTimestamp),
			r.Header.Get(HeaderSlackSignature), body, s.now())
	}
	if err == nil {
		err = s.seen.first(r.Context(), "slack."+hex.EncodeToString(sum))
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	s.chat(w, r, body, "slack", "slack:"+r.Header.Get(HeaderSlackTimestamp)+":"+string(body))
}

// mattermost is POST /v1/chat/mattermost, checked with the command's token.
func (s *Server) mattermost(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, r, err)
		return
	}
	form, err := parseForm(body)
	if err == nil {
		err = VerifyToken(s.env.Config.Gateway.MattermostToken.Reveal(), form.Get("token"))
	}
	if err == nil {
		// The token is a replayable shared secret: an identical command
		// within the window is refused, so a captured one runs once.
		err = s.seen.first(r.Context(), "mattermost."+commandHash(form))
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	s.chat(w, r, body, "mattermost", "")
}

// parseForm reads a chat command's form strictly: a field given twice is
// refused rather than read first-wins.
func parseForm(body []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badField("body", "", "not a form: "+err.Error())
	}
	for k, v := range form {
		if k == "" {
			return nil, badField("body", "", "has a field with no name")
		}
		if len(v) > 1 {
			return nil, badField(k, "", "is given more than once")
		}
	}
	return form, nil
}

// commandHash identifies a Mattermost command by its fields without its
// token (no derivative of the secret is stored).
func commandHash(form url.Values) string {
	c := maps.Clone(form)
	delete(c, "token")
	sum := sha256.Sum256([]byte(c.Encode()))
	return hex.EncodeToString(sum[:])
}

// chat runs the command of an authenticated form body and answers it.
func (s *Server) chat(w http.ResponseWriter, r *http.Request, body []byte, via, key string) {
	answer := func(reply ChatReply) { writeJSON(w, http.StatusOK, reply.to(via)) }
	form, err := parseForm(body)
	if err != nil {
		fail(w, r, err)
		return
	}
	by := via
	if u := form.Get("user_name"); u != "" && checkText("user_name", u) == nil {
		by = via + ":" + u
	}
	cmd, err := ParseCommand(form.Get("text"))
	if err != nil {
		text := "Sorry: " + err.Error()
		if u := new(UnknownCommandError); !errors.As(err, &u) || u.Suggestion == "" {
			text += "\n" + Usage // a typo gets its suggestion alone
		}
		answer(ChatReply{ResponseType: ephemeral, Text: text})
		return
	}
	var notify *url.URL
	if raw := form.Get("response_url"); raw != "" && (cmd.Verb == VerbRestore || cmd.Verb == VerbFailover) {
		if notify, err = checkResponseURL(raw); err != nil {
			answer(ChatReply{ResponseType: ephemeral, Text: "Sorry: " + err.Error()})
			return
		}
	}
	reply, err := s.runCommand(r.Context(), cmd, by, key)
	if err == nil && reply.follow != nil {
		reply.Text += s.notifyOutcome(notify, reply.follow, via)
	}
	if err != nil {
		reqLog(r).Warn("chat command failed", "via", via, "verb", cmd.Verb, "err", err)
		reply = ChatReply{ResponseType: ephemeral, Text: "Sorry: " + err.Error()}
	}
	answer(reply)
}

func (s *Server) runCommand(ctx context.Context, c Command, by, key string) (ChatReply, error) {
	switch c.Verb {
	case VerbRestore:
		return s.chatRestore(ctx, c, by, key)
	case VerbBackups:
		return s.chatBackups(ctx, c)
	case VerbRun:
		return s.chatRun(ctx, c, by)
	case VerbCopies:
		return s.chatCopies(ctx, c)
	case VerbHealthCheck:
		return s.chatHealthCheck(ctx, c, by, key)
	case VerbFailover:
		return s.chatFailover(ctx, c, by, key)
	case VerbStatus:
		st, err := s.lookup(ctx, c.ID)
		if err != nil {
			return ChatReply{}, err
		}
		return ChatReply{ResponseType: ephemeral, Text: describeStatus(st)}, nil
	}
	return ChatReply{ResponseType: ephemeral, Text: Usage}, nil
}

func (s *Server) chatRestore(ctx context.Context, c Command, by, key string) (ChatReply, error) {
	b, err := s.selectBackup(ctx, c.VM, "", c.At)
	if err != nil {
		return ChatReply{}, err
	}
	t := target{backup: b, start: c.Start}
	if t.pool, err = s.pickPool(c.Pool); err != nil {
		return ChatReply{}, err
	}
	if t.sr, err = s.resolveSR(ctx, t.pool, c.SR); err != nil {
		return ChatReply{}, err
	}
	a, err := s.request(ctx, t, by, key)
	if err != nil {
		return ChatReply{}, err
	}
	req := a.Request
	sr := "its default SR"
	if req.SR != "" {
		sr = "SR " + req.SR
	}
	text := fmt.Sprintf(
		"Restore `%s` requested by %s: %s (%s) from the backup of %s on %s, to pool %s, %s. Follow it with `status %s`.",
		req.RequestID, by, b.VMName, b.VMUUID, b.Timestamp.UTC().Format(time.RFC3339), b.Remote, req.Pool, sr, req.RequestID)
	for _, w := range a.Warnings {
		text += "\nWarning: " + w
	}
	return ChatReply{ResponseType: inChannel, Text: text, follow: s.restoreFollow(req.RequestID)}, nil
}

// maxChatBackups is how many backups `backups <vm>` lists.
const maxChatBackups = 10

func (s *Server) chatBackups(ctx context.Context, c Command) (ChatReply, error) {
	l, err := s.listingOf(ctx, c.VM, "")
	if err != nil {
		return ChatReply{}, err
	}
	bs := l.Backups
	if len(bs) == 0 {
		return ChatReply{}, missing("vm", c.VM, "has no backup")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d backup(s) of %s (%s), newest first:\n", len(bs), bs[0].VMName, bs[0].VMUUID)
	for i, x := range bs {
		if i == maxChatBackups {
			fmt.Fprintf(&b, "… and %d older\n", len(bs)-i)
			break
		}
		fmt.Fprintf(&b, "• %s  %s  %s  job %s  `%s`\n", x.Timestamp.UTC().Format(catalog.TimestampLayout),
			HumanBytes(x.Size), codecLabel(x.Codec), orDash(x.Job), x.ID)
	}
	if len(l.Problems) > 0 {
		shown := l.Problems[:min(len(l.Problems), 3)]
		fmt.Fprintf(&b, "Not listed, as they cannot be read (one may be newer): %s", strings.Join(shown, "; "))
		if more := len(l.Problems) - len(shown); more > 0 {
			fmt.Fprintf(&b, "; and %d more", more)
		}
		b.WriteString("\n")
	}
	return ChatReply{ResponseType: ephemeral, Text: b.String()}, nil
}

// chatRun publishes a manual xbr.schedule.due, as `xbr run` does.
func (s *Server) chatRun(ctx context.Context, c Command, by string) (ChatReply, error) {
	job, ok := s.env.Job(c.Job)
	if !ok {
		return ChatReply{}, missing("job", c.Job, "is not configured")
	}
	sched := c.Schedule
	if sched == "" && len(job.Schedules) > 0 {
		sched = job.Schedules[0].Name
	}
	found := false
	for _, sc := range job.Schedules {
		found = found || sc.Name == sched
	}
	if !found {
		return ChatReply{}, missing("schedule", sched, "is not a schedule of job "+job.Name)
	}
	due := schedule.ManualFire(job.Mode, job.Name, sched, by, s.now())
	id := due.RunID
	msg, err := s.env.Subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: due.FireTime}, due)
	if err != nil {
		return ChatReply{}, err
	}
	if _, err := s.env.Conn.Publish(ctx, msg.Subject, msg.Event); err != nil {
		return ChatReply{}, upstream(fmt.Errorf("publish the run: %w", err))
	}
	s.log.Info("run requested", "run", id, "job", job.Name, "schedule", sched, "requested_by", by)
	return ChatReply{ResponseType: inChannel, Text: fmt.Sprintf("Run `%s` of job %s (schedule %s) requested by %s.",
		id, job.Name, sched, by)}, nil
}

// describeStatus is one restore's state in a sentence or two.
func describeStatus(st restoreclient.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Restore `%s`: *%s*. Backup %s to pool %s.", st.RequestID, st.State, st.BackupID, st.Pool)
	switch st.State {
	case restoreclient.StateRunning:
		fmt.Fprintf(&b, " %s of %s (%.0f%%) at %s/s.", HumanBytes(st.Bytes), HumanBytes(st.TotalBytes), st.Percent,
			HumanBytes(st.BytesPerSecond))
	case restoreclient.StateCompleted:
		fmt.Fprintf(&b, " New VM %q (%s), %s in %s.", st.NewVMName, st.NewVMUUID, HumanBytes(st.Bytes),
			(time.Duration(st.DurationMS) * time.Millisecond).Round(time.Millisecond))
	case restoreclient.StateFailed:
		fmt.Fprintf(&b, " Error: %s", st.Error)
	}
	return b.String()
}

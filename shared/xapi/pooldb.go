package xapi

import (
	"context"
	"fmt"
	"io"
	"net/url"
)

// DumpPoolDatabase streams the pool's database as XML
// (GET /pool/xmldbdump, what `xe pool-dump-database` and Xen Orchestra's
// pool metadata backup read). See Transfer: read it to its end, then close.
func (c *Client) DumpPoolDatabase(ctx context.Context) (*Transfer, error) {
	return c.download(ctx, "/pool/xmldbdump", url.Values{}, "dump the pool database")
}

// RestorePoolDatabase uploads a database dump of size bytes
// (PUT /pool/xmldbdump, xen-api's push_database_restore_handler, which
// needs the length). With dryRun the pool only checks it; without, the
// master writes it as its next database and restarts on it: every object
// created since the dump is forgotten. The body is streamed.
func (c *Client) RestorePoolDatabase(ctx context.Context, body io.Reader, size int64, dryRun bool) error {
	if size < 0 {
		return fmt.Errorf("restore the pool database: size %d: the length must be known", size)
	}
	task, err := c.CreateTask(ctx, "xbr restore the pool database", "")
	if err != nil {
		return fmt.Errorf("restore the pool database: %w", err)
	}
	q := url.Values{"session_id": {c.Session()}, "task_id": {string(task)}}
	if dryRun {
		q.Set("dry_run", "true")
	}
	if err := c.put(ctx, c.endpoint("/pool/xmldbdump", q), body, size); err != nil {
		err = c.withTaskReason(ctx, task, err)
		// The task of an upload that did not end stays pending for a day: cancel and remove it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		c.abandonTask(cctx, task)
		return fmt.Errorf("restore the pool database: %w", err)
	}
	if _, err := c.WaitTask(ctx, task); err != nil {
		return fmt.Errorf("restore the pool database: %w", err)
	}
	return nil
}

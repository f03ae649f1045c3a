package xapi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Async starts method as an XAPI task ("Async.<method>") and returns the
// task at once. Getters, setters, session.* and task.* have no async mode.
func (c *Client) Async(ctx context.Context, method string, args ...any) (TaskRef, error) {
	v, err := c.Call(ctx, "Async."+method, args...)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("Async.%s: result is %s, not a task ref", method, describeValue(v))
	}
	return TaskRef(s), nil
}

// CallAsync runs method as a task and waits for it: long operations then
// survive HTTP timeouts and can be cancelled. The result is the task's raw
// result (an XML-RPC value as text; see ParseTaskResult).
func (c *Client) CallAsync(ctx context.Context, method string, args ...any) (string, error) {
	task, err := c.Async(ctx, method, args...)
	if err != nil {
		return "", err
	}
	res, err := c.WaitTask(ctx, task)
	if err != nil {
		return "", fmt.Errorf("%s: %w", method, err)
	}
	return res, nil
}

// WaitTask polls task.get_record with a doubling back-off until the task
// leaves pending/cancelling, then destroys it. A failed task returns *Error
// from its error_info; a cancelled one an *Error TASK_CANCELLED. When ctx
// ends first it calls task.cancel (so XAPI stops the work) and returns
// ctx.Err().
func (c *Client) WaitTask(ctx context.Context, task TaskRef) (string, error) {
	rec, err := c.awaitTask(ctx, task)
	if err != nil {
		return "", err
	}
	c.destroyTask(ctx, task)
	_, res, terr := taskOutcome(task, rec)
	return res, terr
}

// pollFailures is how many polls of a task in a row may fail on the network
// (not with an XAPI error) before the wait gives the task up and cancels it.
const pollFailures = 5

// awaitTask polls until the task has finished and returns its record; it
// does not destroy the task. A poll that fails on the network is repeated,
// since the task goes on in XAPI whatever its waiter does (a snapshot
// abandoned on a blip would stay on the SR, its caller believing it failed);
// after pollFailures such failures in a row the task is cancelled.
func (c *Client) awaitTask(ctx context.Context, task TaskRef) (Task, error) {
	wait := c.opts.pollMin
	failures := 0
	for {
		rec, err := c.TaskRecord(ctx, task)
		var xe *Error
		switch {
		case err != nil && ctx.Err() != nil:
			c.cancelTask(ctx, task)
			return Task{}, ctx.Err()
		case err != nil && (errors.As(err, &xe) || failures+1 >= pollFailures):
			if xe == nil {
				c.cancelTask(ctx, task)
				err = fmt.Errorf("%w (%d polls in a row failed; task cancelled)", err, pollFailures)
			}
			return Task{}, err
		case err != nil:
			failures++
			c.opts.logger.Warn("xapi: polling a task failed; polling again", "task", string(task), "error", err)
		default:
			failures = 0
			if done, _, _ := taskOutcome(task, rec); done {
				return rec, nil
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			c.cancelTask(ctx, task)
			return Task{}, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, c.opts.pollMax)
	}
}

// taskOutcome reports whether the task has finished, and how.
func taskOutcome(task TaskRef, rec Task) (done bool, result string, err error) {
	switch rec.Status {
	case TaskSuccess:
		return true, rec.Result, nil
	case TaskFailure:
		return true, "", newError(rec.ErrorInfo)
	case TaskCancelled:
		e := newError(rec.ErrorInfo)
		if e.Code != CodeTaskCancelled {
			e = &Error{Code: CodeTaskCancelled, Params: []string{string(task)}}
		}
		return true, "", e
	case TaskPending, TaskCancelling:
		return false, "", nil
	default:
		return true, "", fmt.Errorf("task %s: unknown status %q", task, rec.Status)
	}
}

// cleanupTimeout bounds best-effort cleanup calls made after ctx has ended.
const cleanupTimeout = 30 * time.Second

// cancelTask asks XAPI to cancel a task whose waiter gave up; it keeps the
// values of the caller's ctx but not its end (which is why it runs).
func (c *Client) cancelTask(ctx context.Context, task TaskRef) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := c.Call(ctx, "task.cancel", task); err != nil {
		c.opts.logger.Debug("xapi: task.cancel failed", "task", string(task), "error", err)
	}
}

// destroyTask removes a finished task; XAPI would otherwise keep it for an hour.
func (c *Client) destroyTask(ctx context.Context, task TaskRef) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := c.Call(ctx, "task.destroy", task); err != nil && !IsCode(err, CodeHandleInvalid) {
		c.opts.logger.Debug("xapi: task.destroy failed", "task", string(task), "error", err)
	}
}

// CreateTask creates a task (task.create) to pass as task_id to an HTTP
// transfer, so its progress and failure are visible.
func (c *Client) CreateTask(ctx context.Context, label, description string) (TaskRef, error) {
	v, err := c.Call(ctx, "task.create", label, description)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("task.create: result is %s, not a task ref", describeValue(v))
	}
	return TaskRef(s), nil
}

// CancelTask asks XAPI to cancel a task.
func (c *Client) CancelTask(ctx context.Context, task TaskRef) error {
	_, err := c.Call(ctx, "task.cancel", task)
	return err
}

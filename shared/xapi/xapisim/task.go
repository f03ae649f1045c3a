package xapisim

import (
	"context"
	"errors"

	"xbr/shared/xapi/xmlrpc"
)

func (s *Server) taskMethods(r registry) {
	r.add("task.create", 2, func(c *call) (any, error) {
		label, err := c.str(0)
		if err != nil {
			return nil, err
		}
		desc, err := c.str(1)
		if err != nil {
			return nil, err
		}
		return s.newTask(label, desc), nil
	})
	r.add("task.cancel", 1, s.withObj("task", func(c *call, o *object) (any, error) {
		return "", s.cancelTask(o)
	}))
	r.add("task.destroy", 1, s.withObj("task", func(c *call, o *object) (any, error) {
		if o.str("status") == "pending" {
			s.st.putMap(o, "current_operations", "task", "destroy")
			return "", nil
		}
		s.st.del(o)
		return "", nil
	}))
}

// newTask creates a pending task.
func (s *Server) newTask(label, desc string) string {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.add("task", taskRecord(label, desc, s.host, s.now())).ref
}

// startWork marks task cancellable and returns a context the canceller ends.
func (s *Server) startWork(ctx context.Context, task string) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.workers[task] = cancel
	s.mu.Unlock()
	s.st.mu.Lock()
	if o, err := s.st.get("task", task); err == nil {
		s.st.set(o, "allowed_operations", []string{"cancel"})
	}
	s.st.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		delete(s.workers, task)
		s.mu.Unlock()
		cancel()
	}
}

// cancelTask cancels a running worker, or a client-owned pending task at once.
func (s *Server) cancelTask(o *object) error {
	if o.str("status") != "pending" {
		return nil
	}
	s.mu.Lock()
	cancel, running := s.workers[o.ref]
	s.mu.Unlock()
	if running {
		s.st.putMap(o, "current_operations", o.ref, "cancel")
		cancel()
		return nil
	}
	s.finishTask(o, "cancelled", "", []string{"TASK_CANCELLED", o.ref})
	return nil
}

// setProgress updates a running task's progress (0..1).
func (s *Server) setProgress(task string, p float64) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if o, err := s.st.get("task", task); err == nil && o.str("status") == "pending" {
		s.st.set(o, "progress", p)
	}
}

// completeTask ends task with result (an XML-RPC value string, or "").
func (s *Server) completeTask(task, result string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if o, err := s.st.get("task", task); err == nil {
		s.finishTask(o, "success", result, nil)
	}
}

// failTask ends task with err; a cancellation becomes TASK_CANCELLED.
func (s *Server) failTask(task string, err error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	o, gerr := s.st.get("task", task)
	if gerr != nil {
		return
	}
	status, desc := "failure", asFailure(err).Description()
	if errors.Is(err, context.Canceled) || desc[0] == "TASK_CANCELLED" {
		status, desc = "cancelled", []string{"TASK_CANCELLED", task}
	}
	s.finishTask(o, status, "", desc)
}

func (s *Server) finishTask(o *object, status, result string, errInfo []string) {
	if o.str("status") != "pending" {
		return
	}
	if errInfo == nil {
		errInfo = []string{}
	}
	o.rec["status"] = status
	o.rec["result"] = result
	o.rec["error_info"] = errInfo
	o.rec["progress"] = 1.0
	o.rec["finished"] = s.now()
	o.rec["allowed_operations"] = []string{}
	o.rec["current_operations"] = smap{}
	if status != "success" {
		o.rec["backtrace"] = "((backtrace()))"
	}
	s.st.touch(o)
}

// runAsync runs fn in the background under a new task and returns its ref.
func (s *Server) runAsync(c *call, fn handlerFunc) (any, error) {
	task := s.newTask("Async."+c.name, "")
	ctx, done := s.startWork(context.Background(), task)
	c.ctx, c.task = ctx, task
	go func() {
		defer done()
		v, err := fn(c)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err != nil {
			s.failTask(task, err)
			return
		}
		b, merr := xmlrpc.Marshal(v)
		if merr != nil {
			s.failTask(task, merr)
			return
		}
		s.completeTask(task, string(b))
	}()
	return task, nil
}

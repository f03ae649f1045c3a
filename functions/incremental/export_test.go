package incremental

// SetAfterCommit makes the worker run f right after each commit; an error
// ends the attempt there, before any cleanup, as a process killed at that
// moment would.
func SetAfterCommit(d *Deps, f func() error) { d.afterCommit = f }

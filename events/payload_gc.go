package events

// GCCompleted: a scheduled garbage collection (a job of mode gc) of the
// incremental repository on one remote ended; Deferred says it swept
// nothing because backups were writing to the repository.
type GCCompleted struct {
	RunID      string `json:"run_id"`
	Job        string `json:"job"`
	Schedule   string `json:"schedule"`
	Remote     string `json:"remote"`
	Manifests  int64  `json:"manifests"`
	Referenced int64  `json:"chunks_referenced"`
	// ChunksSwept and BytesSwept count the chunks no restore point used,
	// removed.
	ChunksSwept int64 `json:"chunks_swept"`
	BytesSwept  int64 `json:"bytes_swept"`
	Deferred    bool  `json:"deferred"`
	DurationMS  int64 `json:"duration_ms"`
}

func (p GCCompleted) EventType() Type         { return TypeGCCompleted }
func (p GCCompleted) SubjectKeys() []string   { return []string{p.Job, p.Remote} }
func (p GCCompleted) scope() (string, string) { return p.RunID, p.Job }

func (p GCCompleted) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.name("remote", p.Remote)
	c.nonNegative("manifests", p.Manifests)
	c.nonNegative("chunks_referenced", p.Referenced)
	c.nonNegative("chunks_swept", p.ChunksSwept)
	c.nonNegative("bytes_swept", p.BytesSwept)
	c.nonNegative("duration_ms", p.DurationMS)
	return c.err()
}

// GCFailed: a scheduled garbage collection stopped (the repository could not
// be opened, listed or read); what it swept before is counted. The next GC
// resumes: it keeps no state.
type GCFailed struct {
	RunID       string `json:"run_id"`
	Job         string `json:"job"`
	Schedule    string `json:"schedule"`
	Remote      string `json:"remote"`
	Error       string `json:"error"`
	ChunksSwept int64  `json:"chunks_swept,omitempty"`
	BytesSwept  int64  `json:"bytes_swept,omitempty"`
}

func (p GCFailed) EventType() Type         { return TypeGCFailed }
func (p GCFailed) SubjectKeys() []string   { return []string{p.Job, p.Remote} }
func (p GCFailed) scope() (string, string) { return p.RunID, p.Job }

func (p GCFailed) Validate() error {
	c := checker{t: p.EventType()}
	c.runJobSchedule(p.RunID, p.Job, p.Schedule)
	c.name("remote", p.Remote)
	c.errorText("error", p.Error)
	c.nonNegative("chunks_swept", p.ChunksSwept)
	c.nonNegative("bytes_swept", p.BytesSwept)
	return c.err()
}

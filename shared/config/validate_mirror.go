package config

import (
	"fmt"
	"slices"
)

// noPoolsNoVMs refuses pools and a VM selection on a job that works on
// repositories (gc, mirror); whatPools and whatVMs say why.
func noPoolsNoVMs(p *problems, path string, j *Job, whatPools, whatVMs string) {
	if len(j.Pools) > 0 {
		p.add(path+".pools", "a %s job reads no pool (%s)", j.Mode, whatPools)
	}
	if j.VMs.Pool != "" || len(j.VMs.UUIDs) > 0 || len(j.VMs.Tags) > 0 || j.VMs.PowerState != "" {
		p.add(path+".vms", "a %s job selects no VM (%s)", j.Mode, whatVMs)
	}
}

// checkMirror checks a mirror job: a configured source, targets other than
// it, and targets that store chunks as the source does — a mirror copies
// chunks as stored, so the chunk size and the encryption key must be the
// source's (re-chunking or re-encrypting is not done).
func (c *Config) checkMirror(p *problems, path string, j *Job) {
	noPoolsNoVMs(p, path, j, "it copies its source's repository", "it copies every VM of its source")
	if len(j.Remotes) == 0 {
		p.add(path+".remotes", "missing (a mirror job copies to at least one remote)")
	}
	src, ok := c.Remote(j.Source)
	switch {
	case j.Source == "":
		p.add(path+".source", "missing (the remote whose incremental repository a mirror job copies)")
		return
	case !ok:
		p.addValue(path+".source", j.Source, "no remote has this name")
		return
	}
	for i, name := range j.Remotes {
		ip := fmt.Sprintf("%s.remotes[%d]", path, i)
		t, ok := c.Remote(name)
		switch {
		case !ok:
			continue // refs reports it
		case name == j.Source:
			p.addValue(ip, name, "is the mirror's source")
		case effectiveChunkSize(t) != effectiveChunkSize(src):
			p.addValue(ip, name, "chunk_size %s differs from the source's %s: a mirror copies chunks as stored (re-chunking is not supported)",
				effectiveChunkSize(t), effectiveChunkSize(src))
		case t.EncryptionKeyFile != src.EncryptionKeyFile:
			p.addValue(ip, name, "encryption_key_file differs from the source's: a mirror copies chunks encrypted with the source's key, so the target uses the source's key file")
		default:
			if w, ok := c.incrementalWriter(name); ok {
				p.addValue(ip, name, "incremental job %s also writes there: the mirror's retention counts every point of a VM on its targets and would delete that job's points (give one of them another remote)", w)
			} else if m, ok := c.earlierMirror(j.Name, name); ok {
				p.addValue(ip, name, "mirror job %s also copies there: each mirror's retention counts every point of a VM on its targets and would delete the other's copies (give one of them another remote)", m)
			}
		}
	}
	for i, s := range j.Schedules[min(1, len(j.Schedules)):] {
		if f := j.Schedules[0]; s.Retention != f.Retention || s.LongTerm != f.LongTerm {
			p.add(fmt.Sprintf("%s.schedules[%d]", path, i+1), "keeps other than schedule %s (retention and long_term): each run of a mirror decides over every point of a VM on its targets, so its schedules keep the same", f.Name)
		}
	}
}

// earlierMirror is the mirror job listed before job self that copies to remote name.
func (c *Config) earlierMirror(self, name string) (string, bool) {
	for _, j := range c.Jobs {
		if j.Name == self {
			return "", false
		}
		if j.Mode == ModeMirror && slices.Contains(j.Remotes, name) {
			return j.Name, true
		}
	}
	return "", false
}

// incrementalWriter is the first incremental job that writes to remote name.
func (c *Config) incrementalWriter(name string) (string, bool) {
	for _, j := range c.Jobs {
		if j.Mode == ModeIncremental && slices.Contains(j.Remotes, name) {
			return j.Name, true
		}
	}
	return "", false
}

// effectiveChunkSize is a remote's chunk_size, its default when unset.
func effectiveChunkSize(r Remote) ByteSize {
	if r.ChunkSize == 0 {
		return DefaultChunkSize
	}
	return r.ChunkSize
}

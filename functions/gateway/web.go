package gateway

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"

	"xbr/shared/catalog"
	"xbr/shared/restoreclient"
	"xbr/shared/vmname"
)

type remoteLink struct{ Name, URL string }

// home is GET /restore with no query: step 1 (choose a remote) and the recent restores.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	var links []remoteLink
	for _, n := range s.env.Remotes.Names() {
		links = append(links, remoteLink{n, "/restore?" + url.Values{"remote": {n}}.Encode()})
	}
	recent, err := s.recent(r.Context())
	if err != nil {
		reqLog(r).Warn("reading recent restores failed", "err", err)
	}
	s.render(w, r, http.StatusOK, "home", view{Title: "Restore a VM", Data: struct {
		Remotes   []remoteLink
		Recent    []restoreclient.Status
		RecentErr error
	}{links, recent, err}})
}

// wizard is GET /restore: the step named by the query (remote, vm, backup, pool).
func (s *Server) wizard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Has("backup"):
		s.targetStep(w, r, q.Get("backup"), q.Get("pool"))
	case q.Has("remote") && q.Has("vm"):
		s.backupsStep(w, r, q.Get("remote"), q.Get("vm"))
	case q.Has("remote"):
		s.vmsStep(w, r, q.Get("remote"))
	default:
		s.home(w, r) // the wizard's first step: choose a remote
	}
}

func (s *Server) checkRemote(name string) error {
	if err := catalog.ValidateRemoteName(name); err != nil {
		return badField("remote", name, err.Error())
	}
	if !slices.Contains(s.env.Remotes.Names(), name) {
		return missing("remote", name, "is not configured")
	}
	return nil
}

type vmRow struct {
	UUID, Name, URL string
	Count           int
	Newest          catalog.Backup
}

func (s *Server) vmsStep(w http.ResponseWriter, r *http.Request, remoteName string) {
	if err := s.checkRemote(remoteName); err != nil {
		s.errorPage(w, r, err)
		return
	}
	l, err := restoreclient.List(r.Context(), s.env.Remotes, s.repos(), restoreclient.Query{Remote: remoteName})
	if err != nil {
		s.errorPage(w, r, upstream(err))
		return
	}
	rows := map[string]*vmRow{}
	var order []*vmRow
	for _, b := range l.Backups { // newest first: the first seen is the newest
		if rows[b.VMUUID] == nil {
			rows[b.VMUUID] = &vmRow{UUID: b.VMUUID, Name: b.VMName, Newest: b,
				URL: "/restore?" + url.Values{"remote": {remoteName}, "vm": {b.VMUUID}}.Encode()}
			order = append(order, rows[b.VMUUID])
		}
		rows[b.VMUUID].Count++
	}
	slices.SortFunc(order, func(a, b *vmRow) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.UUID, b.UUID)) })
	s.render(w, r, http.StatusOK, "vms", view{Title: "VMs backed up on " + remoteName,
		Crumbs: []crumb{{"Restore", "/restore"}, {"Remote " + remoteName, ""}},
		Data: struct {
			Remote   string
			VMs      []*vmRow
			Problems []string
		}{remoteName, order, l.Problems}})
}

func (s *Server) backupsStep(w http.ResponseWriter, r *http.Request, remoteName, vm string) {
	if err := s.checkRemote(remoteName); err != nil {
		s.errorPage(w, r, err)
		return
	}
	if err := vmname.Check(vm); err != nil { // a uuid or a name (vmname.Resolve)
		s.errorPage(w, r, badField("vm", vm, err.Error()))
		return
	}
	l, err := s.listingOf(r.Context(), vm, remoteName)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	bs := l.Backups
	s.markHealth(r.Context(), bs)
	name := vm
	if len(bs) > 0 && bs[0].VMName != "" {
		name = bs[0].VMName
	}
	s.render(w, r, http.StatusOK, "backups", view{Title: "Backups of " + name,
		Crumbs: []crumb{{"Restore", "/restore"}, {"Remote " + remoteName, "/restore?" + url.Values{"remote": {remoteName}}.Encode()},
			{"VM " + name, ""}},
		Data: struct {
			Remote, VM, Name string
			Backups          []catalog.Backup
			Problems         []string // what could not be read may hold a newer backup
		}{remoteName, vm, name, bs, l.Problems}})
}

type targetData struct {
	Backup catalog.Backup
	Pools  []string
	Pool   string
	SRs    []srChoice
	Nonce  string
}

func (s *Server) targetStep(w http.ResponseWriter, r *http.Request, backupID, pool string) {
	id, err := catalog.ParseID(backupID)
	if err != nil {
		s.errorPage(w, r, badField("backup", backupID, idProblem(err)))
		return
	}
	b, err := s.backupByID(r.Context(), "backup", id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	d := targetData{Backup: b, Pools: s.env.Pools.Names(), Nonce: s.forms.Issue(restoreAction, userOf(r))}
	if pool != "" || len(d.Pools) == 1 {
		if d.Pool, err = s.pickPool(pool); err != nil {
			s.errorPage(w, r, err)
			return
		}
		if d.SRs, err = s.listSRs(r.Context(), d.Pool); err != nil {
			s.errorPage(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "target", view{Title: "Restore " + b.VMName,
		Crumbs: []crumb{{"Restore", "/restore"}, {"Remote " + b.Remote, "/restore?" + url.Values{"remote": {b.Remote}}.Encode()},
			{"VM " + b.VMName, "/restore?" + url.Values{"remote": {b.Remote}, "vm": {b.VMUUID}}.Encode()},
			{"Backup " + humanTime(b.Timestamp), ""}},
		Data: d})
}

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

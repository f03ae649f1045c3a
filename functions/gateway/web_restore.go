package gateway

import (
	"net/http"
	"net/url"

	"xbr/shared/catalog"
	"xbr/shared/restoreclient"
)

// restoreAction is where the restore form is posted (its tokens name it).
const restoreAction = "/restore"

// renamedParam on a status page's URL says the restore was accepted with a
// distinct VM name, because the asked one was taken.
const renamedParam = "renamed"

// webUser is who asked through the page: "web", or "web:<user>" with a login.
func webUser(r *http.Request) string {
	if u := userOf(r); u != "" {
		return "web:" + u
	}
	return "web"
}

// submitRestore is POST /restore, the form of the last step. It answers with
// a redirect to the restore's status page.
func (s *Server) submitRestore(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.errorPage(w, r, badField("form", "", err.Error()))
		return
	}
	t, nonce, err := s.formTarget(r, form)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	// The form's nonce makes a double submission the same request.
	a, err := s.request(r.Context(), t, webUser(r), "web:"+nonce)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	to := "/restores/" + a.Request.RequestID
	if len(a.Warnings) > 0 {
		to += "?" + renamedParam + "=1" // the status page says why the VM has another name
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) formTarget(r *http.Request, form url.Values) (target, string, error) {
	nonce, err := s.forms.Check(form.Get("nonce"), restoreAction, userOf(r))
	if err != nil {
		return target{}, "", err
	}
	id, err := catalog.ParseID(form.Get("backup"))
	if err != nil {
		return target{}, "", badField("backup", form.Get("backup"), idProblem(err))
	}
	t := target{name: form.Get("name"), start: form.Get("start") == "on"}
	if err := checkText("name", t.name); err != nil {
		return target{}, "", err
	}
	if t.backup, err = s.backupByID(r.Context(), "backup", id); err != nil {
		return target{}, "", err
	}
	if t.pool, err = s.pickPool(form.Get("pool")); err != nil {
		return target{}, "", err
	}
	if t.sr, err = s.resolveSR(r.Context(), t.pool, form.Get("sr")); err != nil {
		return target{}, "", err
	}
	return t, nonce, nil
}

// statusPage is GET /restores/{id}.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	data := struct {
		restoreclient.Status
		Renamed bool
	}{st, r.URL.Query().Get(renamedParam) == "1" && st.Name != ""}
	s.render(w, r, http.StatusOK, "status", view{Title: "Restore " + string(st.State),
		Crumbs: []crumb{{"Restore", "/restore"}, {"Restore " + st.RequestID, ""}}, Data: data, Refresh: !st.Done()})
}

// statusJSON is GET /restores/{id}/status, what the status page polls. It
// tells no more than the page itself.
func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) {
	st, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

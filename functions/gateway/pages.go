package gateway

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed templates/*.html static/*
var assets embed.FS

// pages are the parsed templates, one per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"bytes":    HumanBytes,
	"time":     humanTime,
	"zoned":    zonedTime,
	"iso":      isoTime,
	"codec":    codecLabel,
	"dash":     orDash,
	"duration": duration,
	"mul10":    func(x float64) float64 { return x * 10 }, // percent to the timeline's 1000 units
}

func parsePages() (*pages, error) {
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "part_") { // part_*: shared blocks
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/part_*.html", f)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// crumb is one step of the breadcrumb trail.
type crumb struct {
	Label, URL string
}

// view is what every page gets.
type view struct {
	Title  string
	Crumbs []crumb
	Data   any
	// Refresh: the page is a live status (a script polls; without script, a meta refresh).
	Refresh bool
}

// render writes page name with data, buffered so a template error is a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, v view) {
	t, ok := s.pages.byName[name]
	var buf bytes.Buffer
	err := fmt.Errorf("no page %q", name)
	if ok {
		err = t.ExecuteTemplate(&buf, "layout", v)
	}
	if err != nil {
		reqLog(r).Error("rendering a page failed", "page", name, "err", err)
		http.Error(w, "internal error (request "+w.Header().Get("X-Request-Id")+")", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// errorPage renders err with its status.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	code := errorStatus(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		msg = "internal error (request " + w.Header().Get("X-Request-Id") + ")"
	}
	reqLog(r).Warn("page refused", "status", code, "err", err)
	s.render(w, r, code, "error", view{Title: http.StatusText(code), Crumbs: []crumb{{"Restore", "/restore"}},
		Data: struct {
			Code    int
			Message string
		}{code, msg}})
}

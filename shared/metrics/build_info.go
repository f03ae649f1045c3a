package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// WithBuildInfo adds xbr_build_info{version,go_version} = 1, the
// Prometheus convention for telling which build a target runs (join it on
// instance to see a fleet's versions during an upgrade). It returns m.
func (m *Metrics) WithBuildInfo(version string) *Metrics {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "xbr", Name: "build_info",
		Help: "Always 1; the labels name the running build."}, []string{"version", "go_version"})
	g.WithLabelValues(version, runtime.Version()).Set(1)
	m.reg.MustRegister(g)
	return m
}

package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"xbr/events"
)

// ProtectionSource computes every VM's protection now (shared/protection
// over the pools, the config and the history).
type ProtectionSource func(ctx context.Context) ([]events.ProtectionVM, error)

// protectionTimeout bounds one scrape's computation (the pools' VM lists
// are cached, so it is usually instant): well under Prometheus' default
// 10 s scrape timeout, so an unreachable pool costs these gauges, not the
// whole scrape.
const protectionTimeout = 4 * time.Second

var (
	vmLastSuccessDesc = prometheus.NewDesc("xbr_vm_last_success_timestamp_seconds",
		"Unix time of the VM's newest good copy by the job, per kind (backup, replica, snapshot).",
		[]string{"pool", "vm", "job", "kind"}, nil)
	vmStateDesc = prometheus.NewDesc("xbr_vm_protection_state",
		"1 for the VM's protection state ("+strings.Join(events.ProtectionStates(), ", ")+"), 0 for the others; vm is its UUID.",
		[]string{"pool", "vm", "state"}, nil)
)

// AddProtection adds the per-VM protection gauges, computed by src at every
// scrape: a VM becomes late with the clock, not with an event. A failed
// computation exports none of them for that scrape (the alert rules in
// docs/operations.md use absent() for that).
func (m *Metrics) AddProtection(src ProtectionSource) {
	m.reg.MustRegister(protectionCollector{src: src})
}

type protectionCollector struct{ src ProtectionSource }

func (c protectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- vmLastSuccessDesc
	ch <- vmStateDesc
}

func (c protectionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), protectionTimeout)
	defer cancel()
	vms, err := c.src(ctx)
	if err != nil {
		return
	}
	for _, v := range vms {
		for _, s := range events.ProtectionStates() {
			ch <- prometheus.MustNewConstMetric(vmStateDesc, prometheus.GaugeValue, b2f(s == v.State), v.Pool, v.UUID, s)
		}
		for _, l := range v.Last {
			ch <- prometheus.MustNewConstMetric(vmLastSuccessDesc, prometheus.GaugeValue,
				float64(l.At.UnixMilli())/1000, v.Pool, v.UUID, l.Job, l.Kind)
		}
	}
}

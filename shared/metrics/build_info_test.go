package metrics_test

import (
	"runtime"
	"testing"

	"xbr/shared/metrics"
)

func TestBuildInfo(t *testing.T) {
	m := metrics.New(nil).WithBuildInfo("v1.2.3-4-gabcdef")
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "xbr_build_info" {
			continue
		}
		if len(f.GetMetric()) != 1 {
			t.Fatalf("xbr_build_info has %d series, want 1", len(f.GetMetric()))
		}
		s := f.GetMetric()[0]
		labels := map[string]string{}
		for _, l := range s.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["version"] != "v1.2.3-4-gabcdef" || labels["go_version"] != runtime.Version() || s.GetGauge().GetValue() != 1 {
			t.Errorf("xbr_build_info = %v %v, want version v1.2.3-4-gabcdef, go_version %s, value 1", labels, s.GetGauge().GetValue(), runtime.Version())
		}
		return
	}
	t.Fatal("no xbr_build_info metric")
}

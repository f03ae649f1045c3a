package config

// applyDefaults fills zero values with their defaults.
func (c *Config) applyDefaults() {
	n := &c.NATS
	n.Listen = or(n.Listen, DefaultNATSListen)
	n.Prefix = or(n.Prefix, DefaultPrefix)
	n.StreamReplicas = or(n.StreamReplicas, DefaultStreamReplicas)
	n.EventsMaxAge = or(n.EventsMaxAge, DefaultEventsMaxAge)
	n.DuplicateWindow = or(n.DuplicateWindow, min(DefaultDuplicateWindow, n.EventsMaxAge))
	c.Gateway.Listen = or(c.Gateway.Listen, DefaultGatewayListen)
	if c.Gateway.ChatResponseHosts == nil {
		c.Gateway.ChatResponseHosts = DefaultChatResponseHosts()
	}
	c.DataDir = or(c.DataDir, DefaultDataDir)
	c.CatchUp = or(c.CatchUp, DefaultCatchUp)
	c.Reports.Daily.applyDefaults()
	for i := range c.Pools {
		c.Pools[i].StallTimeout = or(c.Pools[i].StallTimeout, DefaultStallTimeout)
	}
	for i := range c.Jobs {
		j := &c.Jobs[i]
		j.Mode = or(j.Mode, ModeFull)
		if j.Mode == ModeIncremental {
			// chunks are always zstd: compression fields stay empty, so
			// checkIncremental can refuse the ones that are set.
			j.CBT = or(j.CBT, CBTEnable)
		} else {
			j.XAPICompression = or(j.XAPICompression, CodecNone)
			if j.XAPICompression == CodecNone {
				j.Compression = or(j.Compression, CodecGzip)
			}
			j.Compression = or(j.Compression, CodecNone) // XAPI compresses
		}
		j.Concurrency = or(j.Concurrency, DefaultConcurrency)
		j.RetryBackoff = or(j.RetryBackoff, DefaultRetryBackoff)
		j.OnOverlap = or(j.OnOverlap, OverlapSkip)
		j.ReportWhen = or(j.ReportWhen, ReportFailure)
		for k := range j.Schedules {
			j.Schedules[k].Timezone = or(j.Schedules[k].Timezone, DefaultTimezone)
		}
	}
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

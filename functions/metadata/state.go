package metadata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/fn"
)

// stateBuckets are the KV buckets kept in xbr-state.json: the timer's last
// fires and the runs' locks and records.
var stateBuckets = []string{events.BucketTimer, events.BucketRuns}

// EnvState writes env's state: {"xbr_version", "config_yaml" (secrets
// written as "***"), "kv": {bucket: {key: value}}, "streams": [config]}.
// Values are streamed one at a time; a KV value that is JSON is kept as
// JSON, another as a string.
func EnvState(env *fn.Env) StateWriter {
	return func(ctx context.Context, w io.Writer) error {
		cfg, err := env.Config.RedactedYAML()
		if err != nil {
			return err
		}
		if err := writeJSONPrefix(w, env.Version, cfg); err != nil {
			return err
		}
		for i, b := range stateBuckets {
			if err := writeBucket(ctx, w, env.Conn.JetStream(), b, i == 0); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(w, `},"streams":[`); err != nil {
			return err
		}
		if err := writeStreams(ctx, w, env.Conn.JetStream(), env.Streams.WithDefaults()); err != nil {
			return err
		}
		_, err = io.WriteString(w, "]}\n")
		return err
	}
}

func writeJSONPrefix(w io.Writer, version string, cfg []byte) error {
	v, _ := json.Marshal(version)
	c, _ := json.Marshal(string(cfg))
	_, err := fmt.Fprintf(w, `{"xbr_version":%s,"config_yaml":%s,"kv":{`, v, c)
	return err
}

// writeBucket writes one bucket as "name":{...}; a bucket that does not
// exist yet is written empty.
func writeBucket(ctx context.Context, w io.Writer, js jetstream.JetStream, bucket string, first bool) error {
	sep := ","
	if first {
		sep = ""
	}
	name, _ := json.Marshal(bucket)
	if _, err := fmt.Fprintf(w, "%s%s:{", sep, name); err != nil {
		return err
	}
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		_, err = io.WriteString(w, "}")
		return err
	}
	if err != nil {
		return fmt.Errorf("kv %s: %w", bucket, err)
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("kv %s: %w", bucket, err)
	}
	defer func() { _ = lister.Stop() }()
	n := 0
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("kv %s key %s: %w", bucket, key, err)
		}
		if err := writeEntry(w, key, e.Value(), n == 0); err != nil {
			return err
		}
		n++
	}
	_, err = io.WriteString(w, "}")
	return err
}

func writeEntry(w io.Writer, key string, value []byte, first bool) error {
	k, _ := json.Marshal(key)
	v := value
	if !json.Valid(v) {
		v, _ = json.Marshal(string(value))
	}
	sep := ","
	if first {
		sep = ""
	}
	_, err := fmt.Fprintf(w, "%s%s:%s", sep, k, v)
	return err
}

// writeStreams writes the configuration of xbr's streams that exist.
func writeStreams(ctx context.Context, w io.Writer, js jetstream.JetStream, names events.StreamNames) error {
	n := 0
	for _, name := range []string{names.Events, names.Progress} {
		s, err := js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
		b, err := json.Marshal(s.CachedInfo().Config)
		if err != nil {
			return err
		}
		if n > 0 {
			b = append([]byte(","), b...)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		n++
	}
	return nil
}

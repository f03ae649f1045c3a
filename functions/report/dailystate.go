package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/shared/bus"
)

// dailyState is the value at DailyKey. Checked is written as the timer
// writes its own; a value without a claim (all before claims existed) is
// read as one that no replica is sending.
type dailyState struct {
	Checked time.Time   `json:"checked"`
	Claim   *dailyClaim `json:"claim,omitempty"`
}

// dailyClaim says that Replica is sending the report of Fire, as of At
// (its clock, renewed at each of its attempts).
type dailyClaim struct {
	Fire    time.Time `json:"fire"`
	At      time.Time `json:"at"`
	Replica string    `json:"replica"`
}

// errRaced: another replica changed the state since it was read.
var errRaced = bus.ErrKVChanged

func ignoreRace(err error) error {
	if errors.Is(err, errRaced) {
		return nil
	}
	return err
}

func loadState(ctx context.Context, kv jetstream.KeyValue) (dailyState, uint64, error) {
	e, err := kv.Get(ctx, DailyKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return dailyState{}, 0, nil
	}
	if err != nil {
		return dailyState{}, 0, fmt.Errorf("daily report: read state %s: %w", DailyKey, err)
	}
	var s dailyState
	if json.Unmarshal(e.Value(), &s) != nil {
		return dailyState{}, e.Revision(), nil // unreadable: start over
	}
	return s, e.Revision(), nil
}

// storeState writes s with compare-and-set on rev (0: the key is new) and
// returns the new revision, or errRaced when another replica wrote first.
func storeState(ctx context.Context, kv jetstream.KeyValue, s dailyState, rev uint64) (uint64, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return 0, fmt.Errorf("daily report: state %s: %w", DailyKey, err)
	}
	rev, err = bus.PutIfRevision(ctx, kv, DailyKey, data, rev)
	if err != nil && !errors.Is(err, errRaced) {
		return 0, fmt.Errorf("daily report: store state %s: %w", DailyKey, err)
	}
	return rev, err
}

package delivery

import (
	"context"
	"time"

	"github.com/hookline/hookline/backoff"
	"github.com/hookline/hookline/model"
)

// recordBatch is the most attempts written in one transaction.
const recordBatch = 256

// recordRetries bounds how long the recorder keeps trying to write a batch
// through a database outage; after that the leases bring the deliveries back.
const recordRetries = 5 * time.Second

// recordLoop writes attempt records in batches until records is closed:
// whatever has arrived while the previous batch was being written goes into
// the next transaction (group commit), so a busy engine makes one write to
// the database for many attempts and an idle one waits for none.
func (e *Engine) recordLoop(records <-chan model.AttemptRecord) {
	batch := make([]model.AttemptRecord, 0, recordBatch)
	for first := range records {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < recordBatch {
			select {
			case rec, ok := <-records:
				if !ok {
					break fill
				}
				batch = append(batch, rec)
			default:
				break fill
			}
		}
		e.flush(batch)
	}
}

// flush records a batch, retrying with backoff through a short outage, so
// that deliveries already made are not sent again when the database returns;
// then it counts them and schedules the retries.
func (e *Engine) flush(batch []model.AttemptRecord) {
	ctx := context.Background()
	deadline := time.Now().Add(recordRetries)
	var (
		recorded *model.Recorded
		err      error
	)
	for try := 1; ; try++ {
		recorded, err = e.store.RecordAttempts(ctx, batch)
		if err == nil {
			break
		}
		wait := backoff.Exponential(try, 100*time.Millisecond, recordRetries)
		if time.Now().Add(wait).After(deadline) {
			// The leases run out and the deliveries are tried again: at least once.
			e.log.Error("record attempts", "attempts", len(batch), "err", err)
			return
		}
		e.log.Warn("record attempts, retrying", "attempts", len(batch), "retry_in", wait, "err", err)
		time.Sleep(wait)
	}
	e.observe(ctx, batch, recorded)
	for _, rec := range batch {
		if t := rec.NextAttemptAt; t != nil {
			time.AfterFunc(time.Until(*t), e.Wake)
		}
	}
}
